"""the workbench: accounts, sign-in locks, the audit log

The dashboard's one shared HTTP Basic password goes away (issue 11): each
roster person who may use the workbench gets an account (`add-admin`, or a
first WeCom sign-in), wrong passwords are counted per account and per
client address, and every change staff make — on the web, in chat or from
the command line — is written to the audit log.

Each assignment (one task of one branch) now also sums up that branch's
reports of the task — the current report's time and note, its evidence
count, the first report's time, corrections and submissions — so the task
matrix reads one row per cell (50,000 cells: a third of the time of
joining every cell to its reports). Existing rows are filled from the
reports here.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255)),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("session_version", sa.Integer, nullable=False),
        sa.Column("last_sign_in_at", sa.DateTime),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "sign_in_locks",
        sa.Column("key", sa.String(160), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("window_start", sa.DateTime, nullable=False),
        sa.Column("locked_until", sa.DateTime),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id")),
        sa.Column("who", sa.String(140), nullable=False),
        sa.Column("unit_code", sa.String(32)),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("address", sa.String(64)),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_unit_code", "audit_log", ["unit_code"])
    op.create_index("ix_audit_log_action", "audit_log", ["action"])
    with op.batch_alter_table("assignments") as batch:
        batch.add_column(sa.Column("reported_at", sa.DateTime))
        batch.add_column(sa.Column("first_reported_at", sa.DateTime))
        batch.add_column(sa.Column("note", sa.String(60)))
        for name in SUMS:
            batch.add_column(sa.Column(name, sa.Integer, nullable=False, server_default="0"))
    _fill_assignments()


SUMS = ("evidence_count", "corrections", "submissions")


def _fill_assignments() -> None:
    """Each existing assignment's sums, from its reports (one UPDATE of
    correlated subqueries: the same on SQLite, PostgreSQL and MariaDB)."""
    meta = sa.MetaData()
    a = sa.Table("assignments", meta, sa.Column("id", sa.Integer), sa.Column("task_id", sa.Integer),
                 sa.Column("branch_id", sa.Integer), sa.Column("reported_at", sa.DateTime),
                 sa.Column("first_reported_at", sa.DateTime), sa.Column("note", sa.String(60)),
                 *(sa.Column(n, sa.Integer) for n in SUMS))
    r = sa.Table("reports", meta, sa.Column("id", sa.Integer), sa.Column("task_id", sa.Integer),
                 sa.Column("branch_id", sa.Integer), sa.Column("kind", sa.String(16)), sa.Column("note", sa.Text),
                 sa.Column("superseded_by", sa.Integer), sa.Column("received_at", sa.DateTime))
    e = sa.Table("evidence", meta, sa.Column("id", sa.Integer), sa.Column("report_id", sa.Integer))
    mine = sa.and_(r.c.task_id == a.c.task_id, r.c.branch_id == a.c.branch_id)
    current = sa.and_(mine, r.c.superseded_by.is_(None))

    def one(column, where):
        return sa.select(column).where(where).scalar_subquery()
    op.execute(a.update().values(
        reported_at=one(sa.func.max(r.c.received_at), current),
        first_reported_at=one(sa.func.min(r.c.received_at), mine),
        note=one(sa.func.max(sa.func.substr(r.c.note, 1, 60)), current),
        evidence_count=sa.select(sa.func.count(e.c.id)).select_from(e.join(r, e.c.report_id == r.c.id))
        .where(current).scalar_subquery(),
        corrections=one(sa.func.count(r.c.id), sa.and_(mine, r.c.kind == "correction")),
        submissions=one(sa.func.count(r.c.id), sa.and_(mine, r.c.kind == "done"))))


def downgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        for name in ("reported_at", "first_reported_at", "note", *SUMS):
            batch.drop_column(name)
    op.drop_table("audit_log")
    op.drop_table("sign_in_locks")
    op.drop_table("accounts")
