"""one tap: acknowledgements, per-branch deadlines, extension requests,
template cards, the escalation ladder

An assignment (one task of one branch) now also keeps the branch's
acknowledgement (收到: when, by whom) and its own deadline where an
extension was granted (None: the task's). A card sent to a person is a
row whose random key is the only thing its buttons carry, so a forged or
guessed key finds nothing. Extension requests wait for the publishing
staff's 同意 / 不同意. Each step of the escalation ladder is a row per
(task, branch, step): each step once, whatever the scheduler does.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.add_column(sa.Column("acknowledged_at", sa.DateTime))
        batch.add_column(sa.Column("acknowledged_by", sa.Integer))
        batch.add_column(sa.Column("deadline", sa.Date))
    op.create_table(
        "extension_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("task_id", sa.Integer, sa.ForeignKey("tasks.id"), nullable=False),
        sa.Column("branch_id", sa.Integer, sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), nullable=False),
        sa.Column("days", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("old_deadline", sa.Date, nullable=False),
        sa.Column("new_deadline", sa.Date),
        sa.Column("decided_by", sa.Integer, sa.ForeignKey("members.id")),
        sa.Column("decided_at", sa.DateTime),
        sa.Column("received_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_extension_requests_task_branch", "extension_requests", ["task_id", "branch_id"])
    op.create_table(
        "cards",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(32), nullable=False, unique=True),
        sa.Column("recipient", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("task_id", sa.Integer, sa.ForeignKey("tasks.id"), nullable=False),
        sa.Column("branch_id", sa.Integer, sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("step", sa.String(16), nullable=False),
        sa.Column("extension_id", sa.Integer, sa.ForeignKey("extension_requests.id")),
        sa.Column("last_action", sa.String(16)),
        sa.Column("acted_at", sa.DateTime),
        sa.Column("received_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "ladder_steps",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("task_id", sa.Integer, sa.ForeignKey("tasks.id"), nullable=False),
        sa.Column("branch_id", sa.Integer, sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("task_id", "branch_id", "step", name="uq_ladder_steps_task_branch_step"),
    )


def downgrade() -> None:
    op.drop_table("ladder_steps")
    op.drop_table("cards")
    op.drop_index("ix_extension_requests_task_branch", "extension_requests")
    op.drop_table("extension_requests")
    with op.batch_alter_table("assignments") as batch:
        for name in ("acknowledged_at", "acknowledged_by", "deadline"):
            batch.drop_column(name)
