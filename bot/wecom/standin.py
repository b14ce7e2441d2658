"""A loopback stand-in of the WeCom API for tests, benchmarks and the demo.

It speaks the real wire format of the endpoints we use (gettoken,
message/send, appchat/create|get|send, webhook/send, media/get,
media/upload, a smart robot's response_url and encrypted media urls,
auth/getuserinfo and the two OAuth pages of WeCom sign-in) and
can be told to misbehave: answer 45009 / 42001 / -1 / 60020 / HTTP 5xx, an
HTML error page or any other non-JSON body for the next N calls, block a
path for a while (a minute or an hour block), be slow, or expire every
token. Template cards are checked as WeCom checks them (card_problem: card_type,
task_id unique per app and of [0-9A-Za-z_-@] up to 128 bytes, main_title,
1–6 buttons with text and a key of at most 1,024 bytes, unique), and an
interactive card's send returns a response_code; message/update_template_card
takes a response_code once, within 72 hours (`click` issues the one a
template_card_event carries). It always enforces the group robot's 20 messages / minute / key and
the content sizes (40058 over 2,048 bytes of text or app markdown, 4,096
bytes of robot markdown), answers 93000 for robot keys starting with "bad",
and lists users starting with "gone" as invaliduser.

With `limits="real"` it also enforces what WeCom enforces on a real corp
(WECOM.md §3, §7): per person ≤ 30 app messages a minute and ≤ 1,000 an
hour, and per appchat member ≤ 200 a minute — the excess **silently
dropped with errcode 0**, as WeCom does (kept in `dropped`, never in
`received`); appchat person-times per corp (20,000 a minute, 150,000 an
hour: the excess dropped); per corp per API 10,000 calls a minute and
150,000 an hour (45009, then blocked for 60 s / 60 min). Unknown app chats
are then 86003; in the default, lenient mode a chat nobody created has
three members.

`latency` (seconds) is slept on every API call, in the handler's own
thread: many calls wait at once, as from a county server to WeCom.

Run alone: python -m bot.wecom.standin --port 8091 [--ws-port 8092] [--limits real] [--latency 0.05]
Control over HTTP (for other processes): GET /_standin/received,
POST /_standin/fault {"path": "...", "errcode": 45009, "times": 2},
POST /_standin/slow {"seconds": 0.05}, POST /_standin/expire-tokens,
POST /_standin/chat {"chatid": "...", "userlist": [...]}, POST /_standin/reset,
POST /_standin/oauth-user {"userid": "s7001"} (whom the OAuth pages sign in),
POST /_standin/oauth-code {"code": "…", "userid": "s7001"} (a code to accept),
POST /_standin/aibot-push {"body": {…}, "event": false, "times": 1}, /_standin/aibot-kill,
/_standin/aibot-replace (the smart robot's long connection: bot/wecom/standin_ws.py).

WeCom sign-in: GET /connect/oauth2/authorize (inside WeCom) and
/wwlogin/sso/login (the QR page) send the browser straight back to
`redirect_uri` with a fresh one-use code for the user set by oauth-user (as
if they had scanned) and the `state` given; auth/getuserinfo turns a code
into {"userid": …} once, within 5 minutes, else errcode 40029."""
from __future__ import annotations

import argparse
import base64
import json
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, urlencode, urlparse

ROBOT_LIMIT_PER_MINUTE = 20
MINUTE, HOUR = 60, 3600
PERSON_LIMITS = ((MINUTE, 30), (HOUR, 1000))          # app messages to one person
CHAT_MEMBER_LIMITS = ((MINUTE, 200),)                  # appchat messages to one member
PERSON_TIMES_LIMITS = ((MINUTE, 20_000), (HOUR, 150_000))  # appchat, per corp (the smallest hourly tier)
API_LIMITS = ((MINUTE, 10_000), (HOUR, 150_000))       # calls per corp per API
TEXT_LIMIT = {"webhook/send": {"markdown": 4096, "text": 2048}}
DEFAULT_TEXT_LIMIT = 2048
HTML_PAGE = (b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
             b"</h1></center><hr><center>nginx</center></body></html>")
OAUTH_PAGES = ("connect/oauth2/authorize", "wwlogin/sso/login")
CARD_TYPES = ("text_notice", "news_notice", "button_interaction", "vote_interaction", "multiple_interaction")
INTERACTIVE = ("button_interaction", "vote_interaction", "multiple_interaction")
TASK_ID_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-@")
RESPONSE_CODE_SECONDS = 72 * 3600
# WeCom answers a card it will not take with 40058 "invalid parameter" and a
# message naming the field (the exact code for a reused task_id is not in the
# documents we have: the stand-in says 40058 too).
INVALID_PARAMETER = 40058
BAD_RESPONSE_CODE = 40078  # the stand-in's own: WeCom's for a spent code is not documented


def card_problem(card: object, task_ids: set[str] | None = None) -> str | None:
    """What WeCom would refuse in a template_card (docs 90236, 94945), or None."""
    if not isinstance(card, dict):
        return "template_card is not an object"
    kind = card.get("card_type")
    if kind not in CARD_TYPES:
        return f"invalid card_type {kind!r}"
    task_id = card.get("task_id")
    if kind in INTERACTIVE or card.get("action_menu"):
        if not isinstance(task_id, str) or not task_id:
            return "task_id required"
    if task_id is not None:
        if not isinstance(task_id, str) or len(task_id.encode()) > 128 or not set(task_id) <= TASK_ID_CHARS:
            return "invalid task_id (digits, letters and _-@, at most 128 bytes)"
        if task_ids is not None and task_id in task_ids:
            return "task_id exist"
    title = card.get("main_title")
    if kind == "button_interaction" and not (isinstance(title, dict) and isinstance(title.get("title"), str)
                                             and title["title"]):
        return "main_title.title required"
    rows = card.get("horizontal_content_list", [])
    if not isinstance(rows, list) or len(rows) > 6 or any(
            not isinstance(r, dict) or not isinstance(r.get("keyname"), str) or not r["keyname"] for r in rows):
        return "invalid horizontal_content_list (at most 6, each with keyname)"
    if kind == "button_interaction":
        buttons = card.get("button_list")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 6:
            return "button_list: 1 to 6 buttons"
        keys = []
        for b in buttons:
            if not isinstance(b, dict) or not isinstance(b.get("text"), str) or not b["text"]:
                return "button_list.text required"
            if b.get("type", 0) == 0:
                key = b.get("key")
                if not isinstance(key, str) or not key or len(key.encode()) > 1024:
                    return "button_list.key required, at most 1024 bytes"
                keys.append(key)
            elif not b.get("url"):
                return "button_list.url required"
        if len(keys) != len(set(keys)):
            return "button_list.key repeated"
    return None
OAUTH_CODE_SECONDS = 300


@dataclass
class Fault:
    errcode: int | None = None   # a WeCom errcode, or None with http_status
    http_status: int = 200
    times: int = 1
    body: bytes | None = None    # a raw answer instead of JSON (an HTML page, a truncated body)
    content_type: str = "text/html"
    delay: float = 0.0           # seconds before answering (longer than the client's timeout: a timeout)


class Window:
    """Units used in the last `span` seconds (a sliding window)."""

    def __init__(self, span: float, limit: int):
        self.span, self.limit = span, limit
        self.entries: deque = deque()
        self.total = 0

    def _expire(self, now: float) -> None:
        while self.entries and now - self.entries[0][0] >= self.span:
            self.total -= self.entries.popleft()[1]

    def fits(self, now: float, cost: int = 1) -> bool:
        self._expire(now)
        return self.total + cost <= self.limit

    def add(self, now: float, cost: int = 1) -> None:
        if self.entries and self.entries[-1][0] == now:
            self.entries[-1] = (now, self.entries[-1][1] + cost)
        else:
            self.entries.append((now, cost))
        self.total += cost


class Limiter:
    """Several windows per key; `take` counts the cost if every window has room."""

    def __init__(self, windows: tuple[tuple[int, int], ...]):
        self.windows = windows
        self.keys: dict[str, list[Window]] = {}

    def take(self, key: str, now: float, cost: int = 1) -> int | None:
        """None if taken, else the span (60 or 3600) of the window that is full."""
        windows = self.keys.setdefault(key, [Window(span, limit) for span, limit in self.windows])
        for window in windows:
            if not window.fits(now, cost):
                return window.span
        for window in windows:
            window.add(now, cost)
        return None


@dataclass
class StandinState:
    lock: threading.Lock = field(default_factory=threading.Lock)
    tokens: set[str] = field(default_factory=set)
    token_fetches: int = 0
    received: list[dict] = field(default_factory=list)
    dropped: list[dict] = field(default_factory=list)     # accepted with errcode 0, never delivered
    faults: dict[str, list[Fault]] = field(default_factory=lambda: defaultdict(list))
    blocked: dict[str, float] = field(default_factory=dict)  # path -> until (clock seconds)
    robot_sends: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))
    delay: float = 0.0           # latency of every API call, seconds
    limits: str = "lenient"      # or "real"
    clock: Callable[[], float] = time.monotonic  # tests hand in their frozen clock
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    chats: dict[str, list[str]] = field(default_factory=dict)
    response_codes: dict[str, bool] = field(default_factory=dict)  # code -> used
    card_tasks: dict[str, str] = field(default_factory=dict)        # a sent card's task_id -> its user
    card_codes: dict[str, tuple[str, float, bool]] = field(default_factory=dict)  # code -> (task_id, issued, used)
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    persons: Limiter = field(default_factory=lambda: Limiter(PERSON_LIMITS))
    chat_members: Limiter = field(default_factory=lambda: Limiter(CHAT_MEMBER_LIMITS))
    person_times: Limiter = field(default_factory=lambda: Limiter(PERSON_TIMES_LIMITS))
    api: Limiter = field(default_factory=lambda: Limiter(API_LIMITS))

    def reset_limits(self) -> None:
        self.persons, self.chat_members = Limiter(PERSON_LIMITS), Limiter(CHAT_MEMBER_LIMITS)
        self.person_times, self.api = Limiter(PERSON_TIMES_LIMITS), Limiter(API_LIMITS)
        self.robot_sends.clear()
        self.blocked.clear()
    oauth_user: str | None = None                     # who "scans" on the OAuth pages
    oauth_codes: dict[str, tuple[str, float]] = field(default_factory=dict)  # code -> (userid, issued)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections
    disable_nagle_algorithm = True  # headers and body go out at once (no 40 ms delayed-ACK stall)
    state: StandinState

    def log_message(self, *args) -> None:  # quiet
        pass

    def _answer(self, doc: dict | None = None, status: int = 200, raw: bytes | None = None,
                headers: dict | None = None, content_type: str = "application/octet-stream") -> None:
        body = raw if raw is not None else json.dumps(doc or {}, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8" if raw is None else content_type)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes | None:
        """The request body; None if the client went away before sending it all."""
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        return body if len(body) == length else None

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def _route(self, method: str) -> None:
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        path = url.path.rsplit("/cgi-bin/", 1)[-1].lstrip("/")
        body = self._body()
        if body is None:  # a sender killed mid-request: nothing arrived
            self.close_connection = True
            return
        if path.startswith("_standin/"):
            return self._control(path[len("_standin/"):], body)
        if path in OAUTH_PAGES:
            return self._authorize(query)
        st = self.state
        if st.delay:
            time.sleep(st.delay)
        fault = self._take_fault(path)
        if fault and fault.delay:
            time.sleep(fault.delay)
        if fault and fault.body is not None:
            return self._answer(raw=fault.body, status=fault.http_status, content_type=fault.content_type)
        if fault and fault.errcode is None:
            return self._answer({"errcode": -1, "errmsg": "injected"}, fault.http_status)
        if fault:
            return self._answer({"errcode": fault.errcode, "errmsg": "injected fault"})
        if path == "gettoken":
            return self._gettoken(query)
        if path.startswith("_media/"):
            return self._encrypted_media(path[len("_media/"):])
        if path == "aibot/response":
            return self._respond(query, body)
        refusal = self._frequency(path)
        if refusal:
            return self._answer(refusal)
        if path == "webhook/send":
            return self._robot(query, body)
        if path == "webhook/upload_media":
            return self._answer({"errcode": 0, "media_id": "robot-media-" + secrets.token_hex(4)})
        if not self._valid_token(query.get("access_token", "")):
            return self._answer({"errcode": 42001, "errmsg": "access_token expired"})
        if path in ("message/send", "appchat/send"):
            return self._send(path, body)
        if path == "message/update_template_card":
            return self._update_card(body)
        if path == "appchat/create":
            return self._create_chat(body)
        if path == "appchat/get":
            return self._get_chat(query)
        if path == "media/get":
            return self._media(query)
        if path == "auth/getuserinfo":
            return self._userinfo(query)
        if path == "media/upload":
            return self._answer({"errcode": 0, "type": "file", "media_id": "m-" + secrets.token_hex(6)})
        return self._answer({"errcode": 404, "errmsg": f"stand-in knows no {path}"}, 404)

    def _take_fault(self, path: str) -> Fault | None:
        with self.state.lock:
            queue = self.state.faults.get(path) or self.state.faults.get("*")
            if not queue:
                return None
            fault = queue[0]
            fault.times -= 1
            if fault.times <= 0:
                queue.pop(0)
            return fault

    def _frequency(self, path: str) -> dict | None:
        """A block in force, or (real limits) the corp's calls per API."""
        st, now = self.state, self.state.clock()
        with st.lock:
            st.calls[path] += 1
            until = st.blocked.get(path) or st.blocked.get("*")
            if until and now < until:
                return {"errcode": 45009, "errmsg": "api freq out of limit (blocked)"}
            if st.limits == "real" and path != "webhook/send":
                full = st.api.take(path, now)
                if full:  # WeCom blocks the API for the rest of the minute / the hour
                    st.blocked[path] = now + full
                    return {"errcode": 45009, "errmsg": "api freq out of limit"}
        return None

    def _too_long(self, path: str, doc: dict) -> dict | None:
        kind = doc.get("msgtype", "")
        content = (doc.get(kind) or {}).get("content", "") if isinstance(doc.get(kind), dict) else ""
        limit = TEXT_LIMIT.get(path, {}).get(kind, DEFAULT_TEXT_LIMIT)
        if len(str(content).encode()) > limit:
            return {"errcode": 40058, "errmsg": f"content exceed max length {limit}"}
        return None

    def _gettoken(self, query: dict) -> None:
        if not query.get("corpid") or query.get("corpsecret", "").startswith("bad"):
            return self._answer({"errcode": 40001, "errmsg": "invalid credential"})
        token = "tok-" + secrets.token_hex(16)
        with self.state.lock:
            self.state.tokens.add(token)
            self.state.token_fetches += 1
        self._answer({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200})

    def _valid_token(self, token: str) -> bool:
        with self.state.lock:
            return token in self.state.tokens

    def _record(self, path: str, address: str, doc: dict, dropped: bool = False) -> None:
        with self.state.lock:
            (self.state.dropped if dropped else self.state.received).append(
                {"path": path, "to": address, "body": doc, "at": time.time()})

    def _robot(self, query: dict, body: bytes) -> None:
        key = query.get("key", "")
        if not key or key.startswith("bad"):
            return self._answer({"errcode": 93000, "errmsg": "invalid webhook url"})
        doc = json.loads(body or b"{}")
        too_long = self._too_long("webhook/send", doc)
        if too_long:
            return self._answer(too_long)
        now = self.state.clock()
        with self.state.lock:
            sends = self.state.robot_sends[key]
            while sends and now - sends[0] > 60:
                sends.popleft()
            if len(sends) >= ROBOT_LIMIT_PER_MINUTE:
                return self._answer({"errcode": 45009, "errmsg": "api freq out of limit"})
            sends.append(now)
        self._record("webhook/send", key, doc)
        self._answer({"errcode": 0, "errmsg": "ok"})

    def _members(self, chat_id: str) -> list[str] | None:
        with self.state.lock:
            if chat_id in self.state.chats:
                return self.state.chats[chat_id]
            if self.state.limits == "real":
                return None
        return [f"{chat_id}-m{i}" for i in range(3)]

    def _send(self, path: str, body: bytes) -> None:
        doc = json.loads(body or b"{}")
        too_long = self._too_long(path, doc)
        if too_long:
            return self._answer(too_long)
        st, now = self.state, self.state.clock()
        if path == "appchat/send":
            chat_id = doc.get("chatid", "")
            members = self._members(chat_id)
            if members is None:
                return self._answer({"errcode": 86003, "errmsg": "chat not exist"})
            dropped = False
            if st.limits == "real":
                with st.lock:
                    dropped = st.person_times.take("corp", now, len(members)) is not None
                    for member in members:
                        dropped |= st.chat_members.take(member, now) is not None
            self._record(path, chat_id, doc, dropped)
            return self._answer({"errcode": 0, "errmsg": "ok"})
        users = [u for u in doc.get("touser", "").split("|") if u]
        invalid = [u for u in users if u.startswith("gone")]
        if users and len(invalid) == len(users):
            return self._answer({"errcode": 81013, "errmsg": "user & party & tag all invalid",
                                 "invaliduser": "|".join(invalid)})
        extra = {}
        if doc.get("msgtype") == "template_card":
            card = doc.get("template_card")
            with st.lock:
                problem = card_problem(card, set(st.card_tasks))
                if problem is None:
                    st.card_tasks[card["task_id"]] = doc.get("touser", "")
                    if card["card_type"] in INTERACTIVE:
                        code = "rc-" + secrets.token_hex(12)
                        st.card_codes[code] = (card["task_id"], now, False)
                        extra["response_code"] = code
            if problem:
                return self._answer({"errcode": INVALID_PARAMETER, "errmsg": f"invalid parameter: {problem}"})
        for user in (u for u in users if u not in invalid):
            dropped = False
            if st.limits == "real":
                with st.lock:
                    dropped = st.persons.take(user, now) is not None
            self._record(path, user, doc, dropped)
        self._answer({"errcode": 0, "errmsg": "ok", "invaliduser": "|".join(invalid),
                      "msgid": secrets.token_hex(8), **extra})

    def _update_card(self, body: bytes) -> None:
        """message/update_template_card: one call per response_code, within 72 h."""
        doc = json.loads(body or b"{}")
        st, now, code = self.state, self.state.clock(), doc.get("response_code", "")
        with st.lock:
            found = st.card_codes.get(code)
            if found is None or found[2] or now - found[1] > RESPONSE_CODE_SECONDS:
                return self._answer({"errcode": BAD_RESPONSE_CODE, "errmsg": "invalid response_code"})
            task_id = found[0]
        if "button" in doc:
            button = doc["button"]
            if not isinstance(button, dict) or not isinstance(button.get("replace_name"), str) \
                    or not button["replace_name"]:
                return self._answer({"errcode": INVALID_PARAMETER, "errmsg": "invalid parameter: button.replace_name"})
        else:
            card = doc.get("template_card")
            problem = card_problem(card)
            if problem is None and card.get("task_id", task_id) != task_id:
                problem = "task_id is not the clicked card's"
            if problem:
                return self._answer({"errcode": INVALID_PARAMETER, "errmsg": f"invalid parameter: {problem}"})
        if not doc.get("userids") and not doc.get("atall"):
            return self._answer({"errcode": INVALID_PARAMETER, "errmsg": "invalid parameter: userids"})
        with st.lock:
            if st.card_codes[code][2]:
                return self._answer({"errcode": BAD_RESPONSE_CODE, "errmsg": "invalid response_code"})
            st.card_codes[code] = (task_id, found[1], True)
        for user in doc.get("userids") or ["@all"]:
            self._record("message/update_template_card", user, doc)
        self._answer({"errcode": 0, "errmsg": "ok", "invaliduser": []})

    def _create_chat(self, body: bytes) -> None:
        doc = json.loads(body or b"{}")
        users = doc.get("userlist") or []
        if not 2 <= len(users) <= 2000:
            return self._answer({"errcode": 86004, "errmsg": "invalid userlist"})
        chat_id = doc.get("chatid") or secrets.token_hex(8)
        with self.state.lock:
            self.state.chats[chat_id] = list(users)
        self._answer({"errcode": 0, "errmsg": "ok", "chatid": chat_id})

    def _get_chat(self, query: dict) -> None:
        chat_id = query.get("chatid", "")
        members = self._members(chat_id)
        if members is None:
            return self._answer({"errcode": 86003, "errmsg": "chat not exist"})
        self._answer({"errcode": 0, "errmsg": "ok", "chat_info": {
            "chatid": chat_id, "name": chat_id, "owner": members[0], "userlist": members}})

    def _media(self, query: dict) -> None:
        media_id = query.get("media_id", "")
        with self.state.lock:
            found = self.state.media.get(media_id)
        if not found:
            return self._answer({"errcode": 40007, "errmsg": "invalid media_id"})
        data, name = found
        # WeCom puts the UTF-8 bytes of the name in the header as they are.
        header = f'attachment; filename="{name}"'.encode().decode("latin-1")
        self._answer(raw=data, headers={"Content-Disposition": header})

    def _encrypted_media(self, key: str) -> None:
        """A smart robot's media url: the file as WeCom's CDN serves it (encrypted)."""
        with self.state.lock:
            found = self.state.media.get("url:" + key)
        if not found:
            return self._answer(raw=b"<html><body>404 Not Found</body></html>", status=404,
                                content_type="text/html")
        self._answer(raw=found[0])

    def _respond(self, query: dict, body: bytes) -> None:
        """A smart robot's response_url: one POST of markdown (or a card), valid once."""
        code = query.get("response_code", "")
        with self.state.lock:
            used = self.state.response_codes.get(code)
            if used is None or used:
                # (the stand-in's own errcode: WeCom's for a spent code is not documented)
                return self._answer({"errcode": 40078, "errmsg": "invalid or used response_code"})
            self.state.response_codes[code] = True
        doc = json.loads(body or b"{}")
        if doc.get("msgtype") not in ("markdown", "template_card"):
            return self._answer({"errcode": 40008, "errmsg": "invalid message type"})
        too_long = self._too_long("webhook/send", doc)  # markdown up to 4,096 bytes, as the robot's
        if too_long:
            return self._answer(too_long)
        self._record("aibot/response", code, doc)
        self._answer({"errcode": 0, "errmsg": "ok"})

    def _aibot_control(self, action: str, doc: dict) -> None:
        """The long connection's hooks for other processes (the demo): push, kill, replace."""
        endpoint = self.standin.aibot
        if action == "push":
            req_id = endpoint.push(doc["body"], doc.get("bot_id"), bool(doc.get("event")),
                                   times=int(doc.get("times", 1)))
            return self._answer({"ok": True, "req_id": req_id})
        if action in ("kill", "replace"):
            return self._answer({"ok": getattr(endpoint, action)(doc.get("bot_id"))})
        return self._answer({"ok": False, "error": f"no aibot-{action}"}, 404)

    def _authorize(self, query: dict) -> None:
        """The user "scans" at once: back to redirect_uri with a code and the state."""
        back = query.get("redirect_uri", "")
        if not back.startswith(("http://", "https://")) or not query.get("appid"):
            return self._answer({"errcode": 40001, "errmsg": "invalid redirect_uri or appid"}, 400)
        with self.state.lock:
            userid = self.state.oauth_user
            code = "code-" + secrets.token_hex(12)
            if userid:
                self.state.oauth_codes[code] = (userid, self.state.clock())
        if not userid:
            return self._answer({"errcode": 0, "errmsg": "nobody scanned: POST /_standin/oauth-user first"}, 403)
        params = urlencode({"code": code, "state": query.get("state", "")})
        self.send_response(302)
        self.send_header("Location", f"{back}{'&' if '?' in back else '?'}{params}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _userinfo(self, query: dict) -> None:
        with self.state.lock:
            found = self.state.oauth_codes.pop(query.get("code", ""), None)
        if not found or self.state.clock() - found[1] > OAUTH_CODE_SECONDS:
            return self._answer({"errcode": 40029, "errmsg": "invalid code"})
        self._answer({"errcode": 0, "errmsg": "ok", "userid": found[0], "user_ticket": "ticket-" + secrets.token_hex(8),
                      "expires_in": 1800})

    def _control(self, action: str, body: bytes) -> None:
        st, doc = self.state, json.loads(body or b"{}")
        if action.startswith("aibot-"):
            return self._aibot_control(action[len("aibot-"):], doc)
        with st.lock:
            if action == "received":
                return self._answer({"received": st.received, "dropped": st.dropped,
                                     "token_fetches": st.token_fetches, "calls": st.calls})
            if action == "fault":
                st.faults[doc["path"]].append(Fault(doc.get("errcode"), doc.get("http_status", 200),
                                                    doc.get("times", 1)))
            elif action == "slow":
                st.delay = float(doc.get("seconds", 0))
            elif action == "oauth-user":
                st.oauth_user = doc.get("userid")
            elif action == "oauth-code":
                st.oauth_codes[doc["code"]] = (doc["userid"], st.clock())
            elif action == "expire-tokens":
                st.tokens.clear()
            elif action == "chat":
                st.chats[doc["chatid"]] = list(doc["userlist"])
            elif action == "reset":
                st.received.clear()
                st.dropped.clear()
                st.faults.clear()
                st.calls.clear()
                st.reset_limits()
        self._answer({"ok": True})


class WeComStandin:
    """Start on a free loopback port; `api_base` is what wecom.api_base takes."""

    def __init__(self, port: int = 0, limits: str = "lenient", latency: float = 0.0, ws_port: int = 0):
        self.state = StandinState(limits=limits, delay=latency)
        self._aibot, self._ws_port = None, ws_port
        handler = type("Handler", (_Handler,), {"state": self.state, "standin": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.server.daemon_threads = True
        self.server.request_queue_size = 256  # many clients connecting at once
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin/"

    def start(self) -> "WeComStandin":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._aibot is not None:
            self._aibot.stop()

    @property
    def aibot(self):
        """The smart robot's long-connection endpoint (bot/wecom/standin_ws.py),
        started on first use on a port of its own."""
        with self.state.lock:
            if self._aibot is None:
                from bot.wecom.standin_ws import AibotEndpoint
                self._aibot = AibotEndpoint(self._record_ws, self._ws_port).start()
            return self._aibot

    @property
    def ws_url(self) -> str:
        """What aibot.ws_url takes."""
        return self.aibot.url

    def _record_ws(self, path: str, to: str, doc: dict) -> None:
        with self.state.lock:
            self.state.received.append({"path": path, "to": to, "body": doc, "at": time.time()})

    # test helpers, same process
    def fail(self, path: str, errcode: int | None = None, times: int = 1, http_status: int = 200,
             body: bytes | None = None, content_type: str = "text/html", delay: float = 0.0) -> None:
        """The next `times` calls of `path` ("*": any) answer this instead."""
        with self.state.lock:
            self.state.faults[path].append(Fault(errcode, http_status, times, body, content_type, delay))

    def fail_html(self, path: str, http_status: int = 502, times: int = 1) -> None:
        """A proxy's HTML error page instead of WeCom's answer."""
        self.fail(path, http_status=http_status, times=times, body=HTML_PAGE)

    def block(self, path: str, seconds: float) -> None:
        """45009 on every call of `path` ("*": all) for `seconds` of the stand-in's clock."""
        with self.state.lock:
            self.state.blocked[path] = self.state.clock() + seconds

    def expire_tokens(self) -> None:
        with self.state.lock:
            self.state.tokens.clear()

    def add_media(self, media_id: str, data: bytes, name: str) -> None:
        with self.state.lock:
            self.state.media[media_id] = (data, name)

    def add_encrypted_media(self, data: bytes, encoding_aes_key: str) -> str:
        """Serve `data` as a smart robot's media url serves it: AES-256-CBC
        with the bot's key, IV = key[:16], PKCS#7 padded to 32 (WECOM.md §7).
        The url to put in a callback."""
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
        key = base64.b64decode(encoding_aes_key + "=")
        pad = 32 - len(data) % 32
        encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
        sealed = encryptor.update(data + bytes([pad]) * pad) + encryptor.finalize()
        name = secrets.token_hex(8)
        with self.state.lock:
            self.state.media["url:" + name] = (sealed, "")
        return f"{self.api_base}_media/{name}"

    def response_url(self) -> str:
        """A fresh one-use response_url, as a smart robot's callback carries."""
        code = secrets.token_hex(8)
        with self.state.lock:
            self.state.response_codes[code] = False
        return f"{self.api_base}aibot/response?response_code={code}"

    def click(self, task_id: str) -> str:
        """A person clicks a button of the card `task_id`: the fresh response_code
        WeCom puts in the template_card_event (one update_template_card, 72 h)."""
        code = "rc-" + secrets.token_hex(12)
        with self.state.lock:
            if task_id not in self.state.card_tasks:
                raise KeyError(f"no card {task_id} was sent")
            self.state.card_codes[code] = (task_id, self.state.clock(), False)
        return code

    def add_chat(self, chat_id: str, users: list[str]) -> None:
        with self.state.lock:
            self.state.chats[chat_id] = list(users)
    def sign_in_as(self, userid: str | None) -> None:
        """Whom the OAuth pages sign in (as if they had scanned the QR code)."""
        with self.state.lock:
            self.state.oauth_user = userid

    def register_code(self, code: str, userid: str) -> None:
        """A one-use OAuth code auth/getuserinfo will accept for `userid`."""
        with self.state.lock:
            self.state.oauth_codes[code] = (userid, self.state.clock())

    def received(self, path: str | None = None) -> list[dict]:
        with self.state.lock:
            return [r for r in self.state.received if path is None or r["path"] == path]

    def dropped(self, path: str | None = None) -> list[dict]:
        with self.state.lock:
            return [r for r in self.state.dropped if path is None or r["path"] == path]


def main() -> None:
    parser = argparse.ArgumentParser(description="Loopback WeCom API stand-in")
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--limits", choices=["lenient", "real"], default="lenient",
                        help="real: per-person, appchat person-time and per-API corp limits, "
                             "with WeCom's silent drops and 45009 blocks")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds slept on every API call")
    parser.add_argument("--ws-port", type=int, default=8092,
                        help="the smart robot's long connection (aibot.ws_url)")
    args = parser.parse_args()
    standin = WeComStandin(args.port, args.limits, args.latency, ws_port=args.ws_port)
    print(f"WeCom stand-in on {standin.api_base} (limits {args.limits}, latency {args.latency}s), "
          f"long connection on {standin.ws_url}", flush=True)
    standin.server.serve_forever()


if __name__ == "__main__":
    main()
