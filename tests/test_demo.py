"""The demo's three months: made through the chat handler, so the
workbench opens on late reports, returns and re-reports, corrections,
back-filled meetings, check-ins and a failed delivery — and on the
registers (发展, 整顿, 整改), 收到, extension requests (one granted, one
pending) and a report made from own words confirmed by 是."""
import json
import re

from bot.cli.demo import BAD_ROBOT, DEVELOPMENT, RECTIFICATION, populate
from tests.workbench import Client, accounts, app  # noqa: F401


def test_the_demo_months_carry_every_mark(app, accounts):
    line = populate(accounts)
    counts = dict(part.split(" ") for part in line.split("，"))
    for what in ("上报", "逾期上报", "退回", "补报", "更正", "会议", "补记录", "签到"):
        assert int(counts[what]) > 0, line
    with accounts.sessions() as s:  # a meeting refused stops the demo; each recorded one is counted, by name
        from sqlalchemy import func, select

        from storage.models import Attendance, Meeting
        assert s.scalar(select(func.count()).select_from(Meeting)) == int(counts["会议"])
        assert s.scalar(select(func.count()).select_from(Attendance)) > 0
    client = Client(app, "s7001")
    overview = client.page("/dashboard/")
    assert "93000 invalid webhook url" in overview and f"org:{BAD_ROBOT[0]}" in overview
    trend = json.loads(re.search(r'id="overview-data">(.*?)</script>', overview, re.S)[1])["trend"]
    assert [t["done"] > 0 for t in trend[-3:]] == [True, True, True]
    cells = json.loads(re.search(r'id="matrix-data">(.*?)</script>', client.page("/dashboard/matrix?month=2026-10"),
                                 re.S)[1])["cells"]
    marks = "".join(c[4] for row in cells for c in row if c and len(c) > 1)
    states = {c[0] for row in cells for c in row if c}
    assert {"逾", "更"} <= set(marks) and {"r", "x"} <= states
    assert "补记录" in client.page("/dashboard/branches/ZB0004")


def test_the_demo_shows_the_registers_and_one_tap(app, accounts):
    from sqlalchemy import func, select

    from bot.schedule.pushes import development_reminder
    from storage.models import Assignment, Development, ExtensionRequest, InboundMessage, Organization, Report
    line = populate(accounts)
    counts = dict(part.split(" ") for part in line.split("，"))
    assert (counts["收到"], counts["延期申请"], counts["同意延期"], counts["自然语言确认"]) == ("2", "2", "1", "1"), line
    today = accounts.clock.now().date()
    with accounts.sessions() as s:
        people = {d.name: d for d in s.scalars(select(Development))}
        assert set(people) == {name for name, _steps in DEVELOPMENT}
        # the applicant's talk falls due: the scheduler's reminder goes to the branch's secretary
        reminders = development_reminder.messages(s, today, str(today))
        assert any("入党申请人谈话" in m.body and "周晓燕" in m.body for m in reminders), reminders
        requests = list(s.scalars(select(ExtensionRequest).order_by(ExtensionRequest.id)))
        assert [r.state for r in requests] == ["granted", "pending"] and requests[0].new_deadline
        pending = requests[1]
        asking = s.get(Organization, pending.branch_id)
        acknowledged = select(func.count()).select_from(Assignment).where(Assignment.acknowledged_at.is_not(None))
        assert s.scalar(acknowledged) == 2  # 收到, each on a task its branch has not reported
        # the own words were proposed, and 是 made the report they stood for
        proposed = s.scalar(select(InboundMessage).where(InboundMessage.outcome.like("words: proposed done%")))
        confirmed = s.scalar(select(InboundMessage).where(InboundMessage.wecom_userid == proposed.wecom_userid,
                                                          InboundMessage.content == "是"))
        assert confirmed is not None and "已记录" in confirmed.reply
        assert s.scalar(select(Report).where(Report.inbound_id == confirmed.id)) is not None
    client = Client(app, "s7001")
    overview = client.page("/dashboard/")
    extensions = re.search(r'id="pending-extensions">(.*?)</table>', overview, re.S)[1]
    assert asking.name in extensions and f"/dashboard/tasks/{pending.task_id}#extension-{pending.id}" in extensions
    flagged = re.search(r"软弱涣散整顿中（1）</h3>(.*?)</div>", overview, re.S)[1]
    code = re.search(r"/dashboard/branches/(ZB\d+)#registers", flagged)[1]
    task_page = client.page(f"/dashboard/tasks/{pending.task_id}")
    assert f'id="extension-{pending.id}"' in task_page and ">同意</button>" in task_page and ">不同意</button>" in task_page
    branch_page = client.page(f"/dashboard/branches/{code}")
    assert "软弱涣散整顿中" in branch_page and all(title in branch_page for title in RECTIFICATION)
    assert branch_page.count("已上报，待销号") == 1 and branch_page.count("未上报</td>") >= 1
    with accounts.sessions() as s:
        first = s.get(Organization, people["周晓燕"].branch_id)
    assert "周晓燕" in client.page(f"/dashboard/branches/{first.code}")
