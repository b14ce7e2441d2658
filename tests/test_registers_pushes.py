"""The registers' pushes over a frozen year (issue 14): each development
reminder once and on time, the 换届 reminders 6 and 3 months ahead, the
monthly 软弱涣散 candidates from crafted records — run day by day as the
scheduler runs them (run key per day, outbox key per message)."""
from datetime import date, datetime, time, timedelta

import chinese_calendar
from sqlalchemy import select, update

from bot.schedule.pushes import BY_NAME
from storage.db import transaction
from storage.development import save_dates
from storage.jobs import claim_run
from storage.models import CheckIn, Delivery, Meeting, Member, Organization, Report, Task
from storage.outbox import enqueue

BRANCH = "ZB0001"   # 县财政局机关党支部, under DW01; its secretary is u700001
DW01_STAFF = {"member:s7004", "member:s7005"}
SECRETARY = "member:u700001"


def run_push(rt, name: str, first: date, last: date) -> None:
    """Every day from `first` to `last`, as the daily run does it at 09:05."""
    push, day = BY_NAME[name], first
    while day <= last:
        rt.clock.at = datetime.combine(day, time(9, 5))
        with transaction(rt.sessions) as s:
            period = push.due(s, day)
            if period and claim_run(s, push.name, period, rt.clock.now()):
                enqueue(s, push.messages(s, day, period), rt.clock.now())
        day += timedelta(days=1)


def rows(rt, purpose: str) -> list[Delivery]:
    with rt.sessions() as s:
        return s.scalars(select(Delivery).where(Delivery.purpose == purpose).order_by(Delivery.id)).all()


def branch_id(rt, code: str = BRANCH) -> int:
    with rt.sessions() as s:
        return s.scalar(select(Organization.id).where(Organization.code == code))


def first_workday_from(day: date) -> date:
    while not chinese_calendar.is_workday(day):
        day += timedelta(days=1)
    return day


def test_each_development_reminder_goes_once_and_on_time(county):
    at = datetime(2025, 12, 1, 9, 0)
    with transaction(county.sessions) as s:
        zb = branch_id(county)
        save_dates(s, zb, "甲", {"入党申请人": date(2026, 3, 20)}, at)                  # talk due 04-20
        save_dates(s, zb, "乙", {"入党申请人": date(2024, 9, 1), "入党积极分子": date(2025, 5, 9)}, at)  # 发展对象 from 2026-05-09
        save_dates(s, zb, "丙", {"入党申请人": date(2023, 1, 1), "入党积极分子": date(2023, 3, 1),
                                "发展对象": date(2024, 6, 1), "预备党员": date(2025, 10, 8)}, at)      # 转正 due 2026-10-08
        save_dates(s, zb, "丁", {"入党申请人": date(2026, 2, 1), "谈话": date(2026, 2, 10)}, at)  # talked: nothing due
    run_push(county, "development-reminder", date(2026, 1, 1), date(2026, 12, 31))
    sent = rows(county, "development-reminder")
    by_key: dict[str, list[Delivery]] = {}
    for row in sent:
        by_key.setdefault(row.period.split("-", 1)[1], []).append(row)
    assert set(by_key) == {"talk-2026-04-20", "candidate-2026-05-09", "conversion-2026-10-08"}
    expected = {"talk-2026-04-20": first_workday_from(date(2026, 4, 13)),
                "candidate-2026-05-09": first_workday_from(date(2026, 5, 9)),
                "conversion-2026-10-08": first_workday_from(date(2026, 10, 1))}
    assert expected["conversion-2026-10-08"] > date(2026, 10, 7)  # not in the National Day holiday
    for key, group in by_key.items():
        assert {r.target for r in group} == {SECRETARY} | DW01_STAFF, key   # secretary and committee, once each
        assert {r.received_at.date() for r in group} == {expected[key]}, key
    assert "甲" in by_key["talk-2026-04-20"][0].body and "发展 甲 谈话" in by_key["talk-2026-04-20"][0].body
    assert "转正" in by_key["conversion-2026-10-08"][0].body


def test_a_step_done_before_its_reminder_is_not_reminded(county):
    at = datetime(2026, 1, 5, 9, 0)
    with transaction(county.sessions) as s:
        save_dates(s, branch_id(county), "戊", {"入党申请人": date(2026, 1, 5)}, at)
    run_push(county, "development-reminder", date(2026, 1, 5), date(2026, 1, 20))
    with transaction(county.sessions) as s:
        save_dates(s, branch_id(county), "戊", {"谈话": date(2026, 1, 20)}, at)
    run_push(county, "development-reminder", date(2026, 1, 21), date(2026, 3, 31))
    assert rows(county, "development-reminder") == []


def test_term_reminders_six_and_three_months_ahead_once_each(county):
    with transaction(county.sessions) as s:
        s.execute(update(Organization).where(Organization.code == BRANCH)
                  .values(term_start=date(2021, 9, 30), term_end=date(2026, 9, 30)))
    run_push(county, "term-reminder", date(2026, 1, 1), date(2026, 12, 31))
    sent = rows(county, "term-reminder")
    by_period: dict[str, list[Delivery]] = {}
    for row in sent:
        by_period.setdefault(row.period, []).append(row)
    assert set(by_period) == {f"{BRANCH}-2026-09-30-6m", f"{BRANCH}-2026-09-30-3m"}
    for months, opens in ((6, date(2026, 3, 30)), (3, date(2026, 6, 30))):
        group = by_period[f"{BRANCH}-2026-09-30-{months}m"]
        assert {r.target for r in group} == {f"org:{BRANCH}"} | DW01_STAFF
        assert {r.received_at.date() for r in group} == {first_workday_from(opens)}
        assert "换届提醒" in group[0].body and "9月30日" in group[0].body


def test_candidates_from_crafted_records(county):
    """February 2027's suggestions look at November 2026 – January 2027."""
    with transaction(county.sessions) as s:
        ids = dict(s.execute(select(Organization.code, Organization.id)).all())
        # ZB0002: no 书记 any more
        s.execute(update(Member).where(Member.org_id == ids["ZB0002"], Member.role == "书记").values(role="党员"))
        # every branch: someone joined recently, but ZB0012, whose latest joined in 2020
        s.execute(update(Member).where(Member.role == "党员", Member.org_id != ids["ZB0012"])
                  .values(joined_on=date(2025, 7, 1)))
        s.execute(update(Member).where(Member.org_id == ids["ZB0012"]).values(joined_on=date(2020, 1, 1)))
        # every branch but ZB0001 holds every meeting and reports every task on time
        for code, org_id in ids.items():
            if not code.startswith("ZB") or code == "ZB0001":
                continue
            for year, month in ((2026, 11), (2026, 12), (2027, 1)):
                for kind in ("支委会", "党小组会", "主题党日", "党员大会", "党课"):
                    s.add(Meeting(branch_id=org_id, kind=kind, held_on=date(year, month, 5), attended=5,
                                  expected=5, note="", received_at=datetime(year, month, 5, 12)))
        reporter = s.scalar(select(Member.id))
        for task in s.scalars(select(Task).where(Task.month.in_(["2026-11", "2026-12", "2027-01"]))):
            for code, org_id in ids.items():
                if code.startswith("ZB") and code != "ZB0001":
                    s.add(Report(task_id=task.id, branch_id=org_id, member_id=reporter, kind="done", note="",
                                 received_at=datetime.combine(task.deadline, time(9))))
        # mobile members reached, except one of ZB0004's
        mobile = s.scalars(select(Member).where(Member.is_mobile, Member.active).order_by(Member.id)).all()
        for m in mobile:
            if m.org_id == ids["ZB0004"] and m is mobile[[x.org_id for x in mobile].index(ids["ZB0004"])]:
                unreached = m.name
                continue
            s.add(CheckIn(member_id=m.id, day=date(2027, 1, 12), note="", received_at=datetime(2027, 1, 12, 9)))
    run_push(county, "rectification-candidates", date(2027, 2, 1), date(2027, 2, 28))
    sent = rows(county, "rectification-candidates")
    assert {r.target for r in sent} == {"member:s7001", "member:s7002", "member:s7003"}  # the org department
    assert {r.period for r in sent} == {"2027-02"}
    assert {r.received_at.date() for r in sent} == {date(2027, 2, 1)}  # the first working day, once
    body = sent[0].body
    lines = {line.split("（")[1].split("）")[0]: line for line in body.splitlines() if line.startswith("- ")}
    assert set(lines) == {"ZB0001", "ZB0002", "ZB0012", "ZB0004"}
    assert "11月、12月、1月有逾期任务" in lines["ZB0001"] and "三会一课未达要求" in lines["ZB0001"]
    assert "书记空缺" in lines["ZB0002"]
    assert "3年以上未发展党员（最近 2020-01-01）" in lines["ZB0012"]
    assert f"流动党员3个月未联系：{unreached}" in lines["ZB0004"]


def test_branches_with_no_new_member_in_three_years(county):
    """From members' 入党日期 and the register's 预备党员 admissions."""
    from storage.development import without_new_member
    from storage.orgs import active_branches
    at = datetime(2026, 11, 16, 10, 0)
    with transaction(county.sessions) as s:
        ids = dict(s.execute(select(Organization.code, Organization.id)).all())
        s.execute(update(Member).values(joined_on=date(2026, 1, 1)))
        s.execute(update(Member).where(Member.org_id.in_([ids["ZB0001"], ids["ZB0002"], ids["ZB0003"]]))
                  .values(joined_on=date(2019, 5, 1)))
        s.execute(update(Member).where(Member.org_id == ids["ZB0012"]).values(joined_on=None))
        # ZB0002's last member joined exactly three years ago: listed; ZB0003 admitted one in 2025 (register)
        s.execute(update(Member).where(Member.org_id == ids["ZB0002"], Member.role == "书记")
                  .values(joined_on=date(2023, 11, 16)))
        save_dates(s, ids["ZB0003"], "新人", {"入党申请人": date(2022, 1, 1), "入党积极分子": date(2022, 3, 1),
                                               "发展对象": date(2023, 6, 1), "预备党员": date(2025, 7, 1)}, at)
    with county.sessions() as s:
        listed = {b.code: last for b, last in without_new_member(s, active_branches(s), date(2026, 11, 16))}
    assert listed == {"ZB0001": date(2019, 5, 1), "ZB0002": date(2023, 11, 16), "ZB0012": None}


def test_a_province_sized_scope_reads_the_same_lists(county, monkeypatch):
    """Beyond MANY branches the lists are read without naming every branch: same answers."""
    import storage.development as development
    import storage.terms as terms
    from storage.development import without_new_member
    from storage.orgs import active_branches
    from storage.terms import without_secretary
    with transaction(county.sessions) as s:
        ids = dict(s.execute(select(Organization.code, Organization.id)).all())
        s.execute(update(Member).where(Member.org_id == ids["ZB0012"]).values(joined_on=date(2020, 1, 1)))
        s.execute(update(Member).where(Member.org_id == ids["ZB0002"], Member.role == "书记").values(role="党员"))
    with county.sessions() as s:
        some = [b for b in active_branches(s) if b.code != "ZB0003"]
        named = (without_new_member(s, some, date(2026, 11, 16)), without_secretary(s, some))
        monkeypatch.setattr(development, "MANY", 0)
        monkeypatch.setattr(terms, "MANY", 0)
        read_all = (without_new_member(s, some, date(2026, 11, 16)), without_secretary(s, some))
    assert named == read_all and any(b.code == "ZB0012" for b, _ in named[0])
    assert [b.code for b in named[1]] == ["ZB0002"]


def test_the_monthly_sheet_push_carries_open_rectification_items(county):
    from handlers.commands.registers import add_rectification_item
    from handlers.context import Actor
    from storage.audit import CLI, Origin
    from storage.orgs import active_branches
    with transaction(county.sessions) as s:
        staff = s.scalar(select(Member).where(Member.wecom_userid == "s7001"))
        zb1 = active_branches(s, ["ZB0001"])[0]
        item = add_rectification_item(s, Actor(staff, staff.org), zb1, "配齐班子", date(2026, 12, 20),
                                      county.clock.now(), Origin(CLI))
        number = item.task.number
    run_push(county, "monthly-sheet", date(2026, 12, 1), date(2026, 12, 1))
    [sheet] = [r for r in rows(county, "monthly-sheet") if r.target == f"org:{BRANCH}"]
    assert "整改事项" in sheet.body and f"11月第{number}项 整改：配齐班子" in sheet.body
    others = [r for r in rows(county, "monthly-sheet") if r.target != f"org:{BRANCH}"]
    assert others and all("整改" not in r.body for r in others)
