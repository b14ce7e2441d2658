"""Checks against the WeCom API that send nothing, for `python -m bot
doctor`: is a group robot's key valid (an upload to the robot's media
store, which posts nothing into the group), does an app group chat exist
(`appchat/get`), what time the API's server says it is (the HTTP Date
header). Each answers None when all is well, else why not; `Unavailable`
when the API cannot tell (it does not know the call, or is unreachable)."""
from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime

import requests

from bot.wecom.client import SendError, WeComClient

PROBE_FILE = ("zhibu-doctor.txt", b"zhibu doctor: key check, not a message\n", "text/plain")


class Unavailable(Exception):
    """The API could not say (unknown call, network, not JSON)."""


def _json(response: requests.Response) -> dict:
    if response.status_code == 404 or "json" not in response.headers.get("Content-Type", ""):
        raise Unavailable(f"HTTP {response.status_code}")
    return response.json()


def robot_key_problem(client: WeComClient, key: str) -> str | None:
    """None if the robot key is valid; checked by uploading a small file
    (webhook/upload_media), which sends nothing to the group."""
    try:
        response = client.http.post(client.base + "webhook/upload_media", params={"key": key, "type": "file"},
                                    files={"media": PROBE_FILE}, timeout=client.timeout)
    except requests.RequestException as e:
        raise Unavailable(type(e).__name__) from None
    doc = _json(response)
    return None if doc.get("errcode", 0) == 0 else f"{doc.get('errcode')} {doc.get('errmsg', '')}".strip()


def appchat_problem(client: WeComClient, chat_id: str) -> str | None:
    """None if the app's group chat exists (appchat/get)."""
    try:
        token = client.access_token()
        response = client.http.get(client.base + "appchat/get", params={"chatid": chat_id, "access_token": token},
                                   timeout=client.timeout)
    except (requests.RequestException, SendError) as e:
        raise Unavailable(str(e) or type(e).__name__) from None
    doc = _json(response)
    return None if doc.get("errcode", 0) == 0 else f"{doc.get('errcode')} {doc.get('errmsg', '')}".strip()


def server_time(client: WeComClient) -> datetime | None:
    """The API server's time (UTC, aware) from its Date header, or None."""
    try:
        response = client.http.get(client.base + "gettoken", timeout=client.timeout)
    except requests.RequestException as e:
        raise Unavailable(type(e).__name__) from None
    date = response.headers.get("Date")
    try:
        return parsedate_to_datetime(date) if date else None
    except (TypeError, ValueError):
        return None
