"""events.scope: whom an event is about

A committee's staff saw every event of the county on the dashboard,
another subtree's delivery failures included (issue 17, row 13). An event
now names the audience it concerns ("org:ZB0001", "member:u700001", the
outbox's target); events of the deployment itself (scheduler, holiday data)
have none and are the org department's. Existing events keep no scope:
their audience was never recorded, so only the org department sees them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:  # SQLite: an added nullable column needs no rebuild
        batch.add_column(sa.Column("scope", sa.String(96), nullable=True))
        batch.create_index("ix_events_scope", ["scope"])


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_index("ix_events_scope")
        batch.drop_column("scope")
