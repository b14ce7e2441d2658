"""The register of membership development (发展党员): who is at which
stage in which branch, the timed steps that fall due, and the branches
with no new member in three years. Dates and flags only; the words are
the handlers' (and the importers' for a bad row)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import DEVELOPMENT_STAGES, TALK, Development, Member, Organization

# The column of each step, in the order the steps happen.
STEP_FIELDS = {"入党申请人": "applied_on", TALK: "talked_on", "入党积极分子": "activist_on",
               "发展对象": "candidate_on", "预备党员": "probation_on", "正式党员": "full_on"}
# What people write for a step (the stage names, and the words of the office).
STEP_NAMES = {**{name: name for name in STEP_FIELDS},
              "申请": "入党申请人", "申请入党": "入党申请人", "申请人": "入党申请人",
              "积极分子": "入党积极分子", "确定积极分子": "入党积极分子",
              "确定发展对象": "发展对象", "预备": "预备党员", "接收预备党员": "预备党员",
              "转正": "正式党员", "正式": "正式党员"}
MANY = 5_000  # branches asked about (a committee has ~1,000), beyond which a query reads all rather than name them
NO_NEW_MEMBER_YEARS = 3  # "是否存在3年以上未发展党员的党支部"
REMIND_AHEAD = timedelta(days=7)  # a step's reminder goes out from a week before it is due

# The timed steps (issue 14): the reminder's key, and when each falls due.
TALK_DUE, CANDIDATE_DUE, CONVERSION_DUE = "talk", "candidate", "conversion"


def add_years(day: date, years: int) -> date:
    """The same day `years` later (29 February → 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def add_month(day: date) -> date:
    """One calendar month later (31 January → 28/29 February)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)


def stage_of(record) -> str | None:
    """The latest stage reached (谈话 is a step, not a stage)."""
    reached = [stage for stage in DEVELOPMENT_STAGES if getattr(record, STEP_FIELDS[stage]) is not None]
    return reached[-1] if reached else None


def dates_of(record) -> dict[str, date | None]:
    """step → its date, for every step."""
    return {step: getattr(record, field) for step, field in STEP_FIELDS.items()}


@dataclass(frozen=True)
class DueStep:
    record: Development
    step: str       # TALK_DUE | CANDIDATE_DUE | CONVERSION_DUE
    due: date       # the day the step is due (the talk's last day; the first day of 发展对象; 转正)
    remind_from: date


def due_steps(records: list[Development], today: date) -> list[DueStep]:
    """The steps whose reminder window has opened by `today` and that are
    not done yet: the talk within a month of the application, 发展对象
    after a full year as 积极分子 (reminded when the year is complete: not
    before), and 转正 when the probation year ends."""
    out = []
    for r in records:
        if r.applied_on and not (r.talked_on or r.activist_on or r.candidate_on or r.probation_on or r.full_on):
            due = add_month(r.applied_on)
            out.append(DueStep(r, TALK_DUE, due, due - REMIND_AHEAD))
        if r.activist_on and not (r.candidate_on or r.probation_on or r.full_on):
            due = add_years(r.activist_on, 1)
            out.append(DueStep(r, CANDIDATE_DUE, due, due))
        if r.probation_on and not r.full_on:
            due = add_years(r.probation_on, 1)
            out.append(DueStep(r, CONVERSION_DUE, due, due - REMIND_AHEAD))
    return [s for s in out if s.remind_from <= today]


def records_of(session: Session, branch_ids: list[int] | None = None) -> list[Development]:
    query = select(Development).order_by(Development.branch_id, Development.id)
    if branch_ids is not None:
        query = query.where(Development.branch_id.in_(branch_ids))
    return list(session.scalars(query))


def find(session: Session, branch_id: int, name: str) -> Development | None:
    return session.scalar(select(Development).where(Development.branch_id == branch_id, Development.name == name))


def save_dates(session: Session, branch_id: int, name: str, dates: dict[str, date | None],
               now: datetime) -> tuple[Development, bool]:
    """Write a person's step dates (step → date; the steps given only);
    (the record, whether anything changed)."""
    record = find(session, branch_id, name)
    if record is None:
        record = Development(branch_id=branch_id, name=name, received_at=now, updated_at=now)
        session.add(record)
    changed = record.id is None
    for step, day in dates.items():
        field = STEP_FIELDS[step]
        if getattr(record, field) != day:
            setattr(record, field, day)
            changed = True
    if changed:
        record.updated_at = now
    session.flush()
    return record, changed


def last_new_member(session: Session, branch_ids: list[int]) -> dict[int, date]:
    """branch id → the latest day someone joined it: a member's 入党日期 (the
    roster) or a 预备党员's admission (the register). Branches with neither
    are absent."""
    latest: dict[int, date] = {}
    wanted = set(branch_ids)
    few = len(wanted) <= MANY  # a county's or a province's branches: one pass over all, no huge IN list
    members = select(Member.org_id, func.max(Member.joined_on)).group_by(Member.org_id)
    register = select(Development.branch_id, func.max(Development.probation_on)).group_by(Development.branch_id)
    if few:
        members = members.where(Member.org_id.in_(wanted))
        register = register.where(Development.branch_id.in_(wanted))
    for query in (members, register):
        for branch_id, day in session.execute(query):
            if branch_id in wanted and day is not None and (branch_id not in latest or day > latest[branch_id]):
                latest[branch_id] = day
    return latest


def without_new_member(session: Session, branches: list[Organization],
                       today: date) -> list[tuple[Organization, date | None]]:
    """The branches with no new member in the last three years, with the
    last day one joined (None: no date on record at all), longest first."""
    latest = last_new_member(session, [b.id for b in branches])
    cutoff = add_years(today, -NO_NEW_MEMBER_YEARS)
    found = [(b, latest.get(b.id)) for b in branches if latest.get(b.id) is None or latest[b.id] <= cutoff]
    return sorted(found, key=lambda pair: (pair[1] or date.min, pair[0].code))
