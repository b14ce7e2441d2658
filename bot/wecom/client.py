"""The one WeCom API client. Every send either returns or raises
SendError(message, permanent): permanent errors (bad robot key, invalid
user, bad secret) are not retried; transient ones (-1, 45009, 45033, HTTP
5xx, network) are retried here a few times with backoff and jitter, and
after that by the delivery worker.

The access token lives in the database, shared by every process: fetched
once under a lease, refreshed before expiry and when WeCom says it is
invalid (40014 / 42001 / 42007 / 42009). wechatpy's client keeps tokens
per process (MemoryStorage) and its gettoken call has no timeout, so it is
not used for sending."""
from __future__ import annotations

import logging
import random
import threading
import time
from datetime import timedelta
from typing import Any, Callable
from urllib.parse import unquote

import requests
from requests.adapters import HTTPAdapter

from bot.runtime import Runtime
from sqlalchemy.exc import OperationalError

from storage.db import transaction
from storage.leases import holder_name, release, store_token, stored_token, try_acquire

log = logging.getLogger(__name__)
# urllib3 logs every request line at DEBUG, and ours carry corpsecret or
# access_token in the query: keep it quiet whatever the root level is.
logging.getLogger("urllib3").setLevel(logging.INFO)
TOKEN_ERRORS = {40014, 42001, 42007, 42009}
TRANSIENT_ERRORS = {-1, 45009, 45033}
RATE_LIMITED = {45009, 45033}
REFRESH_MARGIN = timedelta(minutes=5)
TRIES = 3


class SendError(Exception):
    """A send that did not happen. `permanent`: retrying cannot help (a bad
    key, an unknown user); `retry_after`: seconds to wait first; `attempted`
    False: nothing was tried (paced), so it costs no attempt."""

    def __init__(self, message: str, permanent: bool, retry_after: float | None = None,
                 attempted: bool = True):
        super().__init__(message)
        self.permanent, self.retry_after, self.attempted = permanent, retry_after, attempted


class WeComClient:
    def __init__(self, runtime: Runtime, sleep: Callable[[float], None] = time.sleep,
                 pool_size: int = 64):
        config = runtime.config
        self.base = config["wecom.api_base"].rstrip("/") + "/"
        self.corp_id, self.secret = config["wecom.corp_id"], config["wecom.secret"]
        self.agent_id, self.timeout = config["wecom.agent_id"], config["wecom.timeout"]
        self.runtime, self.sleep = runtime, sleep
        self.http = requests.Session()
        # Read proxy settings once, not on every call (requests scans the
        # environment per request: a fifth of a push's CPU time).
        self.http.proxies.update(requests.utils.getproxies())
        self.http.trust_env = False
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
        self.http.mount("http://", adapter)
        self.http.mount("https://", adapter)
        self._token: tuple[str, Any] | None = None  # (token, expires_at) cached from the DB
        self.process = holder_name(str(id(self)))
        self.lease_ttl = timedelta(seconds=config["scheduler.lease_seconds"])  # a dead fetcher's lease lapses

    # ---- token -------------------------------------------------------
    @property
    def holder(self) -> str:
        """Who holds the token lease: this thread (threads share a client)."""
        return f"{self.process}:{threading.get_ident()}"

    @property
    def token_key(self) -> str:
        return f"{self.corp_id}:{self.agent_id}"  # never the secret itself

    def access_token(self, stale: str | None = None) -> str:
        """A valid token; `stale` is one WeCom just refused."""
        now = self.runtime.clock.now()
        if self._token and self._token[0] != stale and self._token[1] > now + REFRESH_MARGIN:
            return self._token[0]
        lease, give_up = f"token:{self.token_key}", time.monotonic() + self.timeout
        while True:
            try:
                with transaction(self.runtime.sessions) as session:
                    # Take the lease first, then read: a token stored by whoever
                    # held the lease before us is then always seen.
                    mine = try_acquire(session, lease, self.holder, now, self.lease_ttl)
                    stored = stored_token(session, self.token_key)
                    if stored and stored[0] != stale and stored[1] > now + REFRESH_MARGIN:
                        if mine:
                            release(session, lease, self.holder, now)
                        self._token = stored
                        return stored[0]
            except OperationalError:  # a lock conflict with another process: try again
                mine = False
            if mine:
                return self._fetch_token()
            if time.monotonic() > give_up:
                raise SendError("取 access_token 超时", permanent=False)
            time.sleep(0.05)  # another thread or process is fetching it: wait for its result
            now = self.runtime.clock.now()  # so a dead fetcher's lease is seen to lapse

    def _fetch_token(self) -> str:
        """Fetch under the lease; store the token before letting go of it, so
        a waiting process reads this token instead of fetching its own."""
        lease = f"token:{self.token_key}"
        try:
            doc = self._request("GET", "gettoken", params={"corpid": self.corp_id, "corpsecret": self.secret})
        except SendError:
            with transaction(self.runtime.sessions) as session:
                release(session, lease, self.holder, self.runtime.clock.now())
            raise
        now = self.runtime.clock.now()
        expires = now + timedelta(seconds=int(doc.get("expires_in", 7200)))
        with transaction(self.runtime.sessions) as session:
            store_token(session, self.token_key, doc["access_token"], expires)
            release(session, lease, self.holder, now)
        self._token = (doc["access_token"], expires)
        log.info("fetched a new WeCom access token (expires %s)", expires)
        return doc["access_token"]

    # ---- calls -------------------------------------------------------
    def _request(self, method: str, path: str, **kw) -> dict:
        """One HTTP call with quick retries of transient failures."""
        for attempt in range(TRIES):
            try:
                response = self.http.request(method, self.base + path, timeout=self.timeout, **kw)
                if response.status_code >= 500:
                    raise SendError(f"HTTP {response.status_code}", permanent=False)
                doc = response.json() if "json" in response.headers.get("Content-Type", "") else \
                    {"errcode": 0, "_content": response.content, "_headers": response.headers}
            except (requests.RequestException, ValueError) as e:
                error = SendError(f"网络错误：{type(e).__name__}", permanent=False)
            except SendError as e:
                error = e
            else:
                code = doc.get("errcode", 0)
                if code == 0 or code in TOKEN_ERRORS:
                    return doc
                if code in RATE_LIMITED:  # back off from this target; the worker retries later
                    raise SendError(f"{code} 频率超限", permanent=False, retry_after=60)
                if code not in TRANSIENT_ERRORS:
                    raise SendError(f"{code} {doc.get('errmsg', '')}".strip(), permanent=True)
                error = SendError(f"{code} {doc.get('errmsg', '')}", permanent=False)
            if attempt + 1 < TRIES:
                self.sleep(0.2 * 2 ** attempt + random.uniform(0, 0.1))
        raise error

    def call(self, path: str, payload: dict | None = None, method: str = "POST",
             params: dict | None = None) -> dict:
        """An authenticated API call; an invalid token is refreshed once."""
        token = self.access_token()
        for _ in range(2):
            doc = self._request(method, path, params={**(params or {}), "access_token": token},
                                json=payload)
            if doc.get("errcode", 0) not in TOKEN_ERRORS:
                return doc
            log.info("WeCom refused the access token (%s); refreshing", doc.get("errcode"))
            token = self.access_token(stale=token)
        raise SendError(f"{doc.get('errcode')} access_token 无效", permanent=False)

    # ---- messages (the channels in bot/outbound/channels/ call these) ----
    def send_robot(self, key: str, content: str, msg_format: str = "markdown") -> None:
        doc = self._request("POST", "webhook/send", params={"key": key},
                            json={"msgtype": msg_format, msg_format: {"content": content}})
        if doc.get("errcode", 0) != 0:
            raise SendError(f"{doc.get('errcode')} {doc.get('errmsg', '')}", permanent=True)

    def send_appchat(self, chat_id: str, content: str, msg_format: str = "markdown") -> None:
        self.call("appchat/send", {"chatid": chat_id, "msgtype": msg_format,
                                   msg_format: {"content": content}, "safe": 0})

    def send_user(self, userid: str, content: str, msg_format: str = "markdown") -> None:
        doc = self.call("message/send", {
            "touser": userid, "agentid": self.agent_id, "msgtype": msg_format,
            msg_format: {"content": content}, "safe": 0,
            "enable_duplicate_check": 1, "duplicate_check_interval": 1800})
        if doc.get("invaliduser"):
            raise SendError(f"无效用户 {doc['invaliduser']}", permanent=True)

    def user_id_for_code(self, code: str) -> str:
        """The WeCom id behind a web sign-in's one-use OAuth code (auth/getuserinfo,
        WECOM.md §7). Someone outside the corp gets an openid only: refused."""
        doc = self.call("auth/getuserinfo", method="GET", params={"code": code})
        userid = doc.get("userid") or doc.get("UserId")
        if not userid:
            raise SendError("不是本企业成员（无 userid）", permanent=True)
        return userid

    def download_media(self, media_id: str) -> tuple[bytes, str | None]:
        """(bytes, file name from Content-Disposition) of an inbound media id."""
        doc = self.call("media/get", method="GET", params={"media_id": media_id})
        if "_content" not in doc:
            raise SendError(f"{doc.get('errcode')} 下载失败", permanent=True)
        return doc["_content"], file_name(doc["_headers"].get("Content-Disposition", ""))


def file_name(disposition: str) -> str | None:
    """The file name of a Content-Disposition header: RFC 5987 filename*=,
    or a plain filename= carrying raw UTF-8 (as WeCom sends it)."""
    if "filename*=" in disposition:
        encoded = disposition.split("filename*=")[-1].split(";")[0].strip()
        return unquote(encoded.split("''", 1)[-1])
    if "filename=" not in disposition:
        return None
    raw = disposition.split("filename=")[-1].split(";")[0].strip().strip('"')
    try:
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return raw
