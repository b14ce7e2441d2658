"""Reports, corrections, returns and evidence. A report is never edited: a
correction is a new row and the old one points to it."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import Assignment, Evidence, Organization, Report, Task
from storage.tasks import REPORTED, RETURNED

EVIDENCE_WINDOW = timedelta(minutes=10)


def current_report(session: Session, task: Task, branch: Organization) -> Report | None:
    return session.scalar(select(Report).where(
        Report.task_id == task.id, Report.branch_id == branch.id,
        Report.superseded_by.is_(None)).order_by(Report.id.desc()))


NOTE_KEPT = 60  # characters of the current report's note its assignment keeps (for the task matrix)


def set_state(session: Session, task: Task, branch: Organization, state: str,
              now: datetime, reason: str | None = None) -> Assignment:
    row = session.scalar(select(Assignment).where(
        Assignment.task_id == task.id, Assignment.branch_id == branch.id))
    if row is None:
        row = Assignment(task_id=task.id, branch_id=branch.id, state=state, return_reason=reason,
                         evidence_count=0, corrections=0, submissions=0, received_at=now, updated_at=now)
        session.add(row)
    else:
        row.state, row.return_reason, row.updated_at = state, reason, now
    return row


def add_report(session: Session, task: Task, branch: Organization, member_id: int,
               note: str, now: datetime, inbound_id: int | None, kind: str = "done",
               meeting_id: int | None = None) -> Report:
    """A new report; an earlier current one (a correction, or a re-report
    after a return) is kept and points to the new one."""
    previous = current_report(session, task, branch)
    report = Report(task_id=task.id, branch_id=branch.id, member_id=member_id, kind=kind,
                    note=note, inbound_id=inbound_id, meeting_id=meeting_id, received_at=now)
    session.add(report)
    session.flush()
    if previous is not None:
        previous.superseded_by = report.id
    row = set_state(session, task, branch, REPORTED, now)
    # The cell's sums (models.Assignment): this version is now the current one.
    row.reported_at, row.note, row.evidence_count = now, (note or "")[:NOTE_KEPT], 0
    row.first_reported_at = row.first_reported_at or now
    row.corrections += kind == "correction"
    row.submissions += kind == "done"
    return report


def return_report(session: Session, task: Task, branch: Organization, reason: str,
                  now: datetime) -> None:
    set_state(session, task, branch, RETURNED, now, reason)


def recent_report_by(session: Session, member_id: int, now: datetime) -> Report | None:
    """The member's last report within the evidence window, if any."""
    return session.scalar(select(Report).where(
        Report.member_id == member_id, Report.received_at >= now - EVIDENCE_WINDOW,
        Report.superseded_by.is_(None)).order_by(Report.id.desc()))


def attach_evidence(session: Session, report: Report, media_id: str | None, kind: str,
                    file_name: str, now: datetime, url: str | None = None,
                    aes_key: str | None = None) -> Evidence:
    """A photo or file for a report, to be downloaded: by an app MediaId or
    by a smart robot's url (decrypted with `aes_key`, its own key over the
    long connection, or else the bot's)."""
    evidence = Evidence(report_id=report.id, media_id=media_id or "", url=url, kind=kind,
                        file_name=file_name, received_at=now, aes_key=aes_key)
    session.add(evidence)
    if report.superseded_by is None:  # the current version's files are the cell's count
        session.execute(update(Assignment).where(Assignment.task_id == report.task_id,
                                                 Assignment.branch_id == report.branch_id)
                        .values(evidence_count=Assignment.evidence_count + 1))
    return evidence


def evidence_to_fetch(session: Session, limit: int) -> list[tuple[int, str, str | None, str, str | None]]:
    """(id, media id, url, file name, url's own key) of evidence not yet downloaded nor given up on."""
    return [tuple(r) for r in session.execute(
        select(Evidence.id, Evidence.media_id, Evidence.url, Evidence.file_name, Evidence.aes_key).where(
            Evidence.path.is_(None), Evidence.last_error.is_(None)).order_by(Evidence.id).limit(limit))]


def update_evidence(session: Session, evidence_id: int, **fields) -> None:
    """Record a download: path, sha256, size, file name — or last_error."""
    evidence = session.get(Evidence, evidence_id)
    for key, value in fields.items():
        setattr(evidence, key, value)
