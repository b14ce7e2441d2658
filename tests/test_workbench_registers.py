"""The registers on the workbench's branch page (issue 14): flag, items,
销号 and lifting through the forms (CSRF and all) — the chat's rules and
audit rows; staff only, in their scope; the downloads of 述职评议 and of
the quarterly and yearly bulletins."""
import io

from openpyxl import load_workbook
from sqlalchemy import func, select

from storage.models import AuditEntry, Rectification, RectificationItem, Task
from tests.wecom_peer import WeComPeer
from tests.workbench import accounts, app, as_committee, as_org, as_secretary  # noqa: F401


def count(rt, model, *where):
    with rt.sessions() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_flag_item_close_and_lift_on_the_branch_page(app, as_org, as_secretary, accounts):
    page = "/dashboard/branches/ZB0001"
    assert "未列为软弱涣散" in as_org.page(page)
    response = as_org.post(f"{page}/flag", {"reason": "班子软弱"})
    assert response.status_code == 302 and response.headers["Location"].endswith("#registers")
    shown = as_org.page(page)
    assert "已将县财政局机关党支部列为软弱涣散党组织" in shown and "软弱涣散整顿中" in shown and "班子软弱" in shown
    as_org.post(f"{page}/items", {"title": "配齐组织委员", "deadline": "2026-12-20"})
    with accounts.sessions() as s:
        task = s.scalar(select(Task).join(RectificationItem, RectificationItem.task_id == Task.id))
    shown = as_org.page(page)
    assert "已交办整改事项「整改：配齐组织委员」" in shown and f"2026-11 第{task.number}项" in shown
    # the secretary sees the list, not the staff's forms; reports in chat like any task
    mine = as_secretary.page(page)
    assert "整改：配齐组织委员" in mine and "/items\"" not in mine and "/flag\"" not in mine
    wecom = WeComPeer(app.test_client(), accounts.clock)
    assert "已记录" in wecom.say("u700001", f"完成 {task.number} 已配齐")
    assert "已上报，待销号" in as_org.page(page)
    as_org.post(f"{page}/items/{task.id}/close", {"note": "已核实"})
    assert "已销号（2026-11-16）已核实" in as_org.page(page)
    as_org.post(f"{page}/lift", {"note": "班子已配齐"})
    assert "未列为软弱涣散" in as_org.page(page)
    with accounts.sessions() as s:
        rows = s.execute(select(AuditEntry.action, AuditEntry.channel).where(AuditEntry.action.like("rectify%"))
                         .order_by(AuditEntry.id)).all()
    assert rows == [("rectify-flag", "web"), ("rectify-item", "web"), ("rectify-close", "web"),
                    ("rectify-lift", "web")]


def test_mistakes_are_explained_and_nothing_is_written(as_org, as_committee, as_secretary, accounts):
    page = "/dashboard/branches/ZB0001"
    for data, said in (({"title": "配齐班子", "deadline": "2026-02-30"}, "截止日期“2026-02-30”无效"),
                       ({"title": "配齐班子", "deadline": "2026-11-01"}, "已经过去"),
                       ({"title": "", "deadline": "2026-12-01"}, "用法：整改"),
                       ({"title": "配齐班子"}, "请填写截止日期")):
        as_org.post(f"{page}/items", data)
        assert said in as_org.page(page)
    as_org.post(f"{page}/flag", {"reason": ""})
    assert "请写明整顿原因" in as_org.page(page)
    as_org.post(f"{page}/lift", {"note": "好"})
    assert "没有处于整顿中" in as_org.page(page)
    # no CSRF token: refused before anything is read
    response = as_org.post(f"{page}/flag", {"reason": "班子软弱"}, token=False)
    assert response.status_code == 400
    # a branch secretary may not; a committee only in its subtree (ZB0004 is DW02's)
    assert as_secretary.post(f"{page}/flag", {"reason": "班子软弱"}).status_code == 403
    assert as_committee.post("/dashboard/branches/ZB0004/flag", {"reason": "班子软弱"}).status_code == 404
    assert count(accounts, Rectification) == 0 and count(accounts, RectificationItem) == 0
    assert as_committee.post(f"{page}/flag", {"reason": "班子软弱"}).status_code == 302
    assert count(accounts, Rectification) == 1


def test_review_and_period_bulletins_download(as_org, as_secretary, accounts):
    page = as_org.page("/dashboard/downloads")
    assert "述职评议" in page and "季度通报" in page and "年度通报" in page
    response = as_secretary.get("/dashboard/review.xlsx?year=2026")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    rows = list(book["述职评议"].iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["ZB0001"]   # a secretary gets their own branch only
    response = as_org.get("/dashboard/review.xlsx?year=2026")
    assert len(list(load_workbook(io.BytesIO(response.data))["述职评议"].iter_rows())) == 1 + 36
    response = as_org.get("/dashboard/bulletin.xlsx?quarter=2026Q4")
    assert response.status_code == 200 and "2026Q4" in response.headers["Content-Disposition"]
    assert "2026年第四季度" in as_org.page("/dashboard/bulletin?quarter=2026Q4")
    assert "关于2026年基层党建" in as_org.page("/dashboard/bulletin?year=2026")
    assert as_org.get("/dashboard/review.xlsx?year=abc").status_code == 400
    with accounts.sessions() as s:
        details = s.scalars(select(AuditEntry.detail).where(AuditEntry.action == "export")).all()
    assert any("述职评议" not in d and "2026年第四季度" in d for d in details)
    assert sum("2026年" in d for d in details) >= 3


def test_the_overview_lists_the_registers_for_staff_only(as_org, as_committee, as_secretary, accounts):
    from datetime import date

    from sqlalchemy import update

    from storage.db import transaction
    from storage.models import Member, Organization
    with transaction(accounts.sessions) as s:
        s.execute(update(Organization).where(Organization.code.in_(["ZB0001", "ZB0004"]))
                  .values(term_start=date(2021, 11, 1), term_end=date(2026, 10, 31)))
        zb2 = s.scalar(select(Organization.id).where(Organization.code == "ZB0002"))
        s.execute(update(Member).where(Member.org_id == zb2, Member.role == "书记").values(role="党员"))
    page = as_org.page("/dashboard/")
    section = page[page.index('id="registers"'):page.index('id="deliveries"')]
    assert "任期届满未换届（2）" in section and "届满 2026-10-31" in section
    assert "书记空缺（1）" in section and "县第2中学党支部" in section
    assert "3年以上未发展党员的支部" in section
    committee = as_committee.page("/dashboard/")
    section = committee[committee.index('id="registers"'):committee.index('id="deliveries"')]
    assert "任期届满未换届（1）" in section      # ZB0004 is DW02's, not DW01's
    assert 'id="registers"' not in as_secretary.page("/dashboard/")
