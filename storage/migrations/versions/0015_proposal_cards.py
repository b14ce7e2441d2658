"""proposals.card_key: the random key a proposal's 确认 / 取消 card carries

Where the person can be shown a card (the app's 1:1 chat), a proposal from
their own words is answered as a card whose buttons carry only this key
(issues 13 and 18): a click is acted on only for a key found here and the
proposal's own person, so a forged or copied key does nothing.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa


revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("proposals") as batch:
        batch.add_column(sa.Column("card_key", sa.String(32), nullable=True))
        batch.create_unique_constraint("uq_proposals_card_key", ["card_key"])


def downgrade() -> None:
    with op.batch_alter_table("proposals") as batch:
        batch.drop_constraint("uq_proposals_card_key", type_="unique")
        batch.drop_column("card_key")
