"""One received message, whichever channel brought it. It lives here, not
in bot/, because it is what handlers read: bot/wecom/ builds it from the
wire format, and handlers never import bot/."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Media:
    """A photo, file, voice or video that came with a message: evidence."""
    kind: str                    # image | file | voice | video
    media_id: str | None = None  # the app callback's MediaId (media/get, valid 3 days)
    url: str | None = None       # the smart robot's encrypted download url
    file_name: str | None = None
    aes_key: str | None = None   # the url's own key (long connection); else the bot's EncodingAESKey


@dataclass(frozen=True)
class Inbound:
    channel: str            # app | aibot
    user: str               # WeCom userid of the sender
    kind: str               # text | mixed | image | file | voice | video | location | event | unreadable | …
    text: str = ""          # what the sender wrote (or said, for a smart robot's voice), @-mentions removed
    dedupe_key: str = ""
    media_id: str | None = None   # an app message's MediaId, as logged
    file_name: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    label: str | None = None
    event: str | None = None
    chat_id: str | None = None   # the group, for @-mentions of the smart robot
    response_url: str | None = None
    media: tuple[Media, ...] = ()  # photos and files with the message (mixed, image, file, a quoted photo)
    quote: str = ""              # the text of a quoted message, for the log
    card_task: str | None = None      # template_card_event: the clicked card's task_id (its key is `text`)
    response_code: str | None = None  # … and the one-use code that updates that card
    cards: bool = False  # whether this sender can be answered with a card here (the app 1:1 chat, see
    #                      bot/web/callback.py): a proposal then comes as a card with 确认 / 取消
