"""The stand-in's WebSocket endpoint: the smart robot's long connection
(doc 101463, WECOM.md §7) as the published SDKs speak it, for tests and
the demo.

- `aibot_subscribe {bot_id, secret}` → ack errcode 0, or 853000 "invalid
  bot_id or secret" (the code WeCom answers a wrong secret with) and the
  connection closed. A newer subscription of the same bot replaces the
  older: that one gets an `aibot_event_callback` with
  `disconnected_event`, then is closed — as WeCom does.
- `ping` → ack. Anything before a subscription → refused (846609, the
  stand-in's own code).
- `aibot_respond_msg` / `aibot_respond_welcome_msg` / `aibot_respond_update_msg`
  must echo the req_id of a frame delivered on this same connection
  (else 846605, the stand-in's own code); welcome and card updates only
  within 5 s of it, stream replies within 6 minutes; stream content up to
  20,480 bytes, markdown up to 4,096 (40058 beyond; the stream size is from
  third-party code, unverified).
- `aibot_send_msg {chatid, msgtype: markdown|template_card}` → ack; the
  message is recorded as received by `chatid`.
Each accepted request is recorded in the stand-in's `received` under the
path "aibot_ws/<cmd>" (to: the chatid, or the req_id it answers).

Test hooks: `push(body)` delivers a message (or `event=True`: an event)
frame to the bot's live connection — or, with none up, holds it and
delivers it at the next subscription (WeCom's own behaviour when nobody is
connected is not documented); `kill()` drops the connection without a
close frame (a network cut); `replace()` acts as a newer connection
elsewhere; `mute_pings` stops acking heartbeats."""
from __future__ import annotations

import json
import secrets
import socket
import threading
import time
from collections import defaultdict, deque
from typing import Callable

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

REFUSED = {"errcode": 853000, "errmsg": "invalid bot_id or secret"}
NOT_SUBSCRIBED = {"errcode": 846609, "errmsg": "not subscribed (stand-in)"}
UNKNOWN_REQ = {"errcode": 846605, "errmsg": "req_id not delivered on this connection (stand-in)"}
TOO_LATE = {"errcode": 846606, "errmsg": "reply window passed (stand-in)"}
WINDOWS = {"aibot_respond_msg": 360.0, "aibot_respond_welcome_msg": 5.0, "aibot_respond_update_msg": 5.0}
LIMITS = {"stream": 20480, "markdown": 4096, "text": 2048}
Record = Callable[[str, str, dict], None]


class _Link:
    """One client connection and what was delivered on it."""

    def __init__(self, ws: ServerConnection):
        self.ws, self.bot_id = ws, ""
        self.delivered: dict[str, float] = {}   # req_id -> when
        self.send_lock = threading.Lock()

    def send(self, frame: dict) -> None:
        with self.send_lock:
            self.ws.send(json.dumps(frame, ensure_ascii=False))


class AibotEndpoint:
    def __init__(self, record: Record, port: int = 0, clock: Callable[[], float] = time.monotonic):
        self.record, self.clock = record, clock
        self.lock = threading.Lock()
        self.bots: dict[str, str] = {}           # bot_id -> secret; none: any secret not starting "bad"
        self.live: dict[str, _Link] = {}         # bot_id -> its subscribed connection
        self.subscriptions: list[dict] = []      # every subscribe: bot_id, ok, at
        self.held: dict[str, deque] = defaultdict(deque)  # frames waiting for a connection
        self.mute_pings = False
        self.server = serve(self._serve, "127.0.0.1", port)
        self.thread = threading.Thread(target=self.server.serve_forever, name="standin-ws", daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}"

    def start(self) -> "AibotEndpoint":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()

    # ---- test hooks -------------------------------------------------------------
    def add_bot(self, bot_id: str, secret: str) -> None:
        with self.lock:
            self.bots[bot_id] = secret

    def connected(self, bot_id: str | None = None) -> int:
        """How many subscribed connections are up (of a bot, or of all)."""
        with self.lock:
            return sum(1 for b in self.live if bot_id is None or b == bot_id)

    def push(self, body: dict, bot_id: str | None = None, event: bool = False, req_id: str | None = None,
             times: int = 1) -> str:
        """Deliver a message (or event) frame `times` times; its req_id."""
        req_id = req_id or "req_" + secrets.token_hex(8)
        frame = {"cmd": "aibot_event_callback" if event else "aibot_msg_callback",
                 "headers": {"req_id": req_id}, "body": body}
        for _ in range(times):
            with self.lock:
                link = self._link(bot_id)
                if link is None:
                    self.held[bot_id or "*"].append(frame)
                    continue
                link.delivered[req_id] = self.clock()
            link.send(frame)
        return req_id

    def kill(self, bot_id: str | None = None) -> bool:
        """Cut the bot's connection without a close frame (the network went)."""
        with self.lock:
            link = self._link(bot_id)
            if link is None:
                return False
            self.live.pop(link.bot_id, None)
        try:
            link.ws.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        return True

    def replace(self, bot_id: str | None = None) -> bool:
        """As if a newer connection subscribed elsewhere: disconnected_event, then closed."""
        with self.lock:
            link = self._link(bot_id)
            if link is None:
                return False
            self.live.pop(link.bot_id, None)
        self._disconnect(link)
        return True

    def _link(self, bot_id: str | None) -> _Link | None:
        if bot_id is not None:
            return self.live.get(bot_id)
        return next(iter(self.live.values()), None)

    # ---- the protocol -----------------------------------------------------------
    def _serve(self, ws: ServerConnection) -> None:
        link = _Link(ws)
        try:
            for raw in ws:
                try:
                    frame = json.loads(raw)
                    cmd, req_id = frame.get("cmd", ""), frame["headers"]["req_id"]
                except (ValueError, KeyError, TypeError, AttributeError):
                    continue
                if cmd == "aibot_subscribe":
                    if not self._subscribe(link, req_id, frame.get("body") or {}):
                        return
                elif not link.bot_id:
                    link.send({"headers": {"req_id": req_id}, **NOT_SUBSCRIBED})
                elif cmd == "ping":
                    if not self.mute_pings:
                        link.send({"headers": {"req_id": req_id}, "errcode": 0, "errmsg": "ok"})
                else:
                    link.send({"headers": {"req_id": req_id}, **self._request(link, cmd, req_id,
                                                                               frame.get("body") or {})})
        except ConnectionClosed:
            pass
        finally:
            with self.lock:
                if link.bot_id and self.live.get(link.bot_id) is link:
                    del self.live[link.bot_id]

    def _subscribe(self, link: _Link, req_id: str, body: dict) -> bool:
        bot_id, secret = str(body.get("bot_id", "")), str(body.get("secret", ""))
        with self.lock:
            known = self.bots.get(bot_id)
            ok = bool(bot_id) and (secret == known if known is not None else
                                   (not self.bots and bool(secret) and not secret.startswith("bad")))
            self.subscriptions.append({"bot_id": bot_id, "ok": ok, "at": time.time()})
            older = self.live.get(bot_id) if ok else None
            if ok:
                link.bot_id = bot_id
                self.live[bot_id] = link
                held = list(self.held.pop(bot_id, ())) + list(self.held.pop("*", ()))
        if not ok:
            link.send({"headers": {"req_id": req_id}, **REFUSED})
            link.ws.close()
            return False
        link.send({"headers": {"req_id": req_id}, "errcode": 0, "errmsg": "ok"})
        if older is not None and older is not link:
            self._disconnect(older)
        for frame in held:
            with self.lock:
                link.delivered[frame["headers"]["req_id"]] = self.clock()
            link.send(frame)
        return True

    def _disconnect(self, link: _Link) -> None:
        try:
            link.send({"cmd": "aibot_event_callback", "headers": {"req_id": "req_" + secrets.token_hex(8)},
                       "body": {"msgid": secrets.token_hex(8), "create_time": int(time.time()),
                                "aibotid": link.bot_id, "msgtype": "event",
                                "event": {"eventtype": "disconnected_event"}}})
            link.ws.close()
        except (ConnectionClosed, OSError):
            pass

    def _request(self, link: _Link, cmd: str, req_id: str, body: dict) -> dict:
        kind = body.get("msgtype", "")
        content = body.get(kind) if isinstance(body.get(kind), dict) else {}
        text = content.get("content", "") if isinstance(content, dict) else ""
        if kind in LIMITS and len(str(text).encode()) > LIMITS[kind]:
            return {"errcode": 40058, "errmsg": f"content exceed max length {LIMITS[kind]}"}
        if cmd == "aibot_send_msg":
            chat = body.get("chatid")
            if not chat or kind not in ("markdown", "template_card"):
                return {"errcode": 40008, "errmsg": "invalid chatid or message type"}
            self.record("aibot_ws/aibot_send_msg", str(chat), body)
            return {"errcode": 0, "errmsg": "ok"}
        if cmd in WINDOWS:
            with self.lock:
                at = link.delivered.get(req_id)
            if at is None:
                return UNKNOWN_REQ
            if self.clock() - at > WINDOWS[cmd]:
                return TOO_LATE
            self.record(f"aibot_ws/{cmd}", req_id, body)
            return {"errcode": 0, "errmsg": "ok"}
        return {"errcode": 40008, "errmsg": f"stand-in knows no {cmd}"}
