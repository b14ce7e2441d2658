"""Operating it: backup, restore, doctor.

`backup -o FILE` writes one zip (storage/backup.py: every table as JSON
lines and a manifest with the schema revision and row counts; `--media`
adds the evidence files). `restore FILE [--force]` loads it into SQLite,
PostgreSQL or MySQL/MariaDB — also the way from SQLite to a server.
`doctor` checks a deployment, one line per check in Chinese and English,
and exits 1 only when a check failed (warnings exit 0)."""
from __future__ import annotations

import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError
from tqdm import tqdm

from bot.cli.group import UsageError, cli, pass_runtime, runtime as build_runtime
from bot.config import ConfigError
from storage import backup as store

MEDIA = "media/"


# ---- backup / restore -------------------------------------------------------
@cli.command("backup", help="备份整个数据库到一个文件（zip）back up every table into one file")
@click.option("-o", "--output", required=True, metavar="FILE", help="备份文件 backup file (.zip)")
@click.option("--media", is_flag=True, help="连同已下载的证据文件 include the evidence files")
@pass_runtime(database=False)
def backup_command(runtime, output, media) -> None:
    engine, target = runtime.engine, Path(output)
    files = [(i, Path(p)) for i, p in store.evidence_files(engine)] if _initialised(engine) else []
    present = [(i, p) for i, p in files if p.is_file()]
    extra = {"media": {"files": len(files), "present": len(present),
                       "bytes": sum(p.stat().st_size for _, p in present), "included": bool(media)}}
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.", delete=False)
    partial.close()
    try:
        with zipfile.ZipFile(partial.name, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive, \
                tqdm(total=store.count_rows(engine) if _initialised(engine) else 0,
                     desc="备份 backup", unit="行", disable=None) as bar:
            manifest = store.dump(engine, archive, runtime.clock.now(), lambda _t, n: bar.update(n), extra)
            if media:
                for evidence_id, path in present:
                    archive.write(path, f"{MEDIA}{evidence_id}/{path.name}")
        os.replace(partial.name, target)
    except store.BackupError as e:
        raise UsageError(str(e)) from None
    finally:
        if os.path.exists(partial.name):
            os.unlink(partial.name)
    print(f"已备份 {manifest.total_rows} 行，{len(manifest.tables)} 张表，数据库版本 {manifest.schema} → {target} "
          f"backed up {manifest.total_rows} rows of {len(manifest.tables)} tables (schema {manifest.schema})")
    if files and not media:
        print(f"证据文件 {len(present)} 个未包含在内：请一并复制 {runtime.config['server.media_dir']}，或加 --media "
              f"the {len(present)} evidence files are not in it: copy the media folder too, or add --media")


def _initialised(engine) -> bool:
    return store.current_revision(engine) is not None


@cli.command("restore", help="从备份文件恢复（空库或新建的库；--force 覆盖已有数据）restore a backup")
@click.argument("file")
@click.option("--force", is_flag=True, help="覆盖已有数据 replace what the database holds")
@pass_runtime(database=False)
def restore_command(runtime, file, force) -> None:
    try:
        archive = zipfile.ZipFile(file)
    except (OSError, zipfile.BadZipFile) as e:
        raise UsageError(f"无法读取备份文件 cannot read the backup {file}: {e}") from None
    with archive:
        try:
            manifest = store.read_manifest(archive)
            with tqdm(total=manifest.total_rows, desc="恢复 restore", unit="行", disable=None) as bar:
                store.restore(runtime.engine, archive, force, lambda _t, n: bar.update(n))
        except store.BackupError as e:
            raise UsageError(str(e)) from None
        moved = _restore_media(runtime, archive)
    print(f"已恢复 {manifest.total_rows} 行，{len(manifest.tables)} 张表（备份于 {manifest.created_at}，"
          f"来自 {manifest.source}，版本 {manifest.schema} → {store.newest_revision()}） restored "
          f"{manifest.total_rows} rows of {len(manifest.tables)} tables")
    media = manifest.extra.get("media", {})
    if moved:
        print(f"证据文件 {moved} 个已放入 {runtime.config['server.media_dir']} evidence files restored: {moved}")
    elif media.get("present"):
        print(f"备份不含证据文件（{media['present']} 个）：请把原 media 文件夹复制到 {runtime.config['server.media_dir']} "
              "the evidence files are not in the backup: copy the old media folder")


def _restore_media(runtime, archive: zipfile.ZipFile) -> int:
    """Evidence files in the backup go into this server's media folder, and
    their rows point there."""
    folder, paths = Path(runtime.config["server.media_dir"]), {}
    for name in archive.namelist():
        if not name.startswith(MEDIA) or name.endswith("/"):
            continue
        evidence_id, _, file_name = name[len(MEDIA):].partition("/")
        if not evidence_id.isdigit() or not file_name or "/" in file_name or file_name.startswith("."):
            continue  # only "media/<id>/<name>", never a path that climbs out
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / file_name
        with archive.open(name) as source, open(target, "wb") as out:
            while chunk := source.read(1 << 20):
                out.write(chunk)
        paths[int(evidence_id)] = str(target)
    store.move_evidence(runtime.engine, paths)
    return len(paths)


# ---- doctor ------------------------------------------------------------------
OK, WARN, FAIL, SKIP = "通过 OK", "警告 WARN", "失败 FAIL", "跳过 SKIP"
SKEW_WARN = 5          # seconds: hosts compare their clocks through the leases
ROBOTS_CHECKED = 50    # keys probed at most (a province has thousands)


@dataclass
class Check:
    status: str
    name: str
    detail: str

    def line(self) -> str:
        return f"[{self.status}] {self.name}：{self.detail}"


@cli.command("doctor", help="检查部署：配置、数据库、企业微信、通道、文件夹、节假日、时钟 check this deployment")
@click.option("--robots", type=int, default=ROBOTS_CHECKED, show_default=True,
              help="最多检查多少个群机器人 key how many robot keys to check at most")
def doctor_command(robots) -> None:
    click.get_current_context().exit(_doctor(robots))


def _doctor(robots: int) -> int:
    """The checks, printed; 1 if one failed, else 0."""
    checks: list[Check] = []
    try:
        rt = build_runtime()
    except ConfigError as e:
        checks.append(Check(FAIL, "配置 config", str(e)))
        checks.extend(Check(SKIP, name, "配置无效 no valid config") for name in
                      ("卡片 cards", "数据库 database", "企业微信 WeCom token", "通道 channels", "证据文件夹 media folder",
                       "节假日数据 holidays", "时钟 clock"))
        return _report(checks)
    checks.append(_config(rt))
    checks.append(_cards(rt))
    database = _database(rt)
    checks.append(database)
    client = _client(rt)
    checks.append(_token(rt, client, database.status != FAIL))
    checks.extend(_channels(rt, client, database.status != FAIL, robots))
    checks.append(_media_folder(rt))
    checks.append(_holidays(rt))
    checks.append(_clock(rt, client))
    if rt.config["aibot.mode"] == "long_connection":
        checks.append(_long_connection(rt, database.status != FAIL))
    return _report(checks)


def _report(checks: list[Check]) -> int:
    for check in checks:
        print(check.line())
    failed = sum(c.status == FAIL for c in checks)
    warned = sum(c.status == WARN for c in checks)
    print(f"结果 result：{failed} 项失败，{warned} 项警告 {failed} failed, {warned} warnings")
    return 1 if failed else 0


def _config(rt) -> Check:
    config = rt.config
    needed = ("wecom.corp_id", "wecom.agent_id", "wecom.secret", "wecom.token", "wecom.encoding_aes_key")
    if config["aibot.mode"] == "long_connection":  # no callback URL on an intranet: the smart robot's id and secret
        needed = ("wecom.corp_id", "wecom.agent_id", "wecom.secret", "aibot.bot_id", "aibot.secret")
    missing = [k for k in needed if not config[k]]
    where = config.source
    if missing:
        return Check(FAIL, "配置 config", f"{where}：缺少 {', '.join(missing)} missing "
                     "(企业微信无法收发 WeCom cannot be reached)")
    host, lease = config["server.host_id"], config["scheduler.lease_seconds"]
    return Check(OK, "配置 config", f"{where}：企业微信参数齐全，主机 {host}，租约 {lease}s "
                 f"WeCom settings complete, host {host}, lease {lease}s")


def _cards(rt) -> Check:
    """Cards or text for personal reminders, and why (bot/config.py app_cards)."""
    from bot.config import app_cards
    on, why = app_cards(rt.config)
    broken = on and not (rt.config["wecom.token"] and rt.config["wecom.encoding_aes_key"])
    return Check(WARN if broken else OK, "卡片 cards", why + ("" if on else "（回复 收到 N / 完成 N / 延期 N 7天）")
                 + (" cards" if on else " text, no cards"))


def _database(rt) -> Check:
    name = "数据库 database"
    try:
        with rt.engine.connect():
            pass
        revision = store.current_revision(rt.engine)
    except SQLAlchemyError as e:
        reason = str(getattr(e, "orig", None) or e).splitlines()[0][:160]
        return Check(FAIL, name, f"无法连接 unreachable ({rt.engine.url.get_backend_name()}): {reason}")
    newest = store.newest_revision()
    if revision is None:
        return Check(FAIL, name, "未初始化 not initialised：python -m bot init")
    if not store.is_known_revision(revision):
        return Check(FAIL, name, f"版本 {revision} 比本程序新 schema newer than this program ({newest})")
    if revision != newest:
        return Check(WARN, name, f"版本 {revision}，将升级到 {newest}（python -m bot init 或下次启动） "
                     f"schema {revision}, upgraded to {newest} at the next start")
    return Check(OK, name, f"可连接，版本 {revision}（最新） reachable, schema {revision} (newest)")


def _client(rt):
    from bot.wecom.client import WeComClient
    return WeComClient(rt, sleep=lambda _s: None)


def _token(rt, client, database_ok: bool) -> Check:
    from bot.wecom.client import SendError
    from storage.leases import stored_token
    name = "企业微信 WeCom token"
    if not (rt.config["wecom.corp_id"] and rt.config["wecom.secret"]):
        return Check(FAIL, name, "未配置 wecom.corp_id / wecom.secret not configured")
    if not database_ok:
        return Check(SKIP, name, "需要数据库（令牌在库中共享） needs the database")
    try:
        with rt.sessions() as session:
            old = stored_token(session, client.token_key)
        client.access_token(stale=old[0] if old else None)  # a fresh fetch, shared with the running bot
    except SendError as e:
        return Check(FAIL, name, f"{rt.config['wecom.api_base']} 取令牌失败 gettoken failed: {e}")
    return Check(OK, name, f"{rt.config['wecom.api_base']} 取令牌成功 gettoken ok")


def _channels(rt, client, database_ok: bool, robots: int) -> list[Check]:
    from bot.outbound.channels import CHANNELS
    from storage.doctor import address_kinds, addresses_to_check, branches_without_group
    if not database_ok:
        return [Check(SKIP, "通道 channels", "需要数据库 needs the database")]
    with rt.sessions() as session:
        kinds = address_kinds(session)
        unreached = branches_without_group(session)
        samples = {kind: addresses_to_check(session, kind, robots) for kind in ("wecom_robot", "wecom_appchat")}
    known = {c.kind for c in CHANNELS}
    checks = []
    for kind, (count, failing) in sorted(kinds.items()):
        name = f"通道 channel {kind}"
        last = f"；{failing} 个上次发送失败 {failing} failed last time" if failing else ""
        if kind not in known:
            checks.append(Check(WARN, name, f"{count} 个地址，但没有这种通道 no such channel: never used"))
        elif kind == "wecom_robot":
            checks.append(_probe(name, count, samples[kind], client, "robot"))
        elif kind == "wecom_appchat":
            checks.append(_probe(name, count, samples[kind], client, "appchat"))
        elif kind == "log":
            checks.append(Check(OK, name, f"{count} 个文件地址 file addresses（写入时检查 checked when written）"))
        else:
            checks.append(Check(WARN if failing else OK, name,
                                f"{count} 个地址，不发送无法检查 not checkable without sending{last}"))
    if unreached:
        shown = "、".join(unreached[:5]) + ("…" if len(unreached) > 5 else "")
        checks.append(Check(WARN, "通道 branch groups", f"{len(unreached)} 个支部没有群地址 branches without a "
                            f"group address: {shown}"))
    if not kinds:
        checks.append(Check(WARN, "通道 channels", "没有任何地址（导入名册？） no addresses (import a roster?)"))
    return checks


def _probe(name: str, count: int, sample: list[tuple[str, str]], client, kind: str) -> Check:
    from bot.wecom.probe import Unavailable, appchat_problem, robot_key_problem
    probe = robot_key_problem if kind == "robot" else appchat_problem
    bad, unknown = [], 0
    for owner, value in sample:
        try:
            problem = probe(client, value)
        except Unavailable:
            unknown += 1
            continue
        if problem:
            bad.append(f"{owner}（{problem}）")
    checked = len(sample) - unknown
    scope = f"查了 {checked}/{count} 个 checked {checked} of {count}"
    if bad:
        shown = "；".join(bad[:3]) + ("…" if len(bad) > 3 else "")
        return Check(FAIL, name, f"{len(bad)} 个无效 invalid: {shown}（{scope}）")
    if not checked:
        return Check(WARN, name, f"{count} 个地址，企业微信接口无法检查 not checkable here without sending")
    return Check(OK, name, f"有效 valid（{scope}，未发送消息 nothing sent）")


def _media_folder(rt) -> Check:
    name, folder = "证据文件夹 media folder", Path(rt.config["server.media_dir"])
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-") as probe:
            probe.write(b"ok")
            probe.flush()
    except OSError as e:
        return Check(FAIL, name, f"{folder} 不可写 not writable: {e.strerror or e}")
    return Check(OK, name, f"{folder} 可写 writable")


def _holidays(rt) -> Check:
    from storage.workdays import is_known_year
    name, year = "节假日数据 holidays", rt.clock.today().year
    if not is_known_year(year):
        return Check(FAIL, name, f"缺 {year} 年（按周一至周五推送，可能落在假日；升级 chinesecalendar 或 "
                     f"push-date） {year} missing: pushes may fall on holidays")
    if not is_known_year(year + 1):
        return Check(WARN, name, f"有 {year} 年，缺 {year + 1} 年（届时按周一至周五） {year} known, "
                     f"{year + 1} missing (Mon–Fri fallback then)")
    return Check(OK, name, f"有 {year}、{year + 1} 年 {year} and {year + 1} known")


def _clock(rt, client) -> Check:
    from bot.wecom.gate import MAX_SKEW
    from bot.wecom.probe import Unavailable, server_time
    name = "时钟 clock"
    try:
        theirs = server_time(client)
    except Unavailable as e:
        return Check(WARN, name, f"无法从企业微信取得时间 cannot read the API's time: {e}")
    if theirs is None:
        return Check(WARN, name, "企业微信接口未给出 Date 头 the API gave no Date header")
    skew = rt.clock.epoch() - theirs.timestamp()
    shown = f"{skew:+.0f}s"
    if abs(skew) > MAX_SKEW / 2:
        return Check(FAIL, name, f"与企业微信相差 {shown}（超过 {MAX_SKEW}s 回调将被拒绝；请校时 NTP） "
                     f"off by {shown} from WeCom: callbacks are refused beyond {MAX_SKEW}s")
    if abs(skew) > SKEW_WARN:
        return Check(WARN, name, f"与企业微信相差 {shown}（多台主机靠时钟比较租约；请校时 NTP） off by {shown}")
    return Check(OK, name, f"与企业微信相差 {shown} off by {shown} from WeCom")



def _long_connection(rt, database_ok: bool) -> Check:
    """The smart robot's long connection, as its holder last reported it (the lease row)."""
    from bot.wecom.longconn import CONNECTED, LEASE, REFUSED
    from storage.leases import state_of
    name = "长连接 long connection"
    if not database_ok:
        return Check(SKIP, name, "需要数据库 needs the database")
    with rt.sessions() as session:
        lease = state_of(session, LEASE)
    where = rt.config["aibot.ws_url"]
    if lease is None or lease.state is None:
        return Check(WARN, name, f"{where} 从未连接（定时任务进程未运行？python -m bot serve 或 scheduler） "
                     "never connected: is the scheduler running?")
    since = f"{lease.since:%Y-%m-%d %H:%M:%S}" if lease.since else "?"
    detail = f"：{lease.detail}" if lease.detail else ""
    if not lease.live(rt.clock.now()):
        return Check(WARN, name, f"{where} 无进程持有（上次状态 {lease.state}，{since}） no process holds it "
                     f"(last {lease.state} at {since}): is the scheduler running?")
    if lease.state == CONNECTED:
        return Check(OK, name, f"{where} 已连接，自 {since}（{lease.holder}） connected since {since}")
    if lease.state == REFUSED:
        return Check(FAIL, name, f"{where} 订阅被拒绝 subscription refused{detail}")
    return Check(WARN, name, f"{where} {lease.state}，自 {since}{detail}")
