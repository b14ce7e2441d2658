"""The tables of 支部通. One English name per concept, as in GLOSSARY.md.

All times are Asia/Shanghai wall-clock times stored naive: the county lives in
one time zone, and naive values compare the same on SQLite, PostgreSQL and
MySQL. `received_at` is always the *server* time a record arrived, never a
time the user typed, so the ledger can tell timely records from back-filled
ones.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean, Date, DateTime, Double, ForeignKey, Integer, String,
    Text, UniqueConstraint, Index,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Organisation types, from the root down.
ORG_DEPARTMENT = "组织部"
COMMITTEE_TYPES = ("党委", "党工委", "党总支")
BRANCH = "党支部"
ORG_TYPES = (ORG_DEPARTMENT, *COMMITTEE_TYPES, BRANCH)

CATEGORIES = ("农村", "社区", "机关", "国企", "非公企业", "学校", "社会组织")

# Roles that report for a branch (书记, 副书记 and the 支委).
REPORTING_ROLES = ("书记", "副书记", "组织委员", "宣传委员", "纪检委员")
STAFF_TITLES = ("部长", "副部长", "干事")
ROLES = (*REPORTING_ROLES, "党员", *STAFF_TITLES)
STATUSES = ("正式党员", "预备党员")


class Base(DeclarativeBase):
    pass


class Organization(Base):
    """A node of the tree: 组织部 → 党委/党工委 → optional 党总支 → 党支部."""
    __tablename__ = "organizations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    category: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # 换届 (migration 0012): the current committee's term, from the roster's
    # 换届时间 / 届满时间; None where the roster does not say.
    term_start: Mapped[date | None] = mapped_column(Date)
    term_end: Mapped[date | None] = mapped_column(Date)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    parent: Mapped["Organization | None"] = relationship(remote_side=[id])


class Member(Base):
    __tablename__ = "members"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    # Not everyone has WeCom (older members often don't): the roster key is
    # the WeCom id, else the phone number, else branch + name.
    roster_key: Mapped[str] = mapped_column(String(128), unique=True)
    wecom_userid: Mapped[str | None] = mapped_column(String(64), unique=True)
    phone: Mapped[str | None] = mapped_column(String(32))  # personal data: shown only to who needs it
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    is_mobile: Mapped[bool] = mapped_column(Boolean, default=False)
    inflow_city: Mapped[str | None] = mapped_column(String(64))  # 流入地: where a mobile member works now
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_on: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    org: Mapped[Organization] = relationship()


class Plan(Base):
    __tablename__ = "plans"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    issuer: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(500))
    received_at: Mapped[datetime] = mapped_column(DateTime)


class Task(Base):
    """One piece of work for a month. `number` is its N for that month
    (county-wide, stable: new tasks take the next number)."""
    __tablename__ = "tasks"
    __table_args__ = (UniqueConstraint("month", "number"),
                      UniqueConstraint("natural_key"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"))
    natural_key: Mapped[str] = mapped_column(String(300))
    month: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    deadline: Mapped[date] = mapped_column(Date)
    target_kind: Mapped[str] = mapped_column(String(16))  # all | categories | codes
    target_values: Mapped[str] = mapped_column(Text, default="")  # comma list
    evidence: Mapped[str | None] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(Text)
    recurring: Mapped[bool] = mapped_column(Boolean, default=False)
    # What fulfils a recurring duty without a separate report: a meeting kind
    # (支委会 …: the logged meeting is its report) or CHECKIN_DUTY. None: a report.
    duty: Mapped[str | None] = mapped_column(String(16))
    # The plan's 主题党日 of the month (on its 主题党日 duty): the theme and the
    # day it is held, pushed to mobile members that day. None: the title, the deadline.
    theme: Mapped[str | None] = mapped_column(String(300))
    held_on: Mapped[date | None] = mapped_column(Date)
    issuer: Mapped[str] = mapped_column(String(200))
    issuer_org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    received_at: Mapped[datetime] = mapped_column(DateTime)


class Assignment(Base):
    """The state of one task for one branch, created on its first report or
    return (a chase leaves it alone). No row means: open, nothing happened yet.

    It also sums up the branch's reports of the task (migration 0009), kept by
    storage/reports.py as they arrive, so the workbench's task matrix reads
    one row per cell: the current report's time and note, its evidence
    count, the first report's time (逾期), corrections (更正) and
    submissions (补报 after a return)."""
    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("task_id", "branch_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    state: Mapped[str] = mapped_column(String(16))  # reported | returned
    return_reason: Mapped[str | None] = mapped_column(Text)
    reported_at: Mapped[datetime | None] = mapped_column(DateTime)        # the current report's
    first_reported_at: Mapped[datetime | None] = mapped_column(DateTime)  # the first report's
    note: Mapped[str | None] = mapped_column(String(60))                  # the current report's, cut
    evidence_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    corrections: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    submissions: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # 收到 (migration 0010): when the branch acknowledged the task, and who;
    # kept after a report. `deadline`: this branch's own, once an extension
    # was granted (None: the task's).
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime)
    acknowledged_by: Mapped[int | None] = mapped_column(Integer)
    deadline: Mapped[date | None] = mapped_column(Date)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class ExtensionRequest(Base):
    """申请延期: a branch asks the publishing staff for `days` more on a
    task; `state` pending → granted | refused. A grant moves that branch's
    deadline (Assignment.deadline) from `old_deadline` to `new_deadline`."""
    __tablename__ = "extension_requests"
    __table_args__ = (Index("ix_extension_requests_task_branch", "task_id", "branch_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16))  # pending | granted | refused
    old_deadline: Mapped[date] = mapped_column(Date)
    new_deadline: Mapped[date | None] = mapped_column(Date)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    received_at: Mapped[datetime] = mapped_column(DateTime)


class Card(Base):
    """A template card sent to one person. Its buttons carry only
    "<action>:<key>", and `key` is random: a click is acted on only when
    the key is found here and the clicker is the `recipient`, so a forged
    or copied key does nothing. `kind`: task (收到 / 已完成 / 申请延期 to a
    branch's reporter), days (延期3天 / 延期7天), decision (同意 / 不同意 to
    the publishing staff, for `extension_id`)."""
    __tablename__ = "cards"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    recipient: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    step: Mapped[str] = mapped_column(String(16))  # what sent it: chase, ladder-2, extension …
    extension_id: Mapped[int | None] = mapped_column(ForeignKey("extension_requests.id"))
    last_action: Mapped[str | None] = mapped_column(String(16))
    acted_at: Mapped[datetime | None] = mapped_column(DateTime)
    received_at: Mapped[datetime] = mapped_column(DateTime)


class LadderStep(Base):
    """One step of the escalation ladder taken for one task and branch
    (1 group, 2 secretary's card, 3 committee staff, 4 org digest): the
    unique key makes each step once."""
    __tablename__ = "ladder_steps"
    __table_args__ = (UniqueConstraint("task_id", "branch_id", "step", name="uq_ladder_steps_task_branch_step"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    step: Mapped[int] = mapped_column(Integer)
    day: Mapped[date] = mapped_column(Date)
    received_at: Mapped[datetime] = mapped_column(DateTime)


class Report(Base):
    """A branch's report of a task. A correction is a new row; the old one is
    kept with `superseded_by` set, so the history stays visible."""
    __tablename__ = "reports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(16))  # done | correction
    note: Mapped[str] = mapped_column(Text, default="")
    superseded_by: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"))  # the meeting that is this report
    received_at: Mapped[datetime] = mapped_column(DateTime)

    member: Mapped[Member] = relationship()
    evidence: Mapped[list["Evidence"]] = relationship(order_by="Evidence.id")


class Evidence(Base):
    __tablename__ = "evidence"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # A report's evidence, or a volunteer record's photo (志愿 then a photo 1:1): one of the two.
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"), index=True)
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer_service.id", name="fk_evidence_volunteer_id"),
                                                     index=True)
    media_id: Mapped[str] = mapped_column(String(256))  # an app callback's MediaId ("" for a url)
    url: Mapped[str | None] = mapped_column(Text)  # a smart robot's encrypted download url
    aes_key: Mapped[str | None] = mapped_column(String(64))  # the url's own key (long connection), else the bot's
    kind: Mapped[str] = mapped_column(String(16))  # image | file | video | voice
    file_name: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str | None] = mapped_column(String(64))
    path: Mapped[str | None] = mapped_column(String(500))  # None until downloaded
    size: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime)


class CheckIn(Base):
    """A member's 签到; one per member per day counts."""
    __tablename__ = "checkins"
    __table_args__ = (UniqueConstraint("member_id", "day"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    day: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    latitude: Mapped[float | None] = mapped_column(Double)  # double on MySQL too (migration 0005)
    longitude: Mapped[float | None] = mapped_column(Double)
    label: Mapped[str | None] = mapped_column(String(300))
    proxy_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))  # 代签: the secretary who signed
    received_at: Mapped[datetime] = mapped_column(DateTime)


MEETING_KINDS = ("党员大会", "支委会", "党小组会", "党课", "主题党日", "组织生活会", "民主评议", "谈心谈话")
# Whose attendance a meeting records by name (SPEC "Details fixed…"): the
# whole branch, or its committee. Other kinds have no roll: names given are kept.
WHOLE_BRANCH_KINDS = ("党员大会", "主题党日", "组织生活会", "民主评议")
COMMITTEE_KINDS = ("支委会",)
CHECKIN_DUTY = "流动党员报到"  # Task.duty of "流动党员每月报到": done when every mobile member checked in
DUTIES = (*MEETING_KINDS, CHECKIN_DUTY)
PRESENT, ABSENT, EXCUSED = "present", "absent", "excused"


class Meeting(Base):
    __tablename__ = "meetings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    held_on: Mapped[date] = mapped_column(Date)
    attended: Mapped[int | None] = mapped_column(Integer)
    expected: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    received_at: Mapped[datetime] = mapped_column(DateTime)


class Attendance(Base):
    """One member on a meeting's roll: present, absent or excused. A meeting
    with no rows was logged as a head-count only (before rolls, or a kind
    without one)."""
    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "member_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    status: Mapped[str] = mapped_column(String(8))  # present | absent | excused


class Volunteer(Base):
    """志愿服务: hours a member served. `community_id`: the community they
    registered with (双报到) at the time, so it counts there too."""
    __tablename__ = "volunteer_service"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    hours: Mapped[float] = mapped_column(Double)
    note: Mapped[str] = mapped_column(Text, default="")
    community_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime)


class Study(Base):
    """学习: a member's study session (theory study)."""
    __tablename__ = "study_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    content: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(DateTime)


class CommunityRegistration(Base):
    """双报到: the community branch where an in-service member serves (one)."""
    __tablename__ = "community_registrations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), unique=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime)


class Appraisal(Base):
    """锋领考评 scores staff enter per member and quarter (2027Q1), 0–100:
    satisfaction, and job performance (国企 and 非公企业 branches)."""
    __tablename__ = "appraisals"
    __table_args__ = (UniqueConstraint("member_id", "quarter"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    quarter: Mapped[str] = mapped_column(String(6))
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    performance: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(DateTime)


class RemoteParticipation(Base):
    """A mobile member took part in the month's 主题党日 remotely: replied
    学习 or 签到 (`via`) on or after its day, once per theme task."""
    __tablename__ = "remote_participation"
    __table_args__ = (UniqueConstraint("member_id", "task_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    day: Mapped[date] = mapped_column(Date, index=True)
    via: Mapped[str] = mapped_column(String(8))  # study | checkin
    received_at: Mapped[datetime] = mapped_column(DateTime)


# 发展党员: the stages of membership development, in order (GLOSSARY).
DEVELOPMENT_STAGES = ("入党申请人", "入党积极分子", "发展对象", "预备党员", "正式党员")
TALK = "谈话"  # the talk with an applicant (within a month of the application): a step, not a stage


class Development(Base):
    """One person in a branch's development pipeline (发展党员), by name: the
    date of each stage reached (and of the talk after the application).
    The stage is the latest date filled in; nothing is ever deleted."""
    __tablename__ = "development"
    __table_args__ = (UniqueConstraint("branch_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    applied_on: Mapped[date | None] = mapped_column(Date)     # 入党申请人
    talked_on: Mapped[date | None] = mapped_column(Date)      # 谈话
    activist_on: Mapped[date | None] = mapped_column(Date)    # 入党积极分子
    candidate_on: Mapped[date | None] = mapped_column(Date)   # 发展对象
    probation_on: Mapped[date | None] = mapped_column(Date)   # 预备党员
    full_on: Mapped[date | None] = mapped_column(Date)        # 正式党员
    received_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class Rectification(Base):
    """软弱涣散: a branch flagged by staff with a reason, until staff lift it
    with a note. A branch may be flagged again later: a new row."""
    __tablename__ = "rectifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    flagged_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    flagged_at: Mapped[datetime] = mapped_column(DateTime)
    lifted_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime)
    lift_note: Mapped[str | None] = mapped_column(Text)


class RectificationItem(Base):
    """整改事项: a task (numbered in its month, reported with 完成 N like any
    task, evidence included) for one branch, that stays on the branch's
    list until staff close it (销号)."""
    __tablename__ = "rectification_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), unique=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    rectification_id: Mapped[int | None] = mapped_column(ForeignKey("rectifications.id"))
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    close_note: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime)


class InboundMessage(Base):
    """Every authentic callback, once: the unique key is how a WeCom retry
    (same MsgId, or same sender+CreateTime+event) stops here."""
    __tablename__ = "inbound_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(16))  # app | aibot
    wecom_userid: Mapped[str] = mapped_column(String(64), index=True)
    msg_type: Mapped[str] = mapped_column(String(32))
    content: Mapped[str] = mapped_column(Text, default="")
    media_id: Mapped[str | None] = mapped_column(String(256))
    outcome: Mapped[str | None] = mapped_column(Text)
    reply: Mapped[str | None] = mapped_column(Text)  # the answer it was given (a lost one is given again)
    received_at: Mapped[datetime] = mapped_column(DateTime)


class Address(Base):
    """Where an owner is reached: a branch group's robot key or app chat id, a
    member's WeCom id, a log file … `owner` is an audience key ("org:ZB0001",
    "member:u700001"), `kind` names the channel that serves it. A new kind of
    channel needs rows, not a migration. `last_error` is the outcome of the
    last failed send, shown to staff until a send succeeds."""
    __tablename__ = "addresses"
    __table_args__ = (UniqueConstraint("owner", "kind", "value"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(96), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(255))
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class Delivery(Base):
    """The outbox: one row per (target, purpose, period), sent exactly once.
    `target` is the audience ("org:ZB0001", "member:u700001"); which channel
    and address carried it is filled in when it is sent."""
    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("target", "purpose", "period"),
                      Index("ix_deliveries_due", "state", "due_at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target: Mapped[str] = mapped_column(String(96))
    purpose: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(DateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime)


class Lease(Base):
    """A named lease (the scheduler's leadership) held until `expires_at`."""
    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    # What the holder reports about what it holds (the smart robot's long
    # connection: "connected" since when), read by /healthz in any process.
    state: Mapped[str | None] = mapped_column(String(32))
    since: Mapped[datetime | None] = mapped_column(DateTime)
    detail: Mapped[str | None] = mapped_column(String(300))


class AccessToken(Base):
    """WeCom access tokens shared by every process (one row per corp+app).

    Stored as WeCom returns it, not encrypted, on purpose: it lives 2 hours,
    anyone holding `wecom.secret` (the config file, beside this database) can
    fetch a fresh one, and whoever can read this table can already read every
    member's record. What protects it is the database's own access: the
    SQLite file is created 0600 (storage/db.py), a server database is the
    operator's to lock down. Encrypting it under a key from the config would
    only move the secret next to the one that already unlocks the API."""
    __tablename__ = "access_tokens"
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    token: Mapped[str] = mapped_column(String(600))
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class JobRun(Base):
    """A scheduled job's run for one period: the unique key makes a catch-up
    after downtime run once, never twice."""
    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "period"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime)


class PushDate(Base):
    """Staff's choice of the day a month's sheet goes out, where the holiday
    data is missing or wrong (SPEC: "let staff override a push date")."""
    __tablename__ = "push_dates"
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    received_at: Mapped[datetime] = mapped_column(DateTime)


class Event(Base):
    """Things staff must see: missed scheduler runs, failed deliveries,
    holiday data missing for a year. `scope` is the audience an event is
    about ("org:ZB0001", "member:u700001"), so a committee sees its subtree's
    only; None for the deployment's own (the scheduler, the calendar)."""
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str | None] = mapped_column(String(96), index=True)
    detail: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime)



class Account(Base):
    """A workbench sign-in for one roster person (`python -m bot add-admin`,
    or a first WeCom sign-in). The role and scope are the person's, read from
    the roster at every request: an account never widens what its person may
    see. `session_version` goes up when the password changes or the account
    is closed, so sessions signed in before stop working at once."""
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))  # None: WeCom sign-in only
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(DateTime)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class SignInLock(Base):
    """Wrong passwords counted per key ("account:s7001", "address:10.0.0.7");
    five within the window lock the key for a while."""
    __tablename__ = "sign_in_locks"
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(DateTime)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)


class AuditEntry(Base):
    """Who did what, when, from where: every change made by staff (publish,
    return, chase, uploads, retries, account changes), every export and
    sign-in, from the web, the chat or the command line."""
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    who: Mapped[str] = mapped_column(String(140))       # "余刚永（s7001）" as it was then
    unit_code: Mapped[str | None] = mapped_column(String(32), index=True)
    action: Mapped[str] = mapped_column(String(32), index=True)
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(8))     # web | chat | cli
    address: Mapped[str | None] = mapped_column(String(64))


class Proposal(Base):
    """What the bot understood from someone's own words and offered to do
    ("我理解为：…回复“是”确认"): the command as it would be typed, kept until
    the person confirms, cancels, writes something else, or 10 minutes pass.
    In the database, not in a process, because any process may get the 是.
    Addressed by its id, so a card's 确认 / 取消 button can carry it."""
    __tablename__ = "proposals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    command: Mapped[str] = mapped_column(Text)          # as it would be typed: 完成 3 已排查
    summary: Mapped[str] = mapped_column(Text)          # what the person was shown
    inbound_id: Mapped[int | None] = mapped_column(Integer)  # the message it was understood from
    state: Mapped[str] = mapped_column(String(16))      # pending | confirmed | cancelled | replaced
    received_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The random key its card's 确认 / 取消 buttons carry (none when answered by text):
    # a click is acted on only for a key found here and the proposal's own person.
    card_key: Mapped[str | None] = mapped_column(String(32), unique=True)
