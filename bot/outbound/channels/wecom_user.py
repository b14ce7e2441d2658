"""One person through the self-built app (`message/send`, touser): markdown
up to 2,048 bytes, with WeCom's duplicate check. Every member with a WeCom
id has this address without a row (see bot/outbound/worker.py `route`).

WeCom takes at most 30 app messages a minute and 1,000 an hour for one
person and drops the rest **with errcode 0** (WECOM.md §7), and at most
10,000 message/send calls a minute and 150,000 an hour from the corp: the
channel stays under all four.

A row with a card (storage/outbox.py CardBody) goes as a template card
(button_interaction), or — with a click's response_code — replaces the
clicked card (message/update_template_card). People who follow the app
through the WeChat plugin (`wecom.plain_text_users`: their ids, or `all`)
see neither markdown nor cards there (WECOM.md §7): they get plain text,
and a card's text version, which names the matching commands. So does
everyone when a card's clicks could not reach us (bot/config.py
`app_cards`: no app callback, or the long connection on an intranet)."""
from bot.config import app_cards
from bot.outbound.channel import HOUR, MINUTE, Channel, Limit, SendError, plain_text
from bot.wecom.cards import template_card, update_body
from storage.outbox import RESENT, card_of


class WeComUser(Channel):
    kind = "wecom_user"
    byte_limit = 2048
    limits = (Limit(((MINUTE, 30), (HOUR, 1000)), label="每人每分钟 30 条、每小时 1000 条应用消息"),
              Limit(((MINUTE, 10_000), (HOUR, 150_000)), per="corp",
                    label="message/send 全企业每分钟 1 万次、每小时 15 万次"))

    def __init__(self, client, now):
        super().__init__(client, now)
        runtime = getattr(client, "runtime", None)
        users = runtime.config["wecom.plain_text_users"] if runtime is not None else ()
        self.everyone_plain, self.plain_users = "all" in users, frozenset(users)
        self.cards = app_cards(runtime.config)[0] if runtime is not None else True

    def plain(self, userid: str) -> bool:
        """Whether this person reads the app in WeChat (text only)."""
        return self.everyone_plain or userid in self.plain_users

    def send(self, address: str, body: str) -> int:
        text, card = card_of(body)
        textual = self.plain(address) or not self.cards
        if card is None or (textual and not card.response_code):
            return super().send(address, text)
        if card.response_code and textual:
            return 0  # they were never sent a card to update
        self.admit(address, 1)
        try:
            if card.response_code:
                self.client.update_card(update_body(card, self.client.agent_id, address))
            else:
                self.client.send_card(address, template_card(card, resent=body.startswith(RESENT)))
        except SendError as e:
            if e.rate_limited:
                raise self._rest(address, e) from None
            if not e.permanent:
                raise
            # A card WeCom refuses (a spent response_code, a field it will not take)
            # cannot be split or shortened: say so; the text version is in the row.
            raise SendError(f"卡片未被接受：{e}", permanent=True, code=e.code) from None
        with self.lock:
            self.blocks.pop(address, None)
        return 1

    def post(self, address: str, content: str) -> None:
        if self.plain(address):
            self.client.send_user(address, plain_text(content), "text")
        else:
            self.client.send_user(address, content)
