"""Evidence files: photos and files sent after `完成 N` are downloaded from
WeCom's media API (a media id lives 3 days) into server.media_dir, named by
their sha256, outside the 5-second callback."""
from __future__ import annotations

import hashlib
import logging
import os
import re
from pathlib import Path

from bot.runtime import Runtime
from bot.wecom.client import SendError, WeComClient
from storage.db import transaction
from storage.reports import evidence_to_fetch, update_evidence

log = logging.getLogger(__name__)


def safe_name(name: str) -> str:
    """A file name that cannot leave its folder."""
    return re.sub(r"[^\w.\-一-龥]", "_", Path(name).name)[:120] or "file"


def fetch_pending(runtime: Runtime, client: WeComClient, limit: int = 50) -> int:
    """Download evidence not yet on disk; how many were saved."""
    with runtime.sessions() as session:
        pending = evidence_to_fetch(session, limit)
    saved = 0
    for evidence_id, media_id, file_name in pending:
        try:
            data, served_name = client.download_media(media_id)
        except SendError as e:
            if e.permanent:
                _record(runtime, evidence_id, last_error=f"下载失败：{e}")
            continue
        digest = hashlib.sha256(data).hexdigest()
        folder = Path(runtime.config["server.media_dir"])
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / f"{digest[:16]}-{safe_name(served_name or file_name)}"
        _write_private(path, data)
        _record(runtime, evidence_id, path=str(path), sha256=digest, size=len(data),
                file_name=served_name or file_name)
        saved += 1
    return saved


def _write_private(path: Path, data: bytes) -> None:
    """Evidence is members' photos and files: the owner's alone (0600), whatever the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _record(runtime: Runtime, evidence_id: int, **fields) -> None:
    with transaction(runtime.sessions) as session:
        update_evidence(session, evidence_id, **fields)
