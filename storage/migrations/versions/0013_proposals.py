"""proposals: what the bot understood from own words, awaiting 是

A message that is not a command but would change a record is never acted
on at once (issue 13): the bot says what it understood and keeps that, as
the command it would type, for 10 minutes per person. Several processes
serve callbacks, so the proposal lives here, not in a process's memory.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa


revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), nullable=False),
        sa.Column("command", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("inbound_id", sa.Integer),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        sa.Column("decided_at", sa.DateTime),
    )
    op.create_index("ix_proposals_member_id", "proposals", ["member_id"])


def downgrade() -> None:
    op.drop_index("ix_proposals_member_id", "proposals")
    op.drop_table("proposals")
