"""A member's own record: volunteer service, study, 双报到, and the
quarter's figures every view reads (我的, points, the bulletin's zero-point
list, the radar) — gathered in a few grouped queries for any number of
members, from the records themselves: who typed a record earns nothing."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from storage.models import (ABSENT, BRANCH, PRESENT, Attendance, CheckIn, CommunityRegistration, Evidence, Meeting,
                            Organization, RemoteParticipation, Study, Volunteer)
from storage.reports import EVIDENCE_WINDOW

THEME_DAY = "主题党日"


def record_volunteer(session: Session, member_id: int, hours: float, note: str, now: datetime) -> Volunteer:
    """Service hours; counted for the member's 双报到 community too, if any."""
    community = session.scalar(select(CommunityRegistration.community_id)
                               .where(CommunityRegistration.member_id == member_id))
    row = Volunteer(member_id=member_id, day=now.date(), hours=hours, note=note, community_id=community,
                    received_at=now)
    session.add(row)
    return row


def recent_volunteer_by(session: Session, member_id: int, now: datetime) -> Volunteer | None:
    """The member's last volunteer record within the evidence window (a
    photo sent 1:1 after `志愿 N小时` is its evidence), if any."""
    return session.scalar(select(Volunteer).where(
        Volunteer.member_id == member_id, Volunteer.received_at >= now - EVIDENCE_WINDOW)
        .order_by(Volunteer.id.desc()).limit(1))


def attach_volunteer_evidence(session: Session, service: Volunteer, media_id: str | None, kind: str,
                              file_name: str, now: datetime, url: str | None = None,
                              aes_key: str | None = None) -> int:
    """A photo or file for a volunteer record, downloaded later like a
    report's (bot/wecom/media.py); how many the record has now."""
    session.add(Evidence(volunteer_id=service.id, media_id=media_id or "", url=url, kind=kind,
                         file_name=file_name, received_at=now, aes_key=aes_key))
    session.flush()
    return session.scalar(select(func.count()).select_from(Evidence).where(Evidence.volunteer_id == service.id))


def record_study(session: Session, member_id: int, content: str, now: datetime) -> Study:
    row = Study(member_id=member_id, day=now.date(), content=content, received_at=now)
    session.add(row)
    return row


def communities(session: Session) -> list[Organization]:
    """Active community branches (社区): where 双报到 may register."""
    return list(session.scalars(select(Organization).where(
        Organization.type == BRANCH, Organization.category == "社区", Organization.active)
        .order_by(Organization.code)))


def register_community(session: Session, member_id: int, community_id: int, now: datetime) -> int | None:
    """Register (or move) a member's 双报到 community; the previous one's id, if any."""
    row = session.scalar(select(CommunityRegistration).where(CommunityRegistration.member_id == member_id))
    if row is None:
        session.add(CommunityRegistration(member_id=member_id, community_id=community_id, received_at=now))
        return None
    previous, row.community_id, row.received_at = row.community_id, community_id, now
    return previous


def community_service(session: Session, community_id: int, start: date, end: date) -> tuple[int, float]:
    """(members, hours) of 双报到 volunteer service for a community in [start, end)."""
    members, hours = session.execute(select(func.count(func.distinct(Volunteer.member_id)),
                                            func.coalesce(func.sum(Volunteer.hours), 0)).where(
        Volunteer.community_id == community_id, Volunteer.day >= start, Volunteer.day < end)).one()
    return int(members), float(hours)


@dataclass
class Stats:
    """One member's figures for a period."""
    held: int = 0            # meetings with the member on the roll
    attended: int = 0        # … present
    absent: int = 0          # … absent without leave
    theme_held: int = 0      # 主题党日 on the roll
    theme_attended: int = 0
    theme_remote: int = 0    # months a mobile member took part in 主题党日 remotely (学习/签到 on its theme)
    checkin_days: int = 0
    checkin_months: set = field(default_factory=set)  # (year, month) with a check-in
    proxy_checkins: int = 0  # of them 代签
    volunteer_hours: float = 0.0
    study_sessions: int = 0
    study_days: int = 0


def stats_queries(start: date, end: date) -> tuple:
    """The grouped statements member_stats reads, in its order (attendance,
    check-ins, volunteer hours, study, remote 主题党日); bench/radar_bench.py
    times them bare."""
    theme = case((Meeting.kind == THEME_DAY, 1), else_=0)
    return (select(Attendance.member_id, theme, Attendance.status, func.count())
            .join(Meeting, Attendance.meeting_id == Meeting.id)
            .where(Meeting.held_on >= start, Meeting.held_on < end)
            .group_by(Attendance.member_id, theme, Attendance.status),
            select(CheckIn.member_id, CheckIn.day, CheckIn.proxy_by)
            .where(CheckIn.day >= start, CheckIn.day < end),
            select(Volunteer.member_id, func.sum(Volunteer.hours))
            .where(Volunteer.day >= start, Volunteer.day < end).group_by(Volunteer.member_id),
            select(Study.member_id, func.count(), func.count(func.distinct(Study.day)))
            .where(Study.day >= start, Study.day < end).group_by(Study.member_id),
            select(RemoteParticipation.member_id, func.count())
            .where(RemoteParticipation.day >= start, RemoteParticipation.day < end)
            .group_by(RemoteParticipation.member_id))


def member_stats(session: Session, start: date, end: date, member_ids: list[int] | None = None) -> dict[int, Stats]:
    """member id → Stats for [start, end). Grouped over the whole period (no
    IN list of 100,000 ids); `member_ids` only filters what is returned."""
    stats: dict[int, Stats] = defaultdict(Stats)
    run = session.connection().execute
    attendance, checkins, volunteer, study, remote = stats_queries(start, end)
    for member_id, is_theme, status, n in run(attendance):
        s = stats[member_id]
        if is_theme:
            s.theme_held += n
            s.theme_attended += n if status == PRESENT else 0
        else:
            s.held += n
            s.attended += n if status == PRESENT else 0
        s.absent += n if status == ABSENT else 0
    for member_id, day, proxy in run(checkins):
        s = stats[member_id]
        s.checkin_days += 1
        s.checkin_months.add((day.year, day.month))
        s.proxy_checkins += proxy is not None
    for member_id, hours in run(volunteer):
        stats[member_id].volunteer_hours = float(hours or 0)
    for member_id, n, days in run(study):
        stats[member_id].study_sessions, stats[member_id].study_days = n, days
    for member_id, n in run(remote):
        stats[member_id].theme_remote = n
    if member_ids is None:
        return dict(stats)
    return {m: stats.get(m) or Stats() for m in member_ids}
