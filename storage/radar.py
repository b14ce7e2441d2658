"""锋领考评 (the quarter's radar): per member of every active branch, five
dimensions scored 0–100 — 三会一课 attendance, theory study, 主题党日,
volunteer service, satisfaction — and for 国企 and 非公企业 branches a
sixth, job performance. The first four come from the records
(`storage.people.member_stats`, grouped over the whole quarter), the last
two from staff entry (`appraisals`). The rules are the config's
(`radar.*`), stated in the export's notes sheet; nothing here is worded."""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import BRANCH, Appraisal, Member, Organization
from storage.month import Quarter
from storage.people import Stats, member_stats

PERFORMANCE_CATEGORIES = ("国企", "非公企业")  # branches with the sixth dimension
DIMENSIONS = ("attendance", "study", "theme_day", "volunteer", "satisfaction", "performance")


@dataclass(frozen=True)
class RadarRules:
    study_days: int = 6         # days with a study session in the quarter that score 100 (fewer: pro rata)
    volunteer_hours: int = 8    # hours of volunteer service in the quarter that score 100 (fewer: pro rata)
    no_meeting: int = 100       # a rate (三会一课, 主题党日) with no meeting on the member's roll


RULES = RadarRules()


def configure(**values: int) -> None:
    """Set the rules from the config (`radar.*`), once at start."""
    global RULES
    known = {f.name for f in fields(RadarRules)}
    RULES = RadarRules(**{k: int(v) for k, v in values.items() if k in known})


@dataclass(frozen=True)
class Score:
    """One member's radar. `scores` follow DIMENSIONS; None: not entered
    (satisfaction, performance) or not appraised (performance outside
    PERFORMANCE_CATEGORIES, see `has_performance`)."""
    branch_code: str
    branch_name: str
    category: str | None
    member_id: int
    name: str
    stats: Stats
    scores: tuple[int | None, ...]

    @property
    def has_performance(self) -> bool:
        return self.category in PERFORMANCE_CATEGORIES


def _share(part: float, whole: float) -> int:
    """part/whole as 0–100, rounded half up, capped at 100."""
    return min(100, int(100 * part / whole + 0.5)) if whole > 0 else 100


def _rate(attended: int, held: int, r: RadarRules) -> int:
    return _share(attended, held) if held else r.no_meeting


def score_of(s: Stats, satisfaction: int | None, performance: int | None, has_performance: bool,
             rules: RadarRules | None = None) -> tuple[int | None, ...]:
    r = rules or RULES
    if s.theme_held:  # remote taking part (mobile members) counts as attending, never beyond the roll
        theme = _share(min(s.theme_attended + s.theme_remote, s.theme_held), s.theme_held)
    else:
        theme = 100 if s.theme_remote else r.no_meeting
    return (_rate(s.attended, s.held, r),
            _share(s.study_days, r.study_days),
            theme,
            _share(s.volunteer_hours, r.volunteer_hours),
            satisfaction,
            performance if has_performance else None)


def roster(session: Session, codes: list[str] | None = None):
    """(member id, name, branch code, branch name, category) of every active
    member of an active branch (or of these branches), by branch and id."""
    query = (select(Member.id, Member.name, Organization.code, Organization.name, Organization.category)
             .join(Organization, Member.org_id == Organization.id)
             .where(Organization.type == BRANCH, Organization.active, Member.active))
    if codes:
        query = query.where(Organization.code.in_(codes))
    return session.connection().execute(query.order_by(Organization.code, Member.id)).all()


def appraisals(session: Session, quarter: Quarter) -> dict[int, tuple[int | None, int | None]]:
    """member id → (satisfaction, performance) entered for the quarter."""
    return {m: (s, p) for m, s, p in session.connection().execute(
        select(Appraisal.member_id, Appraisal.satisfaction, Appraisal.performance)
        .where(Appraisal.quarter == str(quarter)))}


def radar(session: Session, quarter: Quarter, codes: list[str] | None = None,
          rules: RadarRules | None = None) -> list[Score]:
    """The quarter's radar of every member (or of these branches' members)."""
    stats = member_stats(session, quarter.first_day, quarter.end)
    entered = appraisals(session, quarter)
    empty, none = Stats(), (None, None)
    out = []
    for member_id, name, code, branch_name, category in roster(session, codes):
        s = stats.get(member_id, empty)
        satisfaction, performance = entered.get(member_id, none)
        out.append(Score(code, branch_name, category, member_id, name, s,
                         score_of(s, satisfaction, performance, category in PERFORMANCE_CATEGORIES, rules)))
    return out


def save_appraisals(session: Session, quarter: Quarter,
                    entries: dict[int, tuple[int | None, int | None]], now: datetime) -> int:
    """Write staff-entered scores (member id → (satisfaction, performance));
    a None leaves what was entered before. How many members were written."""
    period = str(quarter)
    ids = list(entries)
    existing: dict[int, Appraisal] = {}
    for i in range(0, len(ids), 500):
        existing.update((a.member_id, a) for a in session.scalars(select(Appraisal).where(
            Appraisal.quarter == period, Appraisal.member_id.in_(ids[i:i + 500]))))
    for member_id, (satisfaction, performance) in entries.items():
        row = existing.get(member_id)
        if row is None:
            session.add(Appraisal(member_id=member_id, quarter=period, satisfaction=satisfaction,
                                  performance=performance, received_at=now))
            continue
        if satisfaction is not None:
            row.satisfaction = satisfaction
        if performance is not None:
            row.performance = performance
        row.received_at = now
    return len(entries)


def appraisable(session: Session, member_ids: list[int]) -> dict[int, tuple[str, str | None, bool]]:
    """member id → (name, branch category, active in an active branch) for these ids."""
    out = {}
    for i in range(0, len(member_ids), 500):
        for member_id, name, category, active, org_active, org_type in session.execute(
                select(Member.id, Member.name, Organization.category, Member.active, Organization.active,
                       Organization.type).join(Organization, Member.org_id == Organization.id)
                .where(Member.id.in_(member_ids[i:i + 500]))):
            out[member_id] = (name, category, bool(active and org_active and org_type == BRANCH))
    return out
