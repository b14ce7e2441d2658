"""addresses: where a branch or a member is reached, as rows

A branch's group was two columns (organizations.robot_key / chat_id) and a
failure a third (last_error, also on members); the outbox named its
channel (robot / appchat / user) and address when a row was queued. Now an
owner's addresses are rows (owner, kind, value, last_error), so a new
channel is a file and some rows, never a migration; the outbox names the
audience ("org:ZB0001", "member:u700001") and the channel is chosen when
the row is sent. Every existing address, error and outbox row is kept.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The channel kinds the first schema's columns and outbox names stood for.
KINDS = {"robot": "wecom_robot", "appchat": "wecom_appchat", "user": "wecom_user"}


def _tables():
    meta = sa.MetaData()
    orgs = sa.Table("organizations", meta, sa.Column("id", sa.Integer), sa.Column("code", sa.String(32)),
                    sa.Column("robot_key", sa.String(128)), sa.Column("chat_id", sa.String(64)),
                    sa.Column("last_error", sa.Text), sa.Column("received_at", sa.DateTime),
                    sa.Column("updated_at", sa.DateTime))
    members = sa.Table("members", meta, sa.Column("id", sa.Integer), sa.Column("wecom_userid", sa.String(64)),
                       sa.Column("last_error", sa.Text), sa.Column("received_at", sa.DateTime),
                       sa.Column("updated_at", sa.DateTime))
    deliveries = sa.Table("deliveries", meta, sa.Column("id", sa.Integer), sa.Column("target", sa.String(96)),
                          sa.Column("channel", sa.String(32)))
    return orgs, members, deliveries


def upgrade() -> None:
    addresses = op.create_table(
        "addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=96), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("owner", "kind", "value"),
    )
    op.create_index("ix_addresses_owner", "addresses", ["owner"], unique=False)
    bind = op.get_bind()
    orgs, members, deliveries = _tables()
    rows = []
    for o in bind.execute(sa.select(orgs)):
        # The one last_error of a branch belonged to the address it was sent to: the robot if any.
        for kind, value, error in (("wecom_robot", o.robot_key, o.last_error),
                                   ("wecom_appchat", o.chat_id, None if o.robot_key else o.last_error)):
            if value:
                rows.append({"owner": f"org:{o.code}", "kind": kind, "value": value, "last_error": error,
                             "received_at": o.received_at, "updated_at": o.updated_at})
    for m in bind.execute(sa.select(members).where(members.c.last_error.is_not(None),
                                                   members.c.wecom_userid.is_not(None))):
        rows.append({"owner": f"member:{m.wecom_userid}", "kind": "wecom_user", "value": m.wecom_userid,
                     "last_error": m.last_error, "received_at": m.received_at, "updated_at": m.updated_at})
    if rows:
        op.bulk_insert(addresses, rows)

    with op.batch_alter_table("deliveries") as batch:
        batch.alter_column("target", existing_type=sa.String(64), type_=sa.String(96), existing_nullable=False)
        batch.alter_column("channel", existing_type=sa.String(16), type_=sa.String(32), nullable=True)
        batch.alter_column("address", existing_type=sa.String(128), type_=sa.String(255), nullable=True)
        batch.drop_column("msg_format")
    # Targets become audience keys; channel names become address kinds.
    bind.execute(deliveries.update().where(deliveries.c.channel == "user")
                 .values(target=sa.literal("member:") + deliveries.c.target))
    bind.execute(deliveries.update().where(deliveries.c.channel != "user")
                 .values(target=sa.literal("org:") + deliveries.c.target))
    for old, new in KINDS.items():
        bind.execute(deliveries.update().where(deliveries.c.channel == old).values(channel=new))

    # Plain columns: SQLite (3.35+) drops them in place, so no table that
    # others reference is rebuilt.
    for column in ("robot_key", "chat_id", "last_error"):
        op.drop_column("organizations", column)
    op.drop_column("members", "last_error")


def downgrade() -> None:
    op.add_column("organizations", sa.Column("robot_key", sa.String(length=128), nullable=True))
    op.add_column("organizations", sa.Column("chat_id", sa.String(length=64), nullable=True))
    op.add_column("organizations", sa.Column("last_error", sa.Text(), nullable=True))
    op.add_column("members", sa.Column("last_error", sa.Text(), nullable=True))
    bind = op.get_bind()
    orgs, members, deliveries = _tables()
    addresses = sa.table("addresses", sa.column("owner"), sa.column("kind"), sa.column("value"),
                         sa.column("last_error"))
    column = {"wecom_robot": "robot_key", "wecom_appchat": "chat_id"}
    for a in bind.execute(sa.select(addresses)):
        prefix, _, key = a.owner.partition(":")
        if prefix == "org" and a.kind in column:
            bind.execute(orgs.update().where(orgs.c.code == key).values(
                {column[a.kind]: a.value, **({"last_error": a.last_error} if a.last_error else {})}))
        elif prefix == "member" and a.last_error:
            bind.execute(members.update().where(members.c.wecom_userid == key).values(last_error=a.last_error))
    for old, new in KINDS.items():
        bind.execute(deliveries.update().where(deliveries.c.channel == new).values(channel=old))
    for prefix in ("org:", "member:"):
        bind.execute(deliveries.update().where(deliveries.c.target.startswith(prefix))
                     .values(target=sa.func.substr(deliveries.c.target, len(prefix) + 1)))
    bind.execute(deliveries.update().where(deliveries.c.channel.is_(None)).values(channel="robot", address=""))
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("msg_format", sa.String(length=16), nullable=False, server_default="markdown"))
        batch.alter_column("address", existing_type=sa.String(255), type_=sa.String(128), nullable=False)
        batch.alter_column("channel", existing_type=sa.String(32), type_=sa.String(16), nullable=False)
        batch.alter_column("target", existing_type=sa.String(96), type_=sa.String(64), existing_nullable=False)
    op.drop_index("ix_addresses_owner", table_name="addresses")
    op.drop_table("addresses")
