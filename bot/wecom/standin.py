"""A loopback stand-in of the WeCom API for tests, benchmarks and the demo.

It speaks the real wire format of the endpoints we use (gettoken,
message/send, appchat/send, webhook/send, media/get, media/upload,
auth/getuserinfo, and the two OAuth pages of WeCom sign-in) and can
be told to misbehave: answer 45009 / 42001 / -1 / HTTP 5xx for the next N
calls, be slow, or expire every token. It enforces the group robot's
20 messages / minute / key, answers 93000 for robot keys starting with
"bad", and lists users starting with "gone" as invaliduser.

Run alone: python -m bot.wecom.standin --port 8091
Control over HTTP (for other processes): GET /_standin/received,
POST /_standin/fault {"path": "...", "errcode": 45009, "times": 2},
POST /_standin/slow {"seconds": 0.05}, POST /_standin/expire-tokens,
POST /_standin/oauth-user {"userid": "s7001"} (whom the OAuth pages sign in),
POST /_standin/oauth-code {"code": "…", "userid": "s7001"} (a code to accept).

WeCom sign-in: GET /connect/oauth2/authorize (inside WeCom) and
/wwlogin/sso/login (the QR page) send the browser straight back to
`redirect_uri` with a fresh one-use code for the user set by oauth-user (as
if they had scanned) and the `state` given; auth/getuserinfo turns a code
into {"userid": …} once, within 5 minutes, else errcode 40029."""
from __future__ import annotations

import argparse
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
OAUTH_PAGES = ("connect/oauth2/authorize", "wwlogin/sso/login")
OAUTH_CODE_SECONDS = 300


@dataclass
class Fault:
    errcode: int | None = None   # a WeCom errcode, or None with http_status
    http_status: int = 200
    times: int = 1


@dataclass
class StandinState:
    lock: threading.Lock = field(default_factory=threading.Lock)
    tokens: set[str] = field(default_factory=set)
    token_fetches: int = 0
    received: list[dict] = field(default_factory=list)
    faults: dict[str, list[Fault]] = field(default_factory=lambda: defaultdict(list))
    robot_sends: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))
    delay: float = 0.0
    clock: Callable[[], float] = time.monotonic  # tests hand in their frozen clock
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    oauth_user: str | None = None                     # who "scans" on the OAuth pages
    oauth_codes: dict[str, tuple[str, float]] = field(default_factory=dict)  # code -> (userid, issued)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections
    disable_nagle_algorithm = True  # headers and body go out at once (no 40 ms delayed-ACK stall)
    state: StandinState

    def log_message(self, *args) -> None:  # quiet
        pass

    def _answer(self, doc: dict | None = None, status: int = 200, raw: bytes | None = None,
                headers: dict | None = None) -> None:
        body = raw if raw is not None else json.dumps(doc or {}, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8" if raw is None
                         else "application/octet-stream")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def _route(self, method: str) -> None:
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        path = url.path.rsplit("/cgi-bin/", 1)[-1].lstrip("/")
        body = self._body()
        if path.startswith("_standin/"):
            return self._control(path[len("_standin/"):], body)
        if path in OAUTH_PAGES:
            return self._authorize(query)
        st = self.state
        if st.delay:
            time.sleep(st.delay)
        fault = self._take_fault(path)
        if fault and fault.errcode is None:
            return self._answer({"errcode": -1, "errmsg": "injected"}, fault.http_status)
        if fault:
            return self._answer({"errcode": fault.errcode, "errmsg": "injected fault"})
        if path == "gettoken":
            return self._gettoken(query)
        if path == "webhook/send":
            return self._robot(query, body)
        if path == "webhook/upload_media":
            return self._answer({"errcode": 0, "media_id": "robot-media-" + secrets.token_hex(4)})
        if not self._valid_token(query.get("access_token", "")):
            return self._answer({"errcode": 42001, "errmsg": "access_token expired"})
        if path in ("message/send", "appchat/send"):
            return self._send(path, body)
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

    def _record(self, path: str, address: str, doc: dict) -> None:
        with self.state.lock:
            self.state.received.append({"path": path, "to": address, "body": doc, "at": time.time()})

    def _robot(self, query: dict, body: bytes) -> None:
        key = query.get("key", "")
        if not key or key.startswith("bad"):
            return self._answer({"errcode": 93000, "errmsg": "invalid webhook url"})
        now = self.state.clock()
        with self.state.lock:
            sends = self.state.robot_sends[key]
            while sends and now - sends[0] > 60:
                sends.popleft()
            if len(sends) >= ROBOT_LIMIT_PER_MINUTE:
                return self._answer({"errcode": 45009, "errmsg": "api freq out of limit"})
            sends.append(now)
        self._record("webhook/send", key, json.loads(body or b"{}"))
        self._answer({"errcode": 0, "errmsg": "ok"})

    def _send(self, path: str, body: bytes) -> None:
        doc = json.loads(body or b"{}")
        if path == "appchat/send":
            self._record(path, doc.get("chatid", ""), doc)
            return self._answer({"errcode": 0, "errmsg": "ok"})
        users = [u for u in doc.get("touser", "").split("|") if u]
        invalid = [u for u in users if u.startswith("gone")]
        if users and len(invalid) == len(users):
            return self._answer({"errcode": 81013, "errmsg": "user & party & tag all invalid",
                                 "invaliduser": "|".join(invalid)})
        self._record(path, "|".join(u for u in users if u not in invalid), doc)
        self._answer({"errcode": 0, "errmsg": "ok", "invaliduser": "|".join(invalid),
                      "msgid": secrets.token_hex(8)})

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
        with st.lock:
            if action == "received":
                return self._answer({"received": st.received, "token_fetches": st.token_fetches})
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
            elif action == "reset":
                st.received.clear()
                st.faults.clear()
                st.robot_sends.clear()
        self._answer({"ok": True})


class WeComStandin:
    """Start on a free loopback port; `api_base` is what wecom.api_base takes."""

    def __init__(self, port: int = 0):
        self.state = StandinState()
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.server.daemon_threads = True
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

    # test helpers, same process
    def fail(self, path: str, errcode: int | None = None, times: int = 1, http_status: int = 200) -> None:
        with self.state.lock:
            self.state.faults[path].append(Fault(errcode, http_status, times))

    def expire_tokens(self) -> None:
        with self.state.lock:
            self.state.tokens.clear()

    def add_media(self, media_id: str, data: bytes, name: str) -> None:
        with self.state.lock:
            self.state.media[media_id] = (data, name)

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


def main() -> None:
    parser = argparse.ArgumentParser(description="Loopback WeCom API stand-in")
    parser.add_argument("--port", type=int, default=8091)
    args = parser.parse_args()
    standin = WeComStandin(args.port)
    print(f"WeCom stand-in on {standin.api_base}", flush=True)
    standin.server.serve_forever()


if __name__ == "__main__":
    main()
