"""Points (积分), by rules in the config, from the records: attending a
meeting or 主题党日, checking in in a month, volunteer hours (capped),
study, and absence without leave. Never from who typed a record. Points
find members to follow up; they never rank branches (基层减负)."""
from __future__ import annotations

from dataclasses import dataclass, fields

from storage.people import Stats


@dataclass(frozen=True)
class PointRules:
    meeting: int = 2          # each meeting attended (on its roll, present)
    theme_day: int = 2        # each 主题党日 attended
    checkin_month: int = 1    # each month with at least one check-in
    volunteer_hour: int = 1   # each whole hour of volunteer service …
    volunteer_cap: int = 10   # … up to this many points in the period
    study: int = 1            # each day with a study session
    absent: int = -1          # each meeting missed without leave


RULES = PointRules()


def configure(**values: int) -> None:
    """Set the rules from the config (`points.*`), once at start."""
    global RULES
    known = {f.name for f in fields(PointRules)}
    RULES = PointRules(**{k: int(v) for k, v in values.items() if k in known})


def points(s: Stats, rules: PointRules | None = None) -> int:
    r = rules or RULES
    volunteer = min(int(s.volunteer_hours) * r.volunteer_hour, r.volunteer_cap)
    return (s.attended * r.meeting + s.theme_attended * r.theme_day + len(s.checkin_months) * r.checkin_month
            + volunteer + s.study_days * r.study + s.absent * r.absent)
