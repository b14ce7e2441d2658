"""The smart robot's long connection (智能机器人长连接, doc 101463): one
outbound WebSocket to WeCom instead of a callback URL, for servers on a
government intranet with no public address (WECOM.md §7).

The wire, as Tencent's SDKs speak it: every frame is one JSON text message
`{cmd, headers: {req_id}, body}`. We subscribe with the bot's id and secret
(`aibot_subscribe`, acked `{headers, errcode, errmsg}` — non-zero: refused),
send `ping` every 30 s (two unanswered: the connection is dead), receive
`aibot_msg_callback` / `aibot_event_callback`, and answer with requests
whose acks echo their req_id. An `aibot_event_callback` whose event is
`disconnected_event` says a newer connection of the same bot replaced this
one: WeCom closes it next.

One connection per deployment: WeCom keeps only the newest subscription of
a bot, so two of our processes would kick each other off for ever. The
holder of the database lease "aibot-connection" (storage/leases.py, as the
scheduler's) connects; the others wait for it to lapse. The lease row also
carries the connection's state and since when, for /healthz and `doctor`
in any process. Replaced by a connection that is not ours (another server
with the same bot secret), we do not fight back: the state says so, staff
get an event, and we try again only after `REPLACED_WAIT` (doubling).

Built on `websockets` (threads, its sync client) rather than the published
Python SDKs: both are asyncio-only, stop without reconnecting after a clean
close under websockets 14+, and one reconnects straight into a replacing
connection (README, Dependencies)."""
from __future__ import annotations

import json
import logging
import secrets
import threading
import time
import weakref
from datetime import timedelta
from typing import Callable

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI, WebSocketException
from websockets.sync.client import ClientConnection, connect

from bot.runtime import Runtime
from bot.wecom.client import SendError, wecom_error
from storage.db import transaction
from storage.events import add_event
from storage.leases import holder_name, release, report, try_acquire

log = logging.getLogger(__name__)
LEASE = "aibot-connection"
SUBSCRIBE, PING = "aibot_subscribe", "ping"
MESSAGE, EVENT = "aibot_msg_callback", "aibot_event_callback"
REPLACED_EVENT = "disconnected_event"
# States written on the lease row (and shown by /healthz and doctor).
CONNECTING, CONNECTED, RECONNECTING = "connecting", "connected", "reconnecting"
REFUSED, REPLACED, STOPPED = "refused", "replaced", "stopped"
HEARTBEAT = 30.0          # seconds between pings (the SDKs' default)
MISSED_PINGS = 2          # unanswered pings that make a connection dead
ACK_WAIT = 10.0           # seconds a request waits for WeCom's ack
BACKOFF = (1, 2, 4, 8, 16, 30, 60)   # seconds before each reconnect in a row
STEADY = 60.0             # a connection up this long resets the backoff
REFUSED_WAIT = 300.0      # a wrong secret: ask again after 5 minutes (the config may be fixed)
REPLACED_WAIT = 600.0     # replaced by a newer connection: leave it alone for 10 minutes, doubling to an hour
FrameHandler = Callable[[str, str, dict], None]   # (cmd, req_id, body)

_held: "LongConnection | None" = None   # the connection this process holds, when it is up


def current() -> "LongConnection | None":
    """The long connection of this process, if it holds one that is up."""
    held = _held
    return held if held is not None and held.connected else None


class Refused(Exception):
    """WeCom refused the subscription (a wrong bot id or secret)."""


class Replaced(Exception):
    """A newer connection of the same bot replaced this one."""


class Dead(Exception):
    """No answer to the heartbeat, or the lease was lost: drop the connection."""


class LongConnection:
    """Holds the connection in a thread of its own while this process may
    (`may_hold`: the scheduler's leadership) and holds the lease; hands
    every message and event frame to `on_frame` (which must not block:
    the reading thread also keeps the heartbeat)."""

    def __init__(self, runtime: Runtime, on_frame: FrameHandler, may_hold: Callable[[], bool] = lambda: True):
        config = runtime.config
        self.runtime, self.on_frame, self.may_hold = runtime, on_frame, may_hold
        self.url, self.bot_id, self.secret = config["aibot.ws_url"], config["aibot.bot_id"], config["aibot.secret"]
        self.holder = holder_name("aibot-" + secrets.token_hex(3))
        self.ttl = timedelta(seconds=config["scheduler.lease_seconds"])
        self.heartbeat, self.backoff = HEARTBEAT, BACKOFF   # tests shorten these
        self.refused_wait, self.replaced_wait = REFUSED_WAIT, REPLACED_WAIT
        self.state: str = STOPPED
        self._ws: ClientConnection | None = None
        self._send_lock = threading.Lock()
        self._pending: dict[str, list] = {}   # req_id -> [Event, ack frame or None]
        self._turns: weakref.WeakValueDictionary = weakref.WeakValueDictionary()  # req_id -> its lock
        self._pending_lock = threading.Lock()
        self._unanswered = 0
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._holding = False
        self._trouble_seen: str | None = None   # the last trouble reported as an event

    # ---- the outside ------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._ws is not None and self.state == CONNECTED

    def start(self) -> "LongConnection":
        self._thread = threading.Thread(target=self._run, name="aibot-connection", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Close the connection and give the lease up at once (a graceful stop:
        another process connects without waiting for the lease to lapse)."""
        self._stopped.set()
        ws = self._ws
        if ws is not None:
            ws.close()
        if self._thread is not None:
            self._thread.join(timeout)
        self._let_go()

    def request(self, cmd: str, body: dict, req_id: str | None = None, wait: float = ACK_WAIT) -> dict:
        """Send one request and return WeCom's ack; a SendError if the
        connection is down, the ack does not come, or it is not errcode 0.
        Nothing counts as sent without the ack."""
        req_id = req_id or f"{cmd}_{secrets.token_hex(8)}"
        with self._pending_lock:
            turn = self._turns.setdefault(req_id, threading.Lock())
        with turn:  # replies to one message go one at a time, each after the ack of the one before
            return self._request(cmd, body, req_id, wait)

    def _request(self, cmd: str, body: dict, req_id: str, wait: float) -> dict:
        ws = self._ws if self.connected else None
        if ws is None:
            raise SendError("智能机器人长连接未建立，稍后重试", permanent=False, retry_after=30)
        slot = [threading.Event(), None]
        with self._pending_lock:
            self._pending[req_id] = slot
        try:
            try:
                self._send(ws, {"cmd": cmd, "headers": {"req_id": req_id}, "body": body})
            except (ConnectionClosed, OSError) as e:
                raise SendError(f"长连接发送失败：{type(e).__name__}", permanent=False, retry_after=30) from None
            if not slot[0].wait(wait) or slot[1] is None:
                raise SendError("企业微信未确认（长连接超时或已断开）", permanent=False, retry_after=30)
        finally:
            with self._pending_lock:
                self._pending.pop(req_id, None)
        ack = slot[1]
        if ack.get("errcode", 0) != 0:
            raise wecom_error(ack)
        return ack

    # ---- the thread -------------------------------------------------------------
    def _run(self) -> None:
        global _held
        failures, replaced_wait = 0, self.replaced_wait
        while not self._stopped.is_set():
            if not self._lead():
                self._stopped.wait(self.ttl.total_seconds() / 3)
                continue
            began = time.monotonic()
            try:
                self._report(CONNECTING, self.url)
                self._connection()
            except Refused as e:
                self._trouble(REFUSED, f"企业微信拒绝订阅：{e}（检查 aibot.bot_id / aibot.secret）",
                              "aibot-refused")
                self._wait(self.refused_wait)
            except Replaced:
                if not self._lead():  # our own lease went to another process of ours: a hand-over
                    log.info("long connection handed over to the lease's new holder")
                    continue
                self._trouble(REPLACED, f"被另一处的新连接顶替（同一机器人只保留最新连接）；"
                                        f"{int(replaced_wait)} 秒后再连", "aibot-replaced")
                self._wait(replaced_wait)
                replaced_wait = min(replaced_wait * 2, 3600.0)
            except Exception as e:  # the network, WeCom, a dead heartbeat, a lost lease
                if self._stopped.is_set():
                    break
                failures = 0 if time.monotonic() - began > STEADY else failures
                delay = self.backoff[min(failures, len(self.backoff) - 1)]
                failures += 1
                log.warning("long connection lost (%s: %s); reconnecting in %ss", type(e).__name__, e, delay)
                self._report(RECONNECTING, f"{_reason(e)}；{delay} 秒后重连")
                self._wait(delay)
            finally:
                if _held is self:
                    _held = None

    def _let_go(self) -> None:
        """Give the lease up, if held (on stop, or when no longer allowed to hold it)."""
        if not self._holding:
            return
        self._holding = False
        try:
            with transaction(self.runtime.sessions) as session:
                release(session, LEASE, self.holder, self.runtime.clock.now(), state=STOPPED)
        except Exception:  # it lapses on its own then
            log.exception("long connection: could not give the lease up")

    def _lead(self) -> bool:
        """Take or renew the lease, if this process may hold the connection."""
        if self._stopped.is_set():
            return False  # stop() gives the lease up; never take it back meanwhile
        if not self.may_hold():
            self._let_go()
            return False
        try:
            with transaction(self.runtime.sessions) as session:
                self._holding = try_acquire(session, LEASE, self.holder, self.runtime.clock.now(), self.ttl)
        except Exception:
            log.exception("long connection: lease check failed")
            return self._holding
        return self._holding

    def _wait(self, seconds: float) -> None:
        """Sleep between attempts, keeping the lease (a waiting holder still
        holds: none of our other processes connects meanwhile)."""
        until = time.monotonic() + seconds
        while not self._stopped.is_set() and time.monotonic() < until:
            self._stopped.wait(min(self.ttl.total_seconds() / 3, max(0.0, until - time.monotonic())))
            if not self._lead():
                return

    def _connection(self) -> None:
        """One connection: open, subscribe, then read frames, ping and renew
        the lease until it ends (raises) or stop() closes it (returns)."""
        with connect(self.url, open_timeout=10, close_timeout=2, ping_interval=None, max_size=4 * 2**20) as ws:
            self._serve(ws)

    def _serve(self, ws: ClientConnection) -> None:
        global _held
        ended, self._lost_lease = threading.Event(), False
        try:
            self._subscribe(ws)
            self._ws, self._unanswered, self._trouble_seen = ws, 0, None
            self._report(CONNECTED, None)
            _held = self
            log.info("long connection to %s subscribed as %s", self.url, self.holder)
            keeper = threading.Thread(target=self._keep, args=(ws, ended), name="aibot-lease", daemon=True)
            keeper.start()
            last_ping = time.monotonic()
            while not self._stopped.is_set():
                next_ping = last_ping + self.heartbeat
                try:
                    raw = ws.recv(timeout=max(0.01, min(1.0, next_ping - time.monotonic())))  # (stop, heartbeat)
                except TimeoutError:
                    raw = None
                if raw is not None:
                    self._frame(raw)
                now = time.monotonic()
                if now >= next_ping:
                    if self._unanswered >= MISSED_PINGS:
                        raise Dead(f"心跳 {MISSED_PINGS} 次无应答")
                    self._unanswered += 1
                    self._send(ws, {"cmd": PING, "headers": {"req_id": f"{PING}_{secrets.token_hex(6)}"}})
                    last_ping = now
        except ConnectionClosed:
            if self._stopped.is_set():
                return
            if self._lost_lease:
                raise Dead("租约已被其他进程取得") from None
            raise
        finally:
            ended.set()
            self._ws = None
            if self.state == CONNECTED:
                self.state = RECONNECTING
            self._fail_pending()
            ws.close()

    def _keep(self, ws: ClientConnection, ended: threading.Event) -> None:
        """Renew the lease and the reported state every third of its time, in
        a thread of its own: a slow database never holds up the frames or the
        heartbeat. A lost lease (another process took it) ends the connection."""
        beat = self.ttl.total_seconds() / 3
        while not ended.wait(beat):
            if not self._lead():
                if not ended.is_set() and not self._stopped.is_set():
                    self._lost_lease = True
                    ws.close()
                return
            self._report(CONNECTED, None)

    def _subscribe(self, ws: ClientConnection) -> None:
        req_id = f"{SUBSCRIBE}_{secrets.token_hex(6)}"
        self._send(ws, {"cmd": SUBSCRIBE, "headers": {"req_id": req_id},
                        "body": {"bot_id": self.bot_id, "secret": self.secret}})
        until = time.monotonic() + ACK_WAIT
        while True:
            try:
                frame = json.loads(ws.recv(timeout=max(0.01, until - time.monotonic())))
            except TimeoutError:
                raise Dead("订阅无应答") from None
            except ValueError:
                continue
            if isinstance(frame, dict) and _req_id(frame) == req_id and not frame.get("cmd"):
                if frame.get("errcode", 0) != 0:
                    raise Refused(f"{frame.get('errcode')} {str(frame.get('errmsg', ''))[:120]}".strip())
                return

    def _frame(self, raw: str | bytes) -> None:
        try:
            frame = json.loads(raw)
        except ValueError:
            log.warning("long connection: a frame that is not JSON was ignored")
            return
        if not isinstance(frame, dict):
            return
        cmd, req_id = frame.get("cmd") or "", _req_id(frame)
        if not cmd:  # an ack: of a ping, or of one of our requests
            if req_id.startswith(PING + "_"):
                self._unanswered = 0
                return
            with self._pending_lock:
                slot = self._pending.get(req_id)
            if slot is not None:
                slot[1] = frame
                slot[0].set()
            return
        body = frame.get("body")
        if cmd not in (MESSAGE, EVENT) or not isinstance(body, dict):
            log.info("long connection: frame %s ignored", cmd[:40])
            return
        event = body.get("event")
        if cmd == EVENT and isinstance(event, dict) and event.get("eventtype") == REPLACED_EVENT:
            raise Replaced()
        self.on_frame(cmd, req_id, body)

    def _send(self, ws: ClientConnection, frame: dict) -> None:
        with self._send_lock:  # frames from the handlers, the worker and the heartbeat, one at a time
            ws.send(json.dumps(frame, ensure_ascii=False))

    def _fail_pending(self) -> None:
        with self._pending_lock:
            for slot in self._pending.values():
                slot[0].set()   # with no ack: the request fails, transiently

    def _report(self, state: str, detail: str | None) -> None:
        self.state = state
        try:
            with transaction(self.runtime.sessions) as session:
                report(session, LEASE, self.holder, state, detail, self.runtime.clock.now())
        except Exception:
            log.exception("long connection: could not record its state")

    def _trouble(self, state: str, detail: str, kind: str) -> None:
        """A state staff must act on (or know of): recorded, and an event once."""
        first, self._trouble_seen = self._trouble_seen != state, state
        log.warning("long connection %s: %s", state, detail)
        self._report(state, detail)
        if first:
            try:
                with transaction(self.runtime.sessions) as session:
                    add_event(session, kind, f"智能机器人长连接：{detail}", self.runtime.clock.now())
            except Exception:
                log.exception("long connection: could not record the event")


def _req_id(frame: dict) -> str:
    headers = frame.get("headers")
    value = headers.get("req_id") if isinstance(headers, dict) else None
    return value if isinstance(value, str) else ""


def _reason(error: Exception) -> str:
    """Why a connection ended, in words for the operator (never a secret)."""
    if isinstance(error, Dead):
        return str(error)
    if isinstance(error, ConnectionClosed):
        return f"连接被关闭（{error.rcvd.code if error.rcvd else '无关闭帧'}）"
    if isinstance(error, (InvalidURI, InvalidHandshake)):
        return f"无法建立 WebSocket：{type(error).__name__}"
    if isinstance(error, (OSError, TimeoutError, WebSocketException)):
        return f"网络错误：{type(error).__name__}"
    return f"内部错误：{type(error).__name__}"
