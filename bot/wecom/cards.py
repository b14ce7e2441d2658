"""WeCom's template card JSON (message/send msgtype template_card, card_type
button_interaction; message/update_template_card) from a CardBody. WeCom's
rules (docs 90236, 94945; WECOM.md §7): task_id unique per app, only
[0-9A-Za-z_-@], ≤ 128 bytes; main_title.title required; at most 6 buttons,
each with text and a key ≤ 1,024 bytes, keys unique in the card;
horizontal_content_list ≤ 6 rows; sub_title_text up to 160 characters.
Titles are cut to WeCom's advised lengths here so the card looks as meant
on a phone."""
from __future__ import annotations

import secrets

from storage.outbox import CardBody, button_key

SOURCE = "支部通"
TITLE_CHARS, DESC_CHARS, KEYNAME_CHARS, VALUE_CHARS, BUTTON_CHARS = 36, 44, 5, 30, 10
MAX_BUTTONS, MAX_ROWS, TEXT_CHARS = 6, 6, 160


def task_id(card: CardBody, resent: bool = False) -> str:
    """The card's WeCom task_id: from its key; a resend (补发) may follow a
    card that did arrive, so it takes a fresh one (WeCom refuses a task_id twice)."""
    return f"zb-{card.key}" + (f"-r{secrets.token_hex(3)}" if resent else "")


def template_card(card: CardBody, resent: bool = False, task: str | None = None) -> dict:
    """The template_card object of message/send (or of an update, with `task`:
    the task_id of the card being replaced)."""
    title = ("（补发）" if resent else "") + card.title
    doc = {
        "card_type": "button_interaction",
        "source": {"desc": SOURCE, "desc_color": 0},
        "main_title": {"title": title[:TITLE_CHARS], **({"desc": card.desc[:DESC_CHARS]} if card.desc else {})},
        "task_id": task or task_id(card, resent),
        "button_list": [{"text": text[:BUTTON_CHARS], "style": 1 if i == 0 else 2, "key": button_key(action, card.key)}
                        for i, (text, action) in enumerate(card.buttons[:MAX_BUTTONS])],
    }
    if card.text:
        doc["sub_title_text"] = card.text[:TEXT_CHARS]
    if card.rows:
        doc["horizontal_content_list"] = [{"keyname": name[:KEYNAME_CHARS], "value": value[:VALUE_CHARS]}
                                          for name, value in card.rows[:MAX_ROWS]]
    return doc


def update_body(card: CardBody, agent_id: int, userid: str) -> dict:
    """The body of message/update_template_card for the card a click came from."""
    body: dict = {"userids": [userid], "agentid": agent_id, "response_code": card.response_code}
    if card.buttons:
        body["template_card"] = template_card(card, task=card.replaces or None)
    else:
        body["button"] = {"replace_name": (card.replace_name or "已处理")[:BUTTON_CHARS]}
    return body
