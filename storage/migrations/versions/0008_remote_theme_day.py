"""remote 主题党日: a mobile member's reply to the month's theme

Issue 12. Mobile members (流动党员) get the month's 主题党日 theme on its
day and take part remotely by replying 学习 or 签到; each such month is a
row (once per member and month), counted by the radar's 主题党日 dimension.
A new table only: nothing existing changes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "remote_participation",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), nullable=False),
        sa.Column("task_id", sa.Integer, sa.ForeignKey("tasks.id"), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("via", sa.String(8), nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("member_id", "task_id"))
    op.create_index("ix_remote_participation_day", "remote_participation", ["day"])


def downgrade() -> None:
    op.drop_table("remote_participation")
