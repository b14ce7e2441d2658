"""evidence by url, and the answer given to each inbound message

A smart robot's photos and files come as encrypted download urls (often
longer than the 256 characters of media_id), not MediaIds: evidence keeps
the url. An inbound message keeps the answer it was given, so that a WeCom
retry of a message whose answer was lost gets that answer again, not
silence.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("evidence", sa.Column("url", sa.Text(), nullable=True))
    op.add_column("inbound_messages", sa.Column("reply", sa.Text(), nullable=True))


def _drop(table: str, column: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        # In place (SQLite 3.35+): a batch rebuild would drop tables others reference.
        op.execute(f'ALTER TABLE {table} DROP COLUMN "{column}"')
    else:
        op.drop_column(table, column)


def downgrade() -> None:
    _drop("inbound_messages", "reply")
    _drop("evidence", "url")
