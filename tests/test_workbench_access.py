"""Every workbench route's access rules, as a table: each role (org
department, committee, branch secretary — and a deputy and a 支委, who get
the secretary's column), signed out (→ the sign-in page,
before anything is read), another subtree's branch or task (→ 404, as if
it did not exist), a role's missing right (→ 403). A route added without
a row here fails the last test."""
import pytest

from storage.db import transaction
from storage.outbox import Message, enqueue
from tests.workbench import Client, accounts, app  # noqa: F401

ORG, COMMITTEE, SECRETARY = "s7001", "s7004", "u700001"   # 县直机关工委 (DW01) holds ZB0001, not ZB0004
# (method, url, rule): {who: status}
TABLE = [
    ("GET", "/dashboard/", "/dashboard/", (200, 200, 200)),
    ("GET", "/dashboard/matrix", "/dashboard/matrix", (200, 200, 200)),
    ("GET", "/dashboard/tasks/1", "/dashboard/tasks/<int(max=2147483647):task_id>", (200, 200, 200)),
    ("GET", "/dashboard/tasks/99999", None, (404, 404, 404)),
    ("GET", "/dashboard/tasks/1/ZB0001", "/dashboard/tasks/<int(max=2147483647):task_id>/<code>", (200, 200, 200)),
    ("GET", "/dashboard/tasks/1/ZB0004", None, (200, 404, 404)),
    ("POST", "/dashboard/tasks/1/chase", "/dashboard/tasks/<int(max=2147483647):task_id>/chase", (302, 302, 403)),
    ("POST", "/dashboard/tasks/1/ZB0001/return", "/dashboard/tasks/<int(max=2147483647):task_id>/<code>/return",
     (302, 403, 403)),
    ("POST", "/dashboard/tasks/1/ZB0004/return", None, (302, 403, 403)),
    ("POST", "/dashboard/tasks/1/extensions/1",
     "/dashboard/tasks/<int(max=2147483647):task_id>/extensions/<int(max=2147483647):request_id>", (400, 400, 403)),
    ("GET", "/dashboard/evidence/1", "/dashboard/evidence/<int(max=2147483647):evidence_id>", (404, 404, 404)),
    ("GET", "/dashboard/branches/ZB0001", "/dashboard/branches/<code>", (200, 200, 200)),
    ("GET", "/dashboard/branches/ZB0004", None, (200, 404, 404)),
    ("GET", "/dashboard/branches/NOPE", None, (404, 404, 404)),
    ("GET", "/dashboard/publish", "/dashboard/publish", (200, 200, 403)),
    ("POST", "/dashboard/publish", None, (400, 400, 403)),
    ("GET", "/dashboard/upload", "/dashboard/upload", (200, 403, 403)),
    ("POST", "/dashboard/upload", None, (400, 403, 403)),
    ("GET", "/dashboard/downloads", "/dashboard/downloads", (200, 200, 200)),
    ("GET", "/dashboard/ledger.xlsx", "/dashboard/ledger.xlsx", (200, 200, 200)),
    ("GET", "/dashboard/ledger.xlsx?branch=ZB0004", None, (200, 404, 404)),
    ("GET", "/dashboard/bulletin", "/dashboard/bulletin", (200, 200, 403)),
    ("GET", "/dashboard/bulletin.xlsx", "/dashboard/bulletin.xlsx", (200, 200, 403)),
    ("GET", "/dashboard/audit", "/dashboard/audit", (200, 403, 403)),
    ("GET", "/dashboard/review.xlsx", "/dashboard/review.xlsx", (200, 200, 200)),
    ("GET", "/dashboard/review.xlsx?branch=ZB0004", None, (200, 404, 404)),
    ("GET", "/dashboard/bulletin.xlsx?quarter=2026Q4", None, (200, 200, 403)),
    ("GET", "/dashboard/bulletin?year=2026", None, (200, 200, 403)),
    ("GET", "/dashboard/bulletin?quarter=2026Q9", None, (400, 400, 403)),
    ("POST", "/dashboard/branches/ZB0001/flag", "/dashboard/branches/<code>/flag", (302, 302, 403)),
    ("POST", "/dashboard/branches/ZB0004/flag", None, (302, 404, 403)),
    ("POST", "/dashboard/branches/ZB0001/lift", "/dashboard/branches/<code>/lift", (302, 302, 403)),
    ("POST", "/dashboard/branches/ZB0004/lift", None, (302, 404, 403)),
    ("POST", "/dashboard/branches/ZB0001/items", "/dashboard/branches/<code>/items", (302, 302, 403)),
    ("POST", "/dashboard/branches/ZB0004/items", None, (302, 404, 403)),
    ("POST", "/dashboard/branches/ZB0001/items/1/close",
     "/dashboard/branches/<code>/items/<int(max=2147483647):task_id>/close", (302, 302, 403)),
    ("POST", "/dashboard/branches/ZB0004/items/1/close", None, (302, 404, 403)),
    ("POST", "/dashboard/deliveries/{inside}/retry", "/dashboard/deliveries/<int(max=2147483647):delivery_id>/retry",
     (302, 302, 403)),
    ("POST", "/dashboard/deliveries/{outside}/retry", None, (302, 404, 403)),
]
NOT_GATED = {"/dashboard/login", "/dashboard/logout", "/dashboard/login/wecom", "/dashboard/login/wecom/return",
             "/dashboard/static/<path:filename>"}


@pytest.fixture
def deliveries(accounts):
    """A failed delivery inside DW01 (ZB0001) and one outside (ZB0004)."""
    now = accounts.clock.now()
    with transaction(accounts.sessions) as s:
        enqueue(s, [Message("org:ZB0001", "chase-1", "x", "催办"), Message("org:ZB0004", "chase-1", "x", "催办")], now)
        s.execute(__import__("sqlalchemy").text("UPDATE deliveries SET state = 'failed', last_error = '93000'"))
    return {"inside": 1, "outside": 2}


@pytest.fixture
def clients(app):
    return {who: Client(app, who) for who in (ORG, COMMITTEE, SECRETARY)}


def state(runtime) -> dict:
    """What a refused request must leave as it was: every table's rows (but the
    audit log and sign-in records, which a refusal may add to), and each
    delivery's and flag's state."""
    from sqlalchemy import func, select, text

    from storage.models import Base
    with runtime.sessions() as s:
        counts = {t.name: s.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables
                  if "audit" not in t.name and "sign" not in t.name and "lock" not in t.name}
        counts["delivery states"] = sorted(s.execute(text("SELECT id, state FROM deliveries")).all())
        counts["flags"] = sorted(s.execute(text("SELECT id, lifted_at FROM rectifications")).all())
    return counts


@pytest.mark.parametrize("method, url, rule, expected", TABLE, ids=[f"{m} {u}" for m, u, _, _ in TABLE])
def test_each_role_gets_what_its_row_says(clients, deliveries, accounts, method, url, rule, expected):
    url = url.format(**deliveries)
    for who, status in zip((ORG, COMMITTEE, SECRETARY), expected):
        client = clients[who]
        before = state(accounts) if method == "POST" and status >= 400 else None
        response = client.post(url, {}) if method == "POST" else client.get(url)
        assert response.status_code == status, (who, url, response.get_data(as_text=True)[:200])
        if before is not None:  # refused: nothing written, whatever the status says
            assert state(accounts) == before, (who, url)


@pytest.mark.parametrize("method, url, rule, expected", TABLE, ids=[f"{m} {u}" for m, u, _, _ in TABLE])
def test_signed_out_every_route_leads_to_the_sign_in_page(app, deliveries, method, url, rule, expected):
    client = app.test_client()
    url = url.format(**deliveries)
    response = client.open(url, method=method, data={})  # no CSRF token either: the sign-in is checked first
    assert response.status_code == 302 and response.headers["Location"].startswith("/dashboard/login")


def test_every_workbench_route_has_a_row(app):
    rules = {r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/dashboard")}
    assert rules - NOT_GATED == {rule for _, _, rule, _ in TABLE if rule}


def test_an_id_no_database_could_hold_is_a_404_for_everyone(app, clients):
    for client in (app.test_client(), clients[ORG].http):  # not routed at all: nothing to sign in for
        assert client.get("/dashboard/tasks/99999999999").status_code == 404
        assert client.get("/dashboard/evidence/-1").status_code == 404


DEPUTY, COMMITTEE_MEMBER = "u700003", "u700005"  # made ZB0001's 副书记 and 组织委员 (支委) below


@pytest.fixture
def branch_clients(app, accounts):
    """A deputy and a 支委 of ZB0001 with accounts: the roster's posts give them the secretary's part."""
    from sqlalchemy import update

    from storage.models import Member
    from tests.workbench import add_account
    with transaction(accounts.sessions) as s:
        for userid, role in ((DEPUTY, "副书记"), (COMMITTEE_MEMBER, "组织委员")):
            s.execute(update(Member).where(Member.wecom_userid == userid).values(role=role))
    for userid in (DEPUTY, COMMITTEE_MEMBER):
        add_account(accounts, userid)
    return {who: Client(app, who) for who in (DEPUTY, COMMITTEE_MEMBER)}


@pytest.mark.parametrize("method, url, rule, expected", TABLE, ids=[f"{m} {u}" for m, u, _, _ in TABLE])
def test_a_deputy_and_a_committee_member_get_the_secretarys_row(branch_clients, deliveries, method, url, rule,
                                                                 expected):
    url = url.format(**deliveries)
    for who, client in branch_clients.items():
        response = client.post(url, {}) if method == "POST" else client.get(url)
        assert response.status_code == expected[2], (who, url, response.get_data(as_text=True)[:200])

