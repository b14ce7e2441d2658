"""member records: a volunteer record's photos, the plan's 主题党日 theme and day

Issue 12 (remaining parts).
- A photo or file sent 1:1 after `志愿 N小时` is that volunteer record's
  evidence: `evidence.volunteer_id`, and `evidence.report_id` may now be
  empty (an evidence row belongs to a report or to a volunteer record). The
  downloader fetches both alike. Existing evidence keeps its report.
- The plan may give the month's 主题党日 its theme and day
  (`tasks.theme`, `tasks.held_on`, on the month's 主题党日 duty): mobile
  members get that theme on that day. Existing tasks keep neither (the
  duty's title and deadline, as before).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.alter_column("report_id", existing_type=sa.Integer, nullable=True)
        batch.add_column(sa.Column("volunteer_id", sa.Integer, nullable=True))
        batch.create_foreign_key("fk_evidence_volunteer_id", "volunteer_service", ["volunteer_id"], ["id"])
        batch.create_index("ix_evidence_volunteer_id", ["volunteer_id"])
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("theme", sa.String(300)))
        batch.add_column(sa.Column("held_on", sa.Date))


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("held_on")
        batch.drop_column("theme")
    op.execute("DELETE FROM evidence WHERE report_id IS NULL")
    with op.batch_alter_table("evidence") as batch:
        batch.drop_index("ix_evidence_volunteer_id")
        batch.drop_constraint("fk_evidence_volunteer_id", type_="foreignkey")
        batch.drop_column("volunteer_id")
        batch.alter_column("report_id", existing_type=sa.Integer, nullable=False)
