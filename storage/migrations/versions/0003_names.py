"""one English name per concept (GLOSSARY.md)

"mobile" means a mobile member (流动党员) only: a member's phone number is
`phone`; 流入地 is where a mobile member works now, `inflow_city`; a task's
state for a branch is `state`, the word the outbox uses too.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

RENAMES = [("members", "mobile", "phone", sa.String(32), True),
           ("members", "outflow_city", "inflow_city", sa.String(64), True),
           ("assignments", "status", "state", sa.String(16), False)]


def _rename(table: str, old: str, new: str, type_, nullable: bool) -> None:
    if op.get_bind().dialect.name == "sqlite":
        # In place (SQLite 3.25+): a batch rebuild would drop tables others reference.
        op.execute(f'ALTER TABLE {table} RENAME COLUMN "{old}" TO "{new}"')
    else:
        op.alter_column(table, old, new_column_name=new, existing_type=type_, existing_nullable=nullable)


def upgrade() -> None:
    for table, old, new, type_, nullable in RENAMES:
        _rename(table, old, new, type_, nullable)


def downgrade() -> None:
    for table, old, new, type_, nullable in RENAMES:
        _rename(table, new, old, type_, nullable)
