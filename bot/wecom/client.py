"""The one WeCom API client. Every send either returns or raises
SendError(message, permanent): permanent errors (bad robot key, invalid
user, bad secret, an untrusted IP) are not retried; transient ones (-1,
45009, 45033, HTTP 5xx, network, a timeout, and anything that is not
WeCom's JSON — an HTML error page from a proxy, a wrong api_base) are
retried here a few times with backoff and jitter, and after that by the
delivery worker. Nothing that is not WeCom's own `errcode: 0` counts as
sent; the only non-JSON answer accepted is a file from a download.

The access token lives in the database, shared by every process: fetched
once under a lease, refreshed before expiry and when WeCom says it is
invalid (40014 / 42001 / 42007 / 42009). wechatpy's client keeps tokens
per process (MemoryStorage) and its gettoken call has no timeout, so it is
not used for sending."""
from __future__ import annotations

import json
import logging
import random
import threading
import time
from datetime import timedelta
from typing import Any, Callable
from urllib.parse import unquote, urlsplit

import requests
from requests.adapters import HTTPAdapter

from bot.runtime import Runtime
from sqlalchemy.exc import OperationalError

from storage.db import transaction
from storage.leases import holder_name, release, store_token, stored_token, try_acquire

log = logging.getLogger(__name__)
# urllib3 logs every request line at DEBUG, and ours carry corpsecret or
# access_token in the query: keep it quiet whatever the root level is.
logging.getLogger("urllib3").setLevel(logging.INFO)
TOKEN_ERRORS = {40014, 42001, 42007, 42009}
BUSY = -1
RATE_LIMITED = {45009, 45033}
TOO_LONG = 40058
REFRESH_MARGIN = timedelta(minutes=5)
TRIES = 3
MAX_DOWNLOAD = 25 * 1024 * 1024  # WeCom's files are ≤ 20 MB; a little room for padding
# What an operator does about a permanent error (shown in `deliveries` and the digest).
HINTS = {
    60020: "调用方 IP 不在企业可信 IP 中：请在管理后台配置可信IP（应用管理 → 本应用 → 企业可信IP）",
    40001: "secret 不正确：检查 wecom.secret",
    40013: "corp_id 不正确：检查 wecom.corp_id",
    93000: "群机器人 key 无效：检查名册的 robot_key",
    81013: "接收人全部无效：检查名册的企业微信账号",
    86003: "应用群聊不存在：检查名册的 chat_id",
}


class SendError(Exception):
    """A send that did not happen. `permanent`: retrying cannot help (a bad
    key, an unknown user); `retry_after`: seconds to wait first; `attempted`
    False: nothing was tried (paced), so it costs no attempt; `rate_limited`:
    WeCom refused for frequency (45009 / 45033, or -1 busy that persisted) —
    the row waits the block out instead of using up its attempts; `code`:
    WeCom's errcode, when there was one."""

    def __init__(self, message: str, permanent: bool, retry_after: float | None = None,
                 attempted: bool = True, rate_limited: bool = False, code: int | None = None,
                 http_status: int | None = None):
        super().__init__(message)
        self.permanent, self.retry_after, self.attempted = permanent, retry_after, attempted
        self.rate_limited, self.code, self.http_status = rate_limited, code, http_status


def wecom_error(doc: dict) -> SendError:
    """The SendError for a WeCom answer with a non-zero errcode."""
    code, message = doc.get("errcode"), str(doc.get("errmsg", ""))[:200]
    if code in RATE_LIMITED:
        return SendError(f"{code} 频率超限", permanent=False, retry_after=60, rate_limited=True, code=code)
    if code == BUSY:
        return SendError(f"{code} 系统繁忙", permanent=False, retry_after=60, rate_limited=True, code=code)
    hint = HINTS.get(code)
    return SendError(f"{code} {message}".strip() + (f"。{hint}" if hint else ""), permanent=True, code=code)


def wecom_json(body: bytes) -> dict | None:
    """WeCom's JSON answer — an object with an integer errcode — or None for
    anything else (an HTML page, a proxy's own JSON, a truncated body)."""
    if not body or body.lstrip()[:1] != b"{":
        return None
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(doc, dict) or type(doc.get("errcode")) is not int:
        return None
    return doc


class WeComClient:
    def __init__(self, runtime: Runtime, sleep: Callable[[float], None] = time.sleep,
                 pool_size: int = 64):
        config = runtime.config
        self.base = config["wecom.api_base"].rstrip("/") + "/"
        self.corp_id, self.secret = config["wecom.corp_id"], config["wecom.secret"]
        self.agent_id, self.timeout = config["wecom.agent_id"], config["wecom.timeout"]
        self.runtime, self.sleep = runtime, sleep
        self.http = requests.Session()
        # Read proxy settings once, not on every call (requests scans the
        # environment per request: a fifth of a push's CPU time).
        self.http.proxies.update(requests.utils.getproxies())
        self.http.trust_env = False
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
        self.http.mount("http://", adapter)
        self.http.mount("https://", adapter)
        self._token: tuple[str, Any] | None = None  # (token, expires_at) cached from the DB
        self.process = holder_name(str(id(self)))
        self.lease_ttl = timedelta(seconds=config["scheduler.lease_seconds"])  # a dead fetcher's lease lapses

    # ---- token -------------------------------------------------------
    @property
    def holder(self) -> str:
        """Who holds the token lease: this thread (threads share a client)."""
        return f"{self.process}:{threading.get_ident()}"

    @property
    def token_key(self) -> str:
        return f"{self.corp_id}:{self.agent_id}"  # never the secret itself

    def access_token(self, stale: str | None = None) -> str:
        """A valid token; `stale` is one WeCom just refused."""
        now = self.runtime.clock.now()
        if self._token and self._token[0] != stale and self._token[1] > now + REFRESH_MARGIN:
            return self._token[0]
        lease, give_up = f"token:{self.token_key}", time.monotonic() + self.timeout
        while True:
            try:
                with transaction(self.runtime.sessions) as session:
                    # Take the lease first, then read: a token stored by whoever
                    # held the lease before us is then always seen.
                    mine = try_acquire(session, lease, self.holder, now, self.lease_ttl)
                    stored = stored_token(session, self.token_key)
                    if stored and stored[0] != stale and stored[1] > now + REFRESH_MARGIN:
                        if mine:
                            release(session, lease, self.holder, now)
                        self._token = stored
                        return stored[0]
            except OperationalError:  # a lock conflict with another process: try again
                mine = False
            if mine:
                return self._fetch_token()
            if time.monotonic() > give_up:
                raise SendError("取 access_token 超时", permanent=False)
            time.sleep(0.05)  # another thread or process is fetching it: wait for its result
            now = self.runtime.clock.now()  # so a dead fetcher's lease is seen to lapse

    def _fetch_token(self) -> str:
        """Fetch under the lease; store the token before letting go of it, so
        a waiting process reads this token instead of fetching its own."""
        lease = f"token:{self.token_key}"
        try:
            doc = self._request("GET", "gettoken", params={"corpid": self.corp_id, "corpsecret": self.secret})
        except SendError:
            with transaction(self.runtime.sessions) as session:
                release(session, lease, self.holder, self.runtime.clock.now())
            raise
        now = self.runtime.clock.now()
        expires = now + timedelta(seconds=int(doc.get("expires_in", 7200)))
        with transaction(self.runtime.sessions) as session:
            store_token(session, self.token_key, doc["access_token"], expires)
            release(session, lease, self.holder, now)
        self._token = (doc["access_token"], expires)
        log.info("fetched a new WeCom access token (expires %s)", expires)
        return doc["access_token"]

    # ---- calls -------------------------------------------------------
    def _request(self, method: str, path: str, binary: bool = False, **kw) -> dict:
        """One HTTP call with quick retries of transient failures. `path` is
        relative to api_base, or a full URL (a smart robot's response_url or
        media url). WeCom's JSON with errcode 0 (or a token error, which
        `call` handles) is returned; with `binary`, a downloaded file comes
        back as {"errcode": 0, "_content", "_headers"}. Everything else raises."""
        url = path if "://" in path else self.base + path
        error = SendError("未发出", permanent=False)
        for attempt in range(TRIES):
            try:
                with self.http.request(method, url, timeout=self.timeout, stream=binary, **kw) as response:
                    doc = self._read(response, binary)
            except requests.RequestException as e:  # refused, reset, a timeout: may or may not have arrived
                error = SendError(f"网络错误：{type(e).__name__}", permanent=False)
            except SendError as e:
                error = e
            else:
                code = doc["errcode"]
                if code == 0 or code in TOKEN_ERRORS:
                    return doc
                error = wecom_error(doc)
                if code in RATE_LIMITED or error.permanent:  # back off from this target; the worker retries
                    raise error
                # -1 (busy): a few quick tries here first
            if attempt + 1 < TRIES:
                self.sleep(0.2 * 2 ** attempt + random.uniform(0, 0.1))
        raise error

    @staticmethod
    def _read(response: requests.Response, binary: bool) -> dict:
        status, kind = response.status_code, response.headers.get("Content-Type", "")
        if binary and status == 200 and "json" not in kind and "html" not in kind and "text/" not in kind:
            data = bytearray()
            for chunk in response.iter_content(64 * 1024):
                data += chunk
                if len(data) > MAX_DOWNLOAD:
                    raise SendError(f"文件超过 {MAX_DOWNLOAD // 1024 // 1024} MB", permanent=True)
            return {"errcode": 0, "_content": bytes(data), "_headers": response.headers}
        body = response.content[:MAX_DOWNLOAD]
        doc = wecom_json(body)
        if doc is None:
            page = "HTML 页面" if "html" in kind or b"<html" in body[:512].lower() else (kind or "无类型的应答")
            raise SendError(f"HTTP {status}：不是企业微信的 JSON 应答（{page}）", permanent=False,
                            http_status=status)
        if status >= 500 or (status != 200 and doc["errcode"] == 0):
            raise SendError(f"HTTP {status}", permanent=False, http_status=status)
        return doc

    def call(self, path: str, payload: dict | None = None, method: str = "POST",
             params: dict | None = None) -> dict:
        """An authenticated API call; an invalid token is refreshed once."""
        token = self.access_token()
        for _ in range(2):
            doc = self._request(method, path, params={**(params or {}), "access_token": token},
                                json=payload)
            if doc.get("errcode", 0) not in TOKEN_ERRORS:
                return doc
            log.info("WeCom refused the access token (%s); refreshing", doc.get("errcode"))
            token = self.access_token(stale=token)
        raise SendError(f"{doc.get('errcode')} access_token 无效", permanent=False)

    # ---- messages (the channels in bot/outbound/channels/ call these) ----
    def send_robot(self, key: str, content: str, msg_format: str = "markdown") -> None:
        self._request("POST", "webhook/send", params={"key": key},
                      json={"msgtype": msg_format, msg_format: {"content": content}})

    def send_appchat(self, chat_id: str, content: str, msg_format: str = "markdown") -> None:
        self.call("appchat/send", {"chatid": chat_id, "msgtype": msg_format,
                                   msg_format: {"content": content}, "safe": 0})

    def appchat_members(self, chat_id: str) -> int:
        """How many people an app group chat reaches (appchat/get)."""
        doc = self.call("appchat/get", method="GET", params={"chatid": chat_id})
        users = (doc.get("chat_info") or {}).get("userlist")
        if not isinstance(users, list):
            raise SendError("appchat/get 应答中没有 userlist", permanent=False)
        return len(users)

    def send_user(self, userid: str, content: str, msg_format: str = "markdown") -> None:
        doc = self.call("message/send", {
            "touser": userid, "agentid": self.agent_id, "msgtype": msg_format,
            msg_format: {"content": content}, "safe": 0,
            "enable_duplicate_check": 1, "duplicate_check_interval": 1800})
        if doc.get("invaliduser"):
            raise SendError(f"无效用户 {doc['invaliduser']}", permanent=True)

    def send_card(self, userid: str, card: dict) -> None:
        """A template card to one person (message/send, msgtype template_card)."""
        doc = self.call("message/send", {"touser": userid, "agentid": self.agent_id, "msgtype": "template_card",
                                         "template_card": card, "enable_duplicate_check": 0})
        if doc.get("invaliduser"):
            raise SendError(f"无效用户 {doc['invaliduser']}", permanent=True)

    def update_card(self, body: dict) -> None:
        """Replace a clicked card (message/update_template_card, with the click's one-use response_code)."""
        self.call("message/update_template_card", body)

    def respond(self, response_url: str, content: str) -> None:
        """The smart robot's late answer: one plain POST of markdown to the
        message's response_url (no token, no encryption; valid 1 h, one use)."""
        if not self.trusted_url(response_url):
            raise SendError("response_url 不是企业微信的地址", permanent=True)
        self._request("POST", response_url, json={"msgtype": "markdown", "markdown": {"content": content}})

    def trusted_url(self, url: str) -> bool:
        """WeCom's own API host, or the configured api_base's (a stand-in, a proxy)."""
        origin = urlsplit(url)
        ours = urlsplit(self.base)
        return origin.scheme in ("https", "http") and (
            (origin.scheme, origin.netloc) == (ours.scheme, ours.netloc)
            or (origin.scheme, origin.netloc) == ("https", "qyapi.weixin.qq.com"))

    def user_id_for_code(self, code: str) -> str:
        """The WeCom id behind a web sign-in's one-use OAuth code (auth/getuserinfo,
        WECOM.md §7). Someone outside the corp gets an openid only: refused."""
        doc = self.call("auth/getuserinfo", method="GET", params={"code": code})
        userid = doc.get("userid") or doc.get("UserId")
        if not userid:
            raise SendError("不是本企业成员（无 userid）", permanent=True)
        return userid

    def download_media(self, media_id: str) -> tuple[bytes, str | None]:
        """(bytes, file name from Content-Disposition) of an inbound media id."""
        token = self.access_token()
        for _ in range(2):
            doc = self._request("GET", "media/get", binary=True,
                                params={"media_id": media_id, "access_token": token})
            if doc["errcode"] == 0:
                return doc["_content"], file_name(doc["_headers"].get("Content-Disposition", ""))
            token = self.access_token(stale=token)
        raise SendError(f"{doc['errcode']} access_token 无效", permanent=False)

    def download_url(self, url: str) -> tuple[bytes, str | None]:
        """(bytes as served, file name) of a smart robot's media url; the
        bytes are still encrypted (bot/wecom/crypto.py decrypt_media)."""
        if urlsplit(url).scheme not in ("https", "http"):
            raise SendError("媒体地址不是 http(s)", permanent=True)
        try:
            doc = self._request("GET", url, binary=True)
        except SendError as e:
            if e.http_status in (403, 404, 410):  # the storage's answer to an expired link
                raise SendError(f"媒体链接已失效（HTTP {e.http_status}）", permanent=True) from None
            raise
        return doc["_content"], file_name(doc["_headers"].get("Content-Disposition", ""))


def file_name(disposition: str) -> str | None:
    """The file name of a Content-Disposition header: RFC 5987 filename*=,
    or a plain filename= carrying raw UTF-8 (as WeCom sends it)."""
    if "filename*=" in disposition:
        encoded = disposition.split("filename*=")[-1].split(";")[0].strip()
        return unquote(encoded.split("''", 1)[-1])
    if "filename=" not in disposition:
        return None
    raw = disposition.split("filename=")[-1].split(";")[0].strip().strip('"')
    try:
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return raw
