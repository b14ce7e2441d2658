"""the org department's registers: development, rectification, terms

发展党员 (one row per person in a branch's pipeline, a date per stage),
软弱涣散 flags and their 整改 items (each item is a task of its branch that
stays until staff close it), and each organisation's term (换届时间 /
届满时间) from the roster (issue 14).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organizations") as batch:
        batch.add_column(sa.Column("term_start", sa.Date))
        batch.add_column(sa.Column("term_end", sa.Date))
    op.create_table(
        "development",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("branch_id", sa.Integer, sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("applied_on", sa.Date),
        sa.Column("talked_on", sa.Date),
        sa.Column("activist_on", sa.Date),
        sa.Column("candidate_on", sa.Date),
        sa.Column("probation_on", sa.Date),
        sa.Column("full_on", sa.Date),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("branch_id", "name"),
    )
    op.create_index("ix_development_branch_id", "development", ["branch_id"])
    op.create_table(
        "rectifications",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("branch_id", sa.Integer, sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("flagged_by", sa.Integer, sa.ForeignKey("members.id")),
        sa.Column("flagged_at", sa.DateTime, nullable=False),
        sa.Column("lifted_by", sa.Integer, sa.ForeignKey("members.id")),
        sa.Column("lifted_at", sa.DateTime),
        sa.Column("lift_note", sa.Text),
    )
    op.create_index("ix_rectifications_branch_id", "rectifications", ["branch_id"])
    op.create_table(
        "rectification_items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("task_id", sa.Integer, sa.ForeignKey("tasks.id"), nullable=False, unique=True),
        sa.Column("branch_id", sa.Integer, sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("rectification_id", sa.Integer, sa.ForeignKey("rectifications.id")),
        sa.Column("closed_by", sa.Integer, sa.ForeignKey("members.id")),
        sa.Column("closed_at", sa.DateTime),
        sa.Column("close_note", sa.Text),
        sa.Column("received_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_rectification_items_branch_id", "rectification_items", ["branch_id"])


def downgrade() -> None:
    op.drop_table("rectification_items")
    op.drop_table("rectifications")
    op.drop_table("development")
    with op.batch_alter_table("organizations") as batch:
        batch.drop_column("term_end")
        batch.drop_column("term_start")
