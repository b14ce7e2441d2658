"""A small load generator: pre-encrypted WeCom callbacks sent over
keep-alive connections from several processes; latencies in ms."""
from __future__ import annotations

import http.client
import time
from multiprocessing import Pool
from urllib.parse import urlencode

from bot.wecom.crypto import MessageCrypto, signature


def build_requests(token: str, aes: str, corp: str, users: list[str], texts: list[str], count: int,
                   id_base: int) -> list[tuple[str, bytes]]:
    crypto, now, out = MessageCrypto(token, aes, corp), str(int(time.time())), []
    for i in range(count):
        plain = (f"<xml><ToUserName>{corp}</ToUserName><FromUserName>{users[i % len(users)]}</FromUserName>"
                 f"<CreateTime>{now}</CreateTime><MsgType>text</MsgType>"
                 f"<Content><![CDATA[{texts[i % len(texts)]}]]></Content><MsgId>{id_base + i}</MsgId>"
                 f"<AgentID>1</AgentID></xml>")
        encrypt, nonce = crypto.encrypt(plain), f"n{i}"
        query = urlencode({"msg_signature": signature(token, now, nonce, encrypt), "timestamp": now, "nonce": nonce})
        out.append((f"/wecom/callback?{query}", f"<xml><ToUserName>{corp}</ToUserName><Encrypt>{encrypt}</Encrypt></xml>".encode()))
    return out


def _worker(args) -> list[float]:
    port, batch, rate = args
    conn, latencies = http.client.HTTPConnection("127.0.0.1", port, timeout=30), []
    start = time.perf_counter()
    for n, (path, body) in enumerate(batch):
        if rate:  # open loop: keep the schedule, whatever the latency
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        t0 = time.perf_counter()
        try:
            conn.request("POST", path, body=body, headers={"Content-Type": "text/xml"})
            response = conn.getresponse()
            response.read()
            ok = response.status == 200
        except (http.client.HTTPException, OSError):
            conn.close()
            conn, ok = http.client.HTTPConnection("127.0.0.1", port, timeout=30), False
        if response.getheader("Connection", "").lower() == "close":
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies.append((time.perf_counter() - t0) * 1000 if ok else -1.0)
    return latencies


def run(port: int, requests: list[tuple[str, bytes]], connections: int, rate: float | None = None) -> dict:
    """Throughput and latency percentiles; `rate` (per second, in total) paces the load."""
    batches = [requests[i::connections] for i in range(connections)]
    per_connection_rate = rate / connections if rate else None
    t0 = time.perf_counter()
    with Pool(connections) as pool:
        results = pool.map(_worker, [(port, b, per_connection_rate) for b in batches])
    elapsed = time.perf_counter() - t0
    latencies = sorted(x for r in results for x in r if x >= 0)
    errors = sum(1 for r in results for x in r if x < 0)
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else float("nan")  # noqa: E731
    return {"rps": len(latencies) / elapsed, "p50": pick(0.5), "p99": pick(0.99), "errors": errors,
            "count": len(latencies)}
