"""One received message, whichever channel brought it. It lives here, not
in bot/, because it is what handlers read: bot/wecom/ builds it from the
wire format, and handlers never import bot/."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Inbound:
    channel: str            # app | aibot
    user: str               # WeCom userid of the sender
    kind: str               # text | image | file | location | event | voice | video | …
    text: str = ""
    dedupe_key: str = ""
    media_id: str | None = None
    file_name: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    label: str | None = None
    event: str | None = None
    chat_id: str | None = None   # the group, for @-mentions of the smart robot
    response_url: str | None = None
