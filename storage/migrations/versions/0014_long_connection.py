"""the smart robot's long connection: what its holder reports, and a key per file

A lease's holder may now say what it holds and since when (`state`,
`since`, `detail`): the process holding the smart robot's long connection
writes "connected since 09:12" there with every heartbeat, so /healthz and
`doctor` in any process can say whether the connection is up without
talking to it. Over the long connection each photo or file comes with its
own AES key (doc 101463), kept with the evidence until it is downloaded.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa


revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("leases", sa.Column("state", sa.String(32), nullable=True))
    op.add_column("leases", sa.Column("since", sa.DateTime(), nullable=True))
    op.add_column("leases", sa.Column("detail", sa.String(300), nullable=True))
    op.add_column("evidence", sa.Column("aes_key", sa.String(64), nullable=True))


def _drop(table: str, column: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        # In place (SQLite 3.35+): a batch rebuild would drop tables others reference.
        op.execute(f'ALTER TABLE {table} DROP COLUMN "{column}"')
    else:
        op.drop_column(table, column)


def downgrade() -> None:
    _drop("evidence", "aes_key")
    for column in ("detail", "since", "state"):
        _drop("leases", column)
