"""Configuration: config.yaml, overridden key by key from the environment.

`ZHIBU_CONFIG` names the file (default ./config.yaml; a missing file means
"defaults only"). Any key can be set as ZHIBU_<SECTION>__<KEY>, e.g.
ZHIBU_DATABASE__URL or ZHIBU_WECOM__CORP_ID. A bad value stops start-up with
one line naming the key (ConfigError); secret values never appear in it.
"""
from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

ENV_PREFIX = "ZHIBU_"
SECRET_KEYS = {"wecom.secret", "wecom.token", "wecom.encoding_aes_key",
               "aibot.token", "aibot.encoding_aes_key", "aibot.secret", "dashboard.secret_key"}
# Keys of earlier versions that are gone: naming one stops start-up with what to do instead.
REMOVED_KEYS = {"dashboard.password": "工作台已改为个人账号登录：请删除 dashboard.password，"
                                      "用 python -m bot add-admin 企业微信账号 开通账号（见 README 升级说明）"}


class ConfigError(Exception):
    """A configuration problem an operator can fix; str() is one line."""


def _url(v: Any) -> str:
    s = str(v)
    if "://" not in s:
        raise ValueError("应为数据库 URL，如 sqlite:///data/zhibu.db")
    return s


def _port(v: Any) -> int:
    n = int(v)
    if not 0 < n < 65536:
        raise ValueError("端口应在 1–65535")
    return n


def _hhmm(v: Any) -> str:
    s = str(v)
    m = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", s)
    if not m:
        raise ValueError("应为 HH:MM")
    if m.group(2) in ("00", "30"):
        raise ValueError("企业微信要求避开整点和半点（:00 / :30）")
    return f"{int(m.group(1)):02d}:{m.group(2)}"


def _clock_time(v: Any) -> str:
    s = str(v)
    if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", s):
        raise ValueError("应为 HH:MM")
    return s.zfill(5)


def _tz(v: Any) -> str:
    try:
        ZoneInfo(str(v))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("未知时区") from None
    return str(v)


def _aes_key(v: Any) -> str:
    s = str(v)
    if s and not re.fullmatch(r"[A-Za-z0-9+/]{43}", s):
        raise ValueError("EncodingAESKey 应为 43 位字母数字")
    return s


def _aibot_mode(v: Any) -> str:
    s = str(v).strip().lower()
    if s not in ("callback", "long_connection"):
        raise ValueError("应为 callback 或 long_connection")
    return s


def _ws_url(v: Any) -> str:
    s = str(v or "").strip()
    if not re.fullmatch(r"wss?://\S+", s):
        raise ValueError("应为 wss:// 或 ws:// 开头的地址")
    return s


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    if s in ("1", "true", "yes", "on"):
        return True
    if s in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("应为 true 或 false")


def _networks(v: Any) -> str:
    """A comma list of addresses or networks (10.0.0.0/8, 127.0.0.1); empty: any."""
    s = str(v or "").strip()
    for part in filter(None, (p.strip() for p in s.split(","))):
        try:
            ipaddress.ip_network(part, strict=False)
        except ValueError:
            raise ValueError(f"“{part}”不是 IP 地址或网段") from None
    return s


def _answer_within(v: Any) -> float:
    n = float(v)
    if not 0.1 <= n <= 4.5:
        raise ValueError("应在 0.1–4.5 秒之间（企业微信 5 秒后重发）")
    return n


def _url_or_empty(v: Any) -> str:
    s = str(v or "").strip()
    if s and not re.fullmatch(r"https?://\S+", s):
        raise ValueError("应为 http:// 或 https:// 开头的网址")
    return s.rstrip("/")


def _minutes(v: Any) -> int:
    n = int(v)
    if not 5 <= n <= 24 * 60:
        raise ValueError("应在 5–1440 分钟之间")
    return n


def _hops(v: Any) -> int:
    n = int(v)
    if not 0 <= n <= 5:
        raise ValueError("应在 0–5 之间")
    return n


def _int(v: Any) -> int:
    return int(v)


def _positive(v: Any) -> int:
    n = int(v)
    if n < 1:
        raise ValueError("应为正整数")
    return n


def _host_id(v: Any) -> str:
    """This host's name in lease holders and delivery claims ("host:pid:…"):
    unique per host sharing the database. Default: the hostname, shortened
    (with a hash of the whole) to fit the claim column."""
    s = str(v or "").strip()
    if not s:
        name = socket.gethostname() or "localhost"
        name = re.sub(r"[^A-Za-z0-9._-]", "-", name)
        return name if len(name) <= 40 else f"{name[:31]}-{hashlib.sha1(name.encode()).hexdigest()[:8]}"
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,40}", s):
        raise ValueError("应为 1–40 个字母、数字、点、下划线或连字符")
    return s


def _lease_seconds(v: Any) -> int:
    n = int(v)
    if not 3 <= n <= 3600:
        raise ValueError("应在 3–3600 秒之间")
    return n


def _users(v: Any) -> tuple[str, ...]:
    """WeCom ids as a YAML list or a comma list; "all" for everyone."""
    items = v if isinstance(v, (list, tuple)) else str(v or "").replace("，", ",").split(",")
    users = tuple(str(u).strip() for u in items if str(u).strip())
    if any(len(u) > 64 for u in users):
        raise ValueError("企业微信账号最长 64 个字符")
    return users


def _cards(v: Any) -> str:
    """auto, or an explicit true / false."""
    if str(v).strip().lower() == "auto":
        return "auto"
    return "true" if _bool(v) else "false"


def app_cards(config: "Config") -> tuple[bool, str]:
    """Whether personal reminders and chases go as template cards through the
    app, and why. A card's clicks reach us only at the app's callback
    (/wecom/callback), which WeCom must be able to reach from the internet
    and which needs the app's Token and EncodingAESKey: without it a card's
    buttons would do nothing, so its text version (with 收到 N / 完成 N /
    延期 N 7天) goes instead. `wecom.cards: auto` takes the long connection
    (chosen where there is no public address) or a missing Token as that
    sign; true / false say it outright."""
    setting = config["wecom.cards"]
    if setting == "false":
        return False, "wecom.cards 为 false：提醒和催办发文字版"
    callback = bool(config["wecom.token"] and config["wecom.encoding_aes_key"])
    if setting == "true":
        return True, ("wecom.cards 为 true：提醒和催办发卡片（点击经应用回调 /wecom/callback 送达）" if callback else
                      "wecom.cards 为 true，但未配置应用回调的 Token / EncodingAESKey：卡片的按钮将无效")
    if not callback:
        return False, "未配置应用回调（wecom.token / encoding_aes_key）：卡片点击无法送达，提醒和催办发文字版"
    if config["aibot.mode"] == "long_connection":
        return False, ("长连接模式（无公网地址）：企业微信到不了应用回调 /wecom/callback，卡片点击无法送达，"
                       "提醒和催办发文字版；若该地址可从公网访问，设 wecom.cards: true")
    return True, "应用回调已配置：提醒和催办发卡片（收到 / 已完成 / 申请延期）"


def _share(v: Any) -> float:
    """0.2, or "20%"."""
    s = str(v).strip()
    share = float(s[:-1]) / 100 if s.endswith("%") else float(s)
    if not 0 <= share <= 1:
        raise ValueError("应在 0–1 之间（或 0%–100%）")
    return share


# section.key -> (default, converter)
SCHEMA: dict[str, tuple[Any, Callable[[Any], Any]]] = {
    "database.url": ("sqlite:///data/zhibu.db", _url),
    "wecom.corp_id": ("", str),
    "wecom.agent_id": (0, _int),
    "wecom.secret": ("", str),
    "wecom.token": ("", str),
    "wecom.encoding_aes_key": ("", _aes_key),
    "wecom.api_base": ("https://qyapi.weixin.qq.com/cgi-bin/", str),
    "wecom.timeout": (10, _int),
    "wecom.oauth_url": ("https://open.weixin.qq.com/connect/oauth2/authorize", _url_or_empty),
    "wecom.sso_url": ("https://login.work.weixin.qq.com/wwlogin/sso/login", _url_or_empty),
    # who follows the app through the WeChat plugin (微信插件): text, no cards or markdown
    "wecom.plain_text_users": ((), _users),
    # template cards to people through the app: auto / true / false (app_cards above)
    "wecom.cards": ("auto", _cards),
    "aibot.token": ("", str),
    "aibot.encoding_aes_key": ("", _aes_key),
    "aibot.name": ("支部通", str),  # the bot's name(s) in groups, comma-separated: @-mentions of it are removed
    # callback: WeCom posts to /wecom/aibot (needs a public URL); long_connection:
    # the scheduler process opens a WebSocket to WeCom (doc 101463), for intranets.
    "aibot.mode": ("callback", _aibot_mode),
    "aibot.bot_id": ("", str),
    "aibot.secret": ("", str),
    "aibot.ws_url": ("wss://openws.work.weixin.qq.com", _ws_url),
    "server.host": ("127.0.0.1", str),
    "server.port": (8080, _port),
    # seconds a callback waits for its answer before the answer goes as a message
    "server.answer_within": (1.5, _answer_within),
    "server.workers": (2, _int),
    "server.threads": (8, _positive),
    "server.read_timeout": (10, _positive),
    "server.media_dir": ("data/media", str),
    "server.host_id": ("", _host_id),
    "server.proxy_hops": (0, _hops),
    "scheduler.enabled": (True, _bool),
    "scheduler.timezone": ("Asia/Shanghai", _tz),
    "scheduler.monthly_push_time": ("09:05", _hhmm),
    "scheduler.quiet_start": ("21:00", _clock_time),
    "scheduler.quiet_end": ("08:00", _clock_time),
    "scheduler.lease_seconds": (30, _lease_seconds),
    "dashboard.session_minutes": (30, _minutes),
    "dashboard.secure_cookie": (False, _bool),
    "dashboard.secret_key": ("", str),
    "dashboard.public_url": ("", _url_or_empty),
    "dashboard.wecom_login": (True, _bool),
    "metrics.allow": ("", _networks),
    # import-roster refuses to deactivate more than this share of the active
    # members or organisations, unless --allow-mass-deactivate is given.
    "roster.max_deactivate_share": (0.2, _share),
    "log.level": ("INFO", str),
    # Points (积分, issue 12), from the records: storage/points.py.
    "points.meeting": (2, _int),
    "points.theme_day": (2, _int),
    "points.checkin_month": (1, _int),
    "points.volunteer_hour": (1, _int),
    "points.volunteer_cap": (10, _int),
    "points.study": (1, _int),
    "points.absent": (-1, _int),
    # 锋领考评 (the quarter's radar, issue 12): storage/radar.py, stated in the export's notes.
    "radar.study_days": (6, _positive),
    "radar.volunteer_hours": (8, _positive),
    "radar.no_meeting": (100, _int),
    "log.json": (False, _bool),
}


@dataclass(frozen=True)
class Config:
    values: dict[str, Any]
    source: str

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def redacted(self) -> dict[str, Any]:
        """The values safe to print or log."""
        return {k: ("***" if k in SECRET_KEYS and v else v)
                for k, v in self.values.items()}


def _flatten(doc: dict, where: str) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for section, body in (doc or {}).items():
        if not isinstance(body, dict):
            raise ConfigError(f"{where}: “{section}” 应为一节（section），不是单个值")
        for key, value in body.items():
            flat[f"{section}.{key}"] = value
    return flat


def _from_env(environ: dict[str, str]) -> dict[str, Any]:
    flat = {}
    for name, value in environ.items():
        if name.startswith(ENV_PREFIX) and "__" in name and name != "ZHIBU_CONFIG":
            section, key = name[len(ENV_PREFIX):].lower().split("__", 1)
            flat[f"{section}.{key}"] = value
    return flat


def load_config(path: str | None = None, environ: dict[str, str] | None = None,
                overrides: dict[str, Any] | None = None, use_file: bool = True) -> Config:
    """File < environment < explicit overrides (used by tests and the demo)."""
    environ = dict(os.environ if environ is None else environ)
    path = path or environ.get("ZHIBU_CONFIG") or "config.yaml"
    raw: dict[str, Any] = {}
    if not use_file:
        path = "(no file)"
    elif Path(path).exists():
        try:
            raw.update(_flatten(yaml.safe_load(Path(path).read_text("utf-8")), path))
        except yaml.YAMLError as e:
            line = getattr(getattr(e, "problem_mark", None), "line", -1) + 1
            raise ConfigError(f"{path}: YAML 格式错误（第 {line} 行）") from None
    elif "ZHIBU_CONFIG" in environ or path != "config.yaml":
        raise ConfigError(f"配置文件不存在：{path}")
    raw.update(_from_env(environ))
    raw.update(overrides or {})
    removed = sorted(set(raw) & set(REMOVED_KEYS))
    if removed:
        raise ConfigError(f"配置项 {removed[0]} 已取消：{REMOVED_KEYS[removed[0]]}")
    unknown = sorted(set(raw) - set(SCHEMA))
    if unknown:
        raise ConfigError(f"未知配置项 {unknown[0]}（见 config.example.yaml）")
    values = {}
    for key, (default, convert) in SCHEMA.items():
        value = raw.get(key, default)
        try:
            values[key] = convert(value)
        except (ValueError, TypeError) as e:
            shown = "" if key in SECRET_KEYS else f"“{value}”"
            raise ConfigError(f"配置项 {key} 无效{shown}：{e}") from None
    if values["aibot.mode"] == "long_connection":
        missing = [k for k in ("aibot.bot_id", "aibot.secret") if not values[k]]
        if missing:  # it would only subscribe to be refused, again and again
            raise ConfigError(f"配置项 {missing[0]} 缺失：aibot.mode 为 long_connection 时须填智能机器人的 "
                              "Bot ID 和 Secret（管理后台 → 智能机器人 → API 模式 → 使用长连接）")
    return Config(values, path)


def require(config: Config, *keys: str) -> None:
    """Stop a command that needs these keys when they are empty."""
    for key in keys:
        if not config[key]:
            raise ConfigError(f"缺少配置项 {key}（在 config.yaml 或环境变量 "
                              f"{ENV_PREFIX}{key.replace('.', '__').upper()} 中设置）")
