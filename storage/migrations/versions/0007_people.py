"""people, not head-counts: attendance by name, member records, report once

Issue 12. A meeting's roll (`attendance`: present / absent / excused per
member), a member's volunteer service, study and 双报到, 代签 on check-ins
(`checkins.proxy_by`), staff-entered 锋领考评 scores (`appraisals`), the duty
a recurring task stands for (`tasks.duty`: a meeting kind, or 流动党员报到)
and the meeting that is a task's report (`reports.meeting_id`).

Nothing existing changes: every meeting keeps its head-count (a meeting
without attendance rows is a head-count only) and every report stays as it
was. The recurring tasks already imported get their duty from the titles
the plans have always used for them — once, here; from now on the plan
states it (`kind:`).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The standard recurring duties of the plans so far, and what fulfils each.
DUTY_OF_TITLE = {"召开支部委员会会议": "支委会", "召开党小组会": "党小组会", "开展主题党日活动": "主题党日",
                 "召开支部党员大会": "党员大会", "书记讲党课": "党课", "流动党员每月报到": "流动党员报到"}
ADDED = [("tasks", "duty", sa.String(16), None), ("reports", "meeting_id", sa.Integer(), "meetings"),
         ("checkins", "proxy_by", sa.Integer(), "members")]


def _add_column(table: str, column: str, type_, references: str | None) -> None:
    if op.get_bind().dialect.name == "sqlite":
        # In place: a batch rebuild would drop tables others reference (as in 0003).
        ref = f" REFERENCES {references} (id)" if references else ""
        type_sql = "VARCHAR(16)" if isinstance(type_, sa.String) else "INTEGER"
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} {type_sql}{ref}")
        return
    op.add_column(table, sa.Column(column, type_, nullable=True))
    if references:
        op.create_foreign_key(f"fk_{table}_{column}", table, references, [column], ["id"])


def upgrade() -> None:
    op.create_table(
        "attendance",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("meeting_id", sa.Integer, sa.ForeignKey("meetings.id"), nullable=False),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.UniqueConstraint("meeting_id", "member_id"))
    op.create_index("ix_attendance_member_id", "attendance", ["member_id"])
    op.create_table(
        "volunteer_service",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("hours", sa.Double, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("community_id", sa.Integer, sa.ForeignKey("organizations.id"), nullable=True),
        sa.Column("received_at", sa.DateTime, nullable=False))
    op.create_index("ix_volunteer_service_member_id", "volunteer_service", ["member_id"])
    op.create_index("ix_volunteer_service_community_id", "volunteer_service", ["community_id"])
    op.create_table(
        "study_sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False))
    op.create_index("ix_study_sessions_member_id", "study_sessions", ["member_id"])
    op.create_table(
        "community_registrations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), nullable=False, unique=True),
        sa.Column("community_id", sa.Integer, sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False))
    op.create_index("ix_community_registrations_community_id", "community_registrations", ["community_id"])
    op.create_table(
        "appraisals",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), nullable=False),
        sa.Column("quarter", sa.String(6), nullable=False),
        sa.Column("satisfaction", sa.Integer, nullable=True),
        sa.Column("performance", sa.Integer, nullable=True),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("member_id", "quarter"))
    for table, column, type_, references in ADDED:
        _add_column(table, column, type_, references)
    tasks = sa.table("tasks", sa.column("title", sa.String), sa.column("recurring", sa.Boolean),
                     sa.column("duty", sa.String))
    for title, duty in DUTY_OF_TITLE.items():
        op.execute(tasks.update().where(tasks.c.title == title, tasks.c.recurring == sa.true())
                   .values(duty=duty))


def downgrade() -> None:
    for table, column, _, references in reversed(ADDED):
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
            continue
        if references:
            op.drop_constraint(f"fk_{table}_{column}", table, type_="foreignkey")
        op.drop_column(table, column)
    for table in ("appraisals", "community_registrations", "study_sessions", "volunteer_service", "attendance"):
        op.drop_table(table)
