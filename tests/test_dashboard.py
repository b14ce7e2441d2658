"""The org department's dashboard: who may see it, and only their branches."""
import base64
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.web import create_app
from bot.config import load_config
from storage.db import transaction
from storage.models import Organization
from tests.conftest import set_group_address


@pytest.fixture
def web(wired):
    wired.config = load_config(environ={}, use_file=False,
                               overrides={**wired.config.values, "dashboard.password": "pa55-word"})
    return create_app(runtime=wired).test_client()


def progress_codes(page):
    return set(re.findall(r"<td>(ZB\d{4})</td><td>\d+/\d+", page))


def login(user, password="pa55-word"):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_needs_a_staff_login(web):
    assert web.get("/dashboard/").status_code == 401
    assert web.get("/dashboard/", headers=login("s7001", "wrong")).status_code == 401
    assert web.get("/dashboard/", headers=login("u700001")).status_code == 403  # a secretary
    assert web.get("/dashboard/", headers=login("nobody")).status_code == 403


def test_disabled_without_a_password(county):
    assert create_app(runtime=county).test_client().get("/dashboard/").status_code == 404


def test_org_department_sees_every_branch_and_failed_deliveries(web, wired, standin, worker, wecom):
    set_group_address(wired, "ZB0002", "bad-key")
    wecom.say("s7001", "催办 1")
    worker.drain()
    page = web.get("/dashboard/", headers=login("s7001")).get_data(as_text=True)
    assert "中共某某县委组织部" in page and len(progress_codes(page)) == 36
    assert "93000" in page and "chase-" in page


def test_committee_sees_only_its_branches(web):
    page = web.get("/dashboard/", headers=login("s7004")).get_data(as_text=True)
    assert "县直机关工委" in page and len(progress_codes(page)) == 6 and "ZB0004" not in page


def test_ledger_download_is_scoped(web, wecom):
    wecom.say("u700001", "完成 1 已排查")
    response = web.get("/dashboard/ledger.xlsx?from=2026-11&to=2026-11", headers=login("s7004"))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert len(book.sheetnames) == 7 and book.sheetnames[1].startswith("ZB0001")
    assert web.get("/dashboard/ledger.xlsx?from=2026-13", headers=login("s7004")).status_code == 400


def test_bulletin_page(web):
    text = web.get("/dashboard/bulletin?month=2026-11", headers=login("s7001")).get_data(as_text=True)
    assert "2026年11月基层党建重点工作完成情况的通报" in text
