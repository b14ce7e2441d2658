"""check-in coordinates in double precision on MySQL/MariaDB

A plain FLOAT there is single precision: 120.155151 came back as 120.155,
a check-in's place off by about 100 m, and a backup moved through MariaDB
was no longer equal to its source. PostgreSQL's FLOAT and SQLite's REAL
are double already; there only the declared type changes (on SQLite by
rebuilding `checkins`, which no other table references).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COLUMNS = ("latitude", "longitude")


def _retype(old, new) -> None:
    with op.batch_alter_table("checkins") as batch:
        for column in COLUMNS:
            batch.alter_column(column, existing_type=old, type_=new, existing_nullable=True)


def upgrade() -> None:
    _retype(sa.Float(), sa.Double())


def downgrade() -> None:
    _retype(sa.Double(), sa.Float())
