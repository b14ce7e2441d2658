"""A gunicorn worker a slow client cannot pin: gthread, but each request is
read whole by the event loop before a thread sees it.

Why not gunicorn's gthread as it is (read in gunicorn 23.0.0,
workers/gthread.py): it waits in its poller only for a connection's first
byte; then `TConn.init` makes the socket blocking, with no timeout, and a
pool thread parses the request from it. A client that sends one header line
every few seconds (slowloris) holds that thread for as long as it likes, and
`timeout` never fires because the worker's main loop keeps its heartbeat.
`threads` slow clients take a worker offline. A connection that sends
nothing waits in the poller forever too. (A later gunicorn change, PR
#3519, hands a connection silent for 5 s back to the poller; a trickle of
bytes still holds a thread.)

Here the main loop reads every request — head and body — with non-blocking
`recv`s into a buffer, under one deadline per request (`read_timeout`
seconds from the connection, or from a kept-alive connection's first new
byte). Only a complete request goes to a thread, which parses it from the
buffer and never waits on the client; its socket has `read_timeout` as a
timeout for writing the answer. What is refused here, by a short answer
and a close: a head over MAX_HEAD (431), a body without a length (411: WeCom
and browsers send Content-Length), a request not complete by its deadline
(408). A declared body over `max_body` (or, for the workbench's upload
form alone, over `max_upload`: a roster .xlsx) goes to the app unread, which
answers 413; that answer, and the answer to a request followed by pipelined
bytes, says `Connection: close`, so no thread ever parses bytes the loop
has not judged.

Idle connections cost a poller slot and a small buffer, up to gunicorn's
`worker_connections` per worker; a flood beyond that is a reverse proxy's
job (README, "Deployment").
"""
from __future__ import annotations

import errno
import re
import socket
import time
from functools import partial
from selectors import EVENT_READ

from gunicorn.workers.gthread import TConn, ThreadWorker

MAX_HEAD = 32 * 1024  # request line and headers; gunicorn's own per-line limits still apply after
_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*([0-9]{1,18})[ \t]*(?=\r\n)")
_UPLOAD = re.compile(rb"post /dashboard/upload[ ?]")  # the one route that takes files (lower-cased head)
READY, WAIT, PASS = "ready", "wait", "pass"


def judge_head(head: bytes, max_body: int, max_upload: int = 0) -> tuple[str | int, int]:
    """(READY, body length to wait for), (PASS, 0) to hand on without its
    body (the app refuses the declared size, gunicorn a malformed length),
    or (an HTTP status to refuse it with here, 0). `head`: lower-cased,
    request line and header lines each ending in CRLF."""
    if b"\r\ntransfer-encoding:" in head:
        return 411, 0
    if max_upload and _UPLOAD.match(head):
        max_body = max_upload
    lengths = set(_LENGTH.findall(head))
    if not lengths:
        return (PASS if b"\r\ncontent-length:" in head else READY), 0
    length = int(lengths.pop())
    if lengths or length > max_body:  # two different lengths, or more than we take
        return PASS, 0
    return READY, length


class Pending:
    """The bytes of a request being read. Each chunk costs its own length:
    the head's end is searched only in what is new, and once it is found
    the request's whole size is known."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.whole: int | None = None  # head + body, once the head is in
        self.expects_continue = False

    def add(self, chunk: bytes, max_body: int, max_upload: int = 0) -> str | int:
        """READY, WAIT, PASS, or a refusal status (see judge_head)."""
        scanned = len(self.data)
        self.data += chunk
        if self.whole is None:
            end = self.data.find(b"\r\n\r\n", max(0, scanned - 3))
            if end < 0 or end > MAX_HEAD:
                return 431 if len(self.data) > MAX_HEAD else WAIT
            head = bytes(self.data[:end + 2]).lower()
            verdict, length = judge_head(head, max_body, max_upload)
            if verdict != READY:
                return verdict
            self.whole = end + 4 + length
            self.expects_continue = b"\r\nexpect: 100-continue" in head
        return READY if len(self.data) >= self.whole else WAIT

    @property
    def pipelined(self) -> bool:
        """Bytes beyond this request: the start of another."""
        return self.whole is not None and len(self.data) > self.whole


class BufferedConn(TConn):
    def __init__(self, cfg, sock, client, server) -> None:
        super().__init__(cfg, sock, client, server)
        self.pending = Pending()
        self.deadline = 0.0
        self.close_after = False  # answer this request, then close


class BufferedThreadWorker(ThreadWorker):
    read_timeout: float = 10.0  # set by bot/web/server.py from server.read_timeout
    max_body: int = 64 * 1024   # set from the app's body cap
    max_upload: int = 0         # the upload form's cap (0: none beyond max_body)

    def init_process(self) -> None:
        self._reading: dict[BufferedConn, None] = {}  # insertion order is deadline order
        super().init_process()

    @classmethod
    def check_config(cls, cfg, log) -> None:
        super().check_config(cfg, log)
        if cfg.is_ssl:  # the loop reads raw bytes; TLS ends at the reverse proxy
            raise RuntimeError("BufferedThreadWorker does not terminate TLS; put a reverse proxy in front")

    def accept(self, server, listener) -> None:
        try:
            sock, client = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        conn = BufferedConn(self.cfg, sock, client, server)
        self.nr_conns += 1
        self._start_reading(conn)
        self._wait(conn)

    def _start_reading(self, conn: BufferedConn) -> None:
        conn.pending, conn.deadline = Pending(), time.monotonic() + self.read_timeout
        self._reading[conn] = None

    def _wait(self, conn: BufferedConn) -> None:
        with self._lock:
            self.poller.register(conn.sock, EVENT_READ, partial(self.on_client_socket_readable, conn))

    def on_client_socket_readable(self, conn: BufferedConn, client) -> None:
        with self._lock:
            self.poller.unregister(client)
            if conn not in self._reading:  # kept alive: its next request begins
                try:
                    self._keep.remove(conn)
                except ValueError:
                    return  # closed as idle meanwhile
                self._start_reading(conn)
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return self._wait(conn)
        except OSError:
            return self._drop(conn)
        if not data:
            return self._drop(conn)  # the client went away
        state = conn.pending.add(data, self.max_body, self.max_upload)
        if state == WAIT:
            if conn.pending.expects_continue:  # curl and others wait a second for this before the body
                conn.pending.expects_continue = False
                _send_now(conn.sock, b"HTTP/1.1 100 Continue\r\n\r\n")
            return self._wait(conn)
        if isinstance(state, int):
            return self._drop(conn, state)
        del self._reading[conn]
        # Passed on unread, or followed by pipelined bytes: a later request on this socket would
        # be parsed by a thread from bytes the loop never judged, waiting on the client. Close
        # after the answer instead (clients that pipeline retry on a new connection).
        conn.close_after = state == PASS or conn.pending.pipelined
        self.enqueue_req(conn)

    def enqueue_req(self, conn: BufferedConn) -> None:
        conn.init()  # the parser (once per connection), a blocking socket…
        conn.sock.settimeout(self.read_timeout)  # …but never an unbounded wait on the client
        conn.parser.unreader.unread(bytes(conn.pending.data))  # after any unread body of the last request
        conn.pending = Pending()
        self._wrap_future(self.tpool.submit(self.handle, conn), conn)

    def handle_request(self, req, conn: BufferedConn) -> bool:
        if conn.close_after:
            req.must_close = True  # the answer says "Connection: close", and gunicorn closes after it
        return super().handle_request(req, conn)

    def murder_keepalived(self) -> None:
        """Called by the main loop at least once a second: idle kept-alive
        connections (gunicorn's), and requests past their deadline (ours)."""
        super().murder_keepalived()
        now = time.monotonic()
        while self._reading:
            conn = next(iter(self._reading))
            if conn.deadline > now:
                break
            with self._lock:
                try:
                    self.poller.unregister(conn.sock)
                except (KeyError, ValueError, OSError):
                    pass
            self._drop(conn, 408)

    def _drop(self, conn: BufferedConn, status: int | None = None) -> None:
        self._reading.pop(conn, None)
        if status is not None:
            _send_now(conn.sock, f"HTTP/1.1 {status} {_REASONS[status]}\r\nContent-Type: text/plain; "
                      f"charset=utf-8\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
        self.nr_conns -= 1
        conn.close()


_REASONS = {408: "Request Timeout", 411: "Length Required", 431: "Request Header Fields Too Large"}


def _send_now(sock: socket.socket, data: bytes) -> None:
    """A few bytes, if the (non-blocking) socket takes them now; never a wait."""
    try:
        sock.send(data)
    except OSError:
        pass


def buffered_worker(read_timeout: float, max_body: int, max_upload: int = 0) -> type[BufferedThreadWorker]:
    """The worker class with this deployment's limits (workers are forked: class attributes travel)."""
    return type("BufferedThreadWorker", (BufferedThreadWorker,),
                {"read_timeout": float(read_timeout), "max_body": int(max_body), "max_upload": int(max_upload)})
