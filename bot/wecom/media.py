"""Evidence files: photos and files sent with or after `完成 N` (or after
`志愿 N小时`), saved into server.media_dir named by their sha256, outside
the 5-second callback.

Two sources (WECOM.md §7): the app callback's MediaId, fetched with
media/get (a media id lives 3 days); and the smart robot's url, whose
download is the file encrypted with the bot's EncodingAESKey — or, over the
long connection, with the key that came with that photo or file (doc
101463) — media/get cannot fetch those. A transient failure is tried again on the next round;
a permanent one (an expired id, bytes that do not decrypt) is recorded on
the evidence row and shown with the report."""
from __future__ import annotations

import hashlib
import logging
import os
import re
from pathlib import Path

from bot.runtime import Runtime
from bot.wecom.client import SendError, WeComClient
from bot.wecom.crypto import CryptoError, decrypt_media
from storage.db import transaction
from storage.reports import evidence_to_fetch, update_evidence

log = logging.getLogger(__name__)
SIGNATURES = ((b"\xff\xd8\xff", ".jpg"), (b"\x89PNG", ".png"), (b"GIF8", ".gif"), (b"%PDF", ".pdf"),
              (b"RIFF", ".webp"), (b"#!AMR", ".amr"))


def safe_name(name: str) -> str:
    """A file name that cannot leave its folder."""
    return re.sub(r"[^\w.\-一-龥]", "_", Path(name).name)[:120] or "file"


def fetch_pending(runtime: Runtime, client: WeComClient, limit: int = 50) -> int:
    """Download evidence not yet on disk; how many were saved."""
    with runtime.sessions() as session:
        pending = evidence_to_fetch(session, limit)
    saved = 0
    for evidence_id, media_id, url, file_name, own_key in pending:
        try:
            data, served_name = _download(runtime, client, media_id, url, own_key)
        except SendError as e:
            if e.permanent:
                _record(runtime, evidence_id, last_error=f"下载失败：{e}")
            continue
        except CryptoError as e:
            log.warning("evidence %s did not decrypt: %s", evidence_id, e)
            _record(runtime, evidence_id, last_error=f"解密失败：{e}")
            continue
        digest = hashlib.sha256(data).hexdigest()
        name = served_name or _with_extension(file_name, data)
        folder = Path(runtime.config["server.media_dir"])
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / f"{digest[:16]}-{safe_name(name)}"
        _write_private(path, data)
        _record(runtime, evidence_id, path=str(path), sha256=digest, size=len(data), file_name=name)
        saved += 1
    return saved


def _write_private(path: Path, data: bytes) -> None:
    """Evidence is members' photos and files: the owner's alone (0600), whatever the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _download(runtime: Runtime, client: WeComClient, media_id: str, url: str | None,
              own_key: str | None = None) -> tuple[bytes, str | None]:
    if not url:
        return client.download_media(media_id)
    key = own_key.rstrip("=") if own_key else runtime.config["aibot.encoding_aes_key"]
    if not key:
        raise SendError("未配置 aibot.encoding_aes_key，无法解密智能机器人的文件", permanent=True)
    sealed, served_name = client.download_url(url)
    return decrypt_media(sealed, key), served_name


def _with_extension(name: str, data: bytes) -> str:
    """A placeholder name (photo.jpg) given the extension its bytes show."""
    for magic, extension in SIGNATURES:
        if data.startswith(magic):
            return str(Path(name).with_suffix(extension))
    return name


def _record(runtime: Runtime, evidence_id: int, **fields) -> None:
    with transaction(runtime.sessions) as session:
        update_evidence(session, evidence_id, **fields)
