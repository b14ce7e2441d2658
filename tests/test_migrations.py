from sqlalchemy import create_engine, inspect

from storage.db import schema_version, upgrade
from storage.models import Base


def test_migrations_build_the_whole_schema_from_empty(any_db_url):
    engine = create_engine(any_db_url)
    assert schema_version(engine) is None
    upgrade(engine)
    upgrade(engine)  # running again is harmless
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert schema_version(engine) is not None
    engine.dispose()


def test_models_and_migrations_agree(tmp_path):
    """A model change without a migration would fail here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    engine = create_engine(f"sqlite:///{tmp_path}/m.db")
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_group_addresses_and_the_outbox_survive_the_move_to_address_rows(any_db_url):
    """A database of the first schema, with data in it, upgraded: every robot
    key, chat id, recorded failure and outbox row is kept."""
    from datetime import datetime

    from sqlalchemy import text

    from storage.db import upgrade as upgrade_to
    engine = create_engine(any_db_url)
    upgrade_to(engine, "0001")
    at = datetime(2026, 11, 16, 10, 17)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO organizations (id, code, name, type, parent_id, category, robot_key, chat_id, active, "
            "last_error, received_at, updated_at) VALUES "
            "(1, 'ZZB', '组织部', '组织部', NULL, NULL, NULL, NULL, :t, NULL, :at, :at), "
            "(2, 'ZB0001', '一支部', '党支部', 1, '农村', 'robot-1', NULL, :t, '93000 invalid webhook url', :at, :at), "
            "(3, 'ZB0002', '二支部', '党支部', 1, '农村', NULL, 'chat2', :t, NULL, :at, :at), "
            "(4, 'ZB0003', '三支部', '党支部', 1, '农村', 'robot-3', 'chat3', :t, NULL, :at, :at), "
            "(5, 'ZB0004', '四支部', '党支部', 1, '农村', NULL, NULL, :t, NULL, :at, :at)"),
            {"t": True, "at": at})
        conn.execute(text(
            "INSERT INTO members (id, name, roster_key, wecom_userid, mobile, org_id, role, status, is_mobile, "
            "outflow_city, retired, joined_on, active, last_error, received_at, updated_at) VALUES "
            "(1, '甲', 'u1', 'u1', NULL, 2, '书记', '正式党员', :f, NULL, :f, NULL, :t, NULL, :at, :at), "
            "(2, '乙', 'gone2', 'gone2', NULL, 2, '党员', '正式党员', :t, '深圳', :f, NULL, :t, "
            "'81013 无效用户', :at, :at)"), {"t": True, "f": False, "at": at})
        conn.execute(text(
            "INSERT INTO deliveries (target, purpose, period, channel, address, body, msg_format, state, attempts, "
            "due_at, received_at) VALUES "
            "('ZB0001', 'monthly-sheet', '2026-11', 'robot', 'robot-1', '提醒单', 'markdown', 'failed', 1, :at, :at), "
            "('ZB0002', 'monthly-sheet', '2026-11', 'appchat', 'chat2', '提醒单', 'markdown', 'pending', 0, :at, :at), "
            "('gone2', 'checkin-reminder', '2026-11', 'user', 'gone2', '请签到', 'markdown', 'failed', 1, :at, :at)"),
            {"at": at})
    upgrade(engine)
    with engine.connect() as conn:
        addresses = sorted(tuple(r) for r in conn.execute(text(
            "SELECT owner, kind, value, last_error FROM addresses")))
        deliveries = sorted(tuple(r) for r in conn.execute(text(
            "SELECT target, channel, address, state, body FROM deliveries")))
    assert addresses == [
        ("member:gone2", "wecom_user", "gone2", "81013 无效用户"),
        ("org:ZB0001", "wecom_robot", "robot-1", "93000 invalid webhook url"),
        ("org:ZB0002", "wecom_appchat", "chat2", None),
        ("org:ZB0003", "wecom_appchat", "chat3", None),
        ("org:ZB0003", "wecom_robot", "robot-3", None),
    ]
    assert deliveries == [
        ("member:gone2", "wecom_user", "gone2", "failed", "请签到"),
        ("org:ZB0001", "wecom_robot", "robot-1", "failed", "提醒单"),
        ("org:ZB0002", "wecom_appchat", "chat2", "pending", "提醒单"),
    ]
    columns = {c["name"] for c in inspect(engine).get_columns("organizations")}
    assert not columns & {"robot_key", "chat_id", "last_error"}
    engine.dispose()


def test_meetings_reports_and_evidence_survive_the_people_migrations(any_db_url):
    """A database from before rolls (0006) with a meeting (a head-count), a
    task, its report and the report's photo, upgraded to the head (0007
    rolls, 0010 volunteer photos and the plan's theme day): each is kept as
    it was — the meeting keeps its head-count and gets no roll, the task its
    duty from its title; after it a photo may belong to a volunteer record
    instead of a report, and the 主题党日 duty may carry a theme and day."""
    from datetime import date, datetime

    from sqlalchemy import MetaData, insert, select

    from storage.db import upgrade as upgrade_to
    engine = create_engine(any_db_url)
    upgrade_to(engine, "0006")
    at = datetime(2026, 11, 16, 10, 17)
    meta = MetaData()
    meta.reflect(engine)
    t = meta.tables
    with engine.begin() as conn:
        conn.execute(insert(t["organizations"]), [{"id": 1, "code": "ZB0001", "name": "一支部", "type": "党支部",
                                                  "category": "农村", "active": True, "received_at": at,
                                                  "updated_at": at}])
        conn.execute(insert(t["members"]), [{"id": 1, "name": "甲", "roster_key": "u1", "wecom_userid": "u1",
                                            "org_id": 1, "role": "书记", "status": "正式党员", "is_mobile": False,
                                            "retired": False, "active": True, "received_at": at, "updated_at": at}])
        conn.execute(insert(t["meetings"]), [{"id": 1, "branch_id": 1, "kind": "支委会", "held_on": date(2026, 11, 3),
                                             "attended": 7, "expected": 9, "note": "旧会议", "member_id": 1,
                                             "received_at": at}])
        conn.execute(insert(t["tasks"]), [{"id": 1, "natural_key": "k1", "month": "2026-11", "number": 1,
                                          "title": "开展主题党日活动", "deadline": date(2026, 11, 30),
                                          "target_kind": "all", "target_values": "", "recurring": True,
                                          "issuer": "组织部", "received_at": at}])
        conn.execute(insert(t["reports"]), [{"id": 1, "task_id": 1, "branch_id": 1, "member_id": 1, "kind": "done",
                                            "note": "已开展", "received_at": at}])
        conn.execute(insert(t["evidence"]), [{"id": 1, "report_id": 1, "media_id": "M1", "kind": "image",
                                             "file_name": "照片.jpg", "sha256": "ab" * 32, "received_at": at}])
    upgrade(engine)
    meta = MetaData()
    meta.reflect(engine)
    t = meta.tables
    with engine.begin() as conn:
        meeting = conn.execute(select(t["meetings"].c.attended, t["meetings"].c.expected, t["meetings"].c.note)).one()
        assert tuple(meeting) == (7, 9, "旧会议")
        assert tuple(conn.execute(select(t["reports"].c.note, t["reports"].c.meeting_id)).one()) == ("已开展", None)
        assert conn.execute(select(t["attendance"].c.id)).all() == []  # a head-count stays a head-count
        assert conn.execute(select(t["tasks"].c.duty)).scalar() == "主题党日"
        assert tuple(conn.execute(select(t["evidence"].c.report_id, t["evidence"].c.volunteer_id,
                                         t["evidence"].c.sha256)).one()) == (1, None, "ab" * 32)
        assert tuple(conn.execute(select(t["tasks"].c.theme, t["tasks"].c.held_on)).one()) == (None, None)
        conn.execute(insert(t["volunteer_service"]), [{"id": 1, "member_id": 1, "day": date(2026, 11, 16),
                                                       "hours": 2.0, "note": "", "received_at": at}])
        conn.execute(insert(t["evidence"]), [{"id": 2, "report_id": None, "volunteer_id": 1, "media_id": "M2",
                                             "kind": "image", "file_name": "志愿.jpg", "received_at": at}])
        conn.execute(t["tasks"].update().values(theme="学雷锋", held_on=date(2026, 11, 13)))
    engine.dispose()
