"""Helpers for the workbench's tests: accounts for the sample county's
people, and a test client that signs in through the real form (CSRF token
and all) and sends a form's token with every POST."""
from __future__ import annotations

import re

import pytest

from bot.web import create_app
from bot.web.workbench.passwords import hash_password
from storage.accounts import holder_by_userid, open_account
from storage.db import transaction

PASSWORD = "pa55-word-2026"
ORG, COMMITTEE, SECRETARY, OTHER_SECRETARY = "s7001", "s7004", "u700001", "u700012"  # ZB0001, ZB0002 (DW01)
FAR_SECRETARY = "u700030"  # not used by default
_TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
_HASHED = hash_password(PASSWORD)  # argon2 is slow on purpose: hash once for every test


def add_account(rt, userid: str, password_hash: str | None = _HASHED) -> None:
    with transaction(rt.sessions) as s:
        member, _unit, _account = holder_by_userid(s, userid)
        open_account(s, member, password_hash, rt.clock.now())


class Client:
    """A browser's view of the workbench: cookies, the CSRF token, forms."""

    def __init__(self, app, user: str | None = None, password: str = PASSWORD, address: str = "127.0.0.1"):
        self.http = app.test_client()
        self.http.environ_base["REMOTE_ADDR"] = address
        if user:
            response = self.sign_in(user, password)
            assert response.status_code == 302, response.get_data(as_text=True)[-600:]

    def token(self, url: str = "/dashboard/login") -> str:
        page = self.http.get(url).get_data(as_text=True)
        found = _TOKEN.search(page)
        if found is None:  # signed in: the login page redirects; every page has the sign-out form
            found = _TOKEN.search(self.http.get("/dashboard/downloads").get_data(as_text=True))
        return found.group(1)

    def sign_in(self, user: str, password: str = PASSWORD, next_url: str = ""):
        return self.http.post("/dashboard/login", data={"csrf_token": self.token(), "userid": user,
                                                        "password": password, "next": next_url})

    def get(self, url: str, **kw):
        return self.http.get(url, **kw)

    def page(self, url: str) -> str:
        response = self.http.get(url)
        assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True)[:300])
        return response.get_data(as_text=True)

    def post(self, url: str, data: dict | None = None, token: bool = True, **kw):
        data = dict(data or {})
        if token:
            data["csrf_token"] = self.token()
        return self.http.post(url, data=data, **kw)


@pytest.fixture
def accounts(wired):
    for user in (ORG, COMMITTEE, SECRETARY, OTHER_SECRETARY):
        add_account(wired, user)
    return wired


@pytest.fixture
def app(accounts):  # the workbench app over the wired county (overrides conftest's app for these tests)
    return create_app(runtime=accounts)


@pytest.fixture
def as_org(app):
    return Client(app, ORG)


@pytest.fixture
def as_committee(app):
    return Client(app, COMMITTEE)


@pytest.fixture
def as_secretary(app):
    return Client(app, SECRETARY)
