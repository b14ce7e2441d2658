"""`backup` / `restore`: the sample county with reports (one corrected),
evidence, meetings, check-ins with a place, deliveries (one failed) and
addresses goes SQLite → PostgreSQL → MariaDB → SQLite through the CLI,
every row equal at every step; after the restore PostgreSQL's sequences
are past the largest ids. A non-empty database is refused without
--force, a newer schema always."""
import json
import zipfile
from pathlib import Path
from sqlalchemy import create_engine, func, select

from bot.cli import main
from storage.db import transaction
from storage.events import add_event
from storage.models import Base, CheckIn, Delivery, Event, Evidence, Member, Report
from storage.outbox import Message, enqueue
from tests.conftest import fresh_mysql_database, fresh_pg_database, set_group_address
from tests.wecom_peer import location_xml, media_xml

SECRETARY, MOBILE, OTHER_MOBILE = "u700001", "u700048", "u700050"
RUNNING_STATE = {"leases", "access_tokens"}


def seed(wecom, county, worker, standin):
    from bot.schedule.pushes import monthly_sheet
    from bot.wecom.media import fetch_pending
    standin.add_media("MEDIA_photo1", b"\xff\xd8\xff\xe0" + b"jpeg" * 300, "会议照片.jpg")
    wecom.say(SECRETARY, "完成 1 已排查")
    wecom.say(SECRETARY, "更正 1 已排查，发现1个软弱涣散村，已整改")  # the old report is superseded
    wecom.post(media_xml(SECRETARY, "image", "MEDIA_photo1"))
    assert fetch_pending(county, worker.client) == 1
    wecom.say(SECRETARY, "会议 支委会 2026-11-13 出席 7/9")
    wecom.say(MOBILE, "签到 在东莞打工")
    wecom.post(location_xml(OTHER_MOBILE, 23.020673, 113.751798, "广东省东莞市南城街道"))
    set_group_address(county, "ZB0002", "bad-key")  # a failed delivery, an address with its error
    with transaction(county.sessions) as s:
        enqueue(s, monthly_sheet.messages(s, county.clock.today(), "2026-11"), county.clock.now())
    worker.drain()
    with county.sessions() as s:
        counts = {m.__tablename__: s.scalar(select(func.count()).select_from(m))
                  for m in (Report, Evidence, CheckIn, Delivery)}
        assert s.scalar(select(func.count()).select_from(Report).where(Report.superseded_by.is_not(None))) == 1
        assert s.scalar(select(func.count()).select_from(Delivery).where(Delivery.state == "failed")) == 1
        assert s.scalar(select(CheckIn.longitude).where(CheckIn.longitude.is_not(None))) == 113.751798
    assert all(counts.values()), counts


def rows(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, read through the models (so 0/1 and
    True/False compare equal across databases). An evidence file's path is
    compared by its name: a restore with the files puts them into this
    server's media folder and points the rows there."""
    engine = create_engine(url)
    with engine.connect() as conn:
        found = {t.name: [tuple(r._mapping.get(c.name) if c is not Evidence.__table__.c.path
                                else Path(r.path).name for c in t.columns)
                          for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
                 if t.name == "evidence" else
                 [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
                 for t in Base.metadata.sorted_tables if t.name not in RUNNING_STATE}
    engine.dispose()
    return found


def config_for(tmp_path, name: str, url: str) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"database:\n  url: {url}\nserver:\n  media_dir: {tmp_path / ('media-' + name)}\n",
                    encoding="utf-8")
    return str(path)


def test_round_trip_sqlite_postgresql_mariadb_sqlite(wecom, county, worker, standin, tmp_path, capsys,
                                                     pg_base_url, mysql_base_url):
    seed(wecom, county, worker, standin)
    original = rows(str(county.engine.url))
    assert sum(map(len, original.values())) > 1000
    source = config_for(tmp_path, "source", str(county.engine.url))
    assert main(["-c", source, "backup", "-o", str(tmp_path / "1.zip"), "--media"]) == 0

    # into PostgreSQL, freshly initialised (`init` first)
    pg = fresh_pg_database(pg_base_url)
    on_pg = config_for(tmp_path, "pg", pg)
    assert main(["-c", on_pg, "init"]) == 0
    assert main(["-c", on_pg, "restore", str(tmp_path / "1.zip")]) == 0
    assert rows(pg) == original
    assert main(["-c", on_pg, "backup", "-o", str(tmp_path / "2.zip")]) == 0

    # into MariaDB, empty (never initialised)
    maria = fresh_mysql_database(mysql_base_url)
    on_maria = config_for(tmp_path, "maria", maria)
    assert main(["-c", on_maria, "restore", str(tmp_path / "2.zip")]) == 0
    assert rows(maria) == original
    assert main(["-c", on_maria, "backup", "-o", str(tmp_path / "3.zip")]) == 0

    # and back to a new SQLite file
    back = f"sqlite:///{tmp_path}/back.db"
    assert main(["-c", config_for(tmp_path, "back", back), "restore", str(tmp_path / "3.zip")]) == 0
    assert rows(back) == original

    out = capsys.readouterr().out
    assert "已恢复" in out and "证据文件 1 个已放入" in out
    with zipfile.ZipFile(tmp_path / "3.zip") as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["source"] == "mysql" and manifest["schema"]
    assert {n: t["rows"] for n, t in manifest["tables"].items()} == {n: len(r) for n, r in original.items()}
    # the evidence file came along with the first backup, and its row points at the copy
    pg_engine = create_engine(pg)
    with pg_engine.connect() as conn:
        [path] = conn.execute(select(Evidence.path).where(Evidence.path.is_not(None))).scalars()
    pg_engine.dispose()
    assert Path(path).parent == tmp_path / "media-pg" and Path(path).read_bytes()[:4] == b"\xff\xd8\xff\xe0"

    # PostgreSQL's sequences were moved past the restored ids: new rows do not collide
    from tests.conftest import make_runtime
    rt = make_runtime(pg, tmp_path)
    with transaction(rt.sessions) as s:
        add_event(s, "test", "after restore", rt.clock.now())
        assert enqueue(s, [Message("org:ZB0001", "after-restore", "2026-11", "x")], rt.clock.now()) == 1
        assert s.scalar(select(func.max(Event.id))) > max(r[0] for r in original["events"] or [(0,)])
        assert s.scalar(select(func.max(Delivery.id))) == max(r[0] for r in original["deliveries"]) + 1
        s.add(Member(name="新党员", roster_key="new-1", org_id=1, role="党员", status="正式党员",
                     received_at=rt.clock.now(), updated_at=rt.clock.now()))
    rt.engine.dispose()


def test_restore_refuses_a_non_empty_database_unless_forced(any_db_url, tmp_path, capsys):
    from tests.conftest import load_county, make_runtime
    (tmp_path / "src").mkdir()
    county = load_county(make_runtime(f"sqlite:///{tmp_path}/src/county.db", tmp_path / "src"))
    source = config_for(tmp_path, "source", str(county.engine.url))
    assert main(["-c", source, "backup", "-o", str(tmp_path / "b.zip")]) == 0
    target = config_for(tmp_path, "target", any_db_url)
    assert main(["-c", target, "restore", str(tmp_path / "b.zip")]) == 0
    with transaction(county.sessions) as s:  # the source moves on; the target must not take it by accident
        add_event(s, "test", "later", county.clock.now())
    assert main(["-c", source, "backup", "-o", str(tmp_path / "c.zip")]) == 0
    capsys.readouterr()
    assert main(["-c", target, "restore", str(tmp_path / "c.zip")]) == 2
    refusal = capsys.readouterr().err
    assert "不是空的" in refusal and "--force" in refusal
    assert main(["-c", target, "restore", str(tmp_path / "c.zip"), "--force"]) == 0
    assert rows(any_db_url) == rows(str(county.engine.url))
    county.engine.dispose()


def test_restore_refuses_a_newer_schema_and_a_damaged_file(county, tmp_path, capsys):
    source = config_for(tmp_path, "source", str(county.engine.url))
    assert main(["-c", source, "backup", "-o", str(tmp_path / "b.zip")]) == 0
    with zipfile.ZipFile(tmp_path / "b.zip") as old, zipfile.ZipFile(tmp_path / "newer.zip", "w") as new:
        for item in old.infolist():
            data = old.read(item)
            if item.filename == "manifest.json":
                doc = json.loads(data)
                doc["schema"] = "9999"
                data = json.dumps(doc).encode()
            new.writestr(item, data)
    target = config_for(tmp_path, "target", f"sqlite:///{tmp_path}/t.db")
    capsys.readouterr()
    assert main(["-c", target, "restore", str(tmp_path / "newer.zip")]) == 2
    assert "更新的数据库版本（9999）" in capsys.readouterr().err
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    assert main(["-c", target, "restore", str(tmp_path / "junk.zip")]) == 2
    assert "无法读取备份文件" in capsys.readouterr().err


def test_an_older_backup_is_restored_then_upgraded(tmp_path):
    """A file of an older schema (0003: coordinates still FLOAT) loads at its
    own revision and is brought up to the newest."""
    from sqlalchemy import text

    from storage.backup import newest_revision
    from storage.db import schema_version, upgrade
    old = create_engine(f"sqlite:///{tmp_path}/old.db")
    upgrade(old, "0003")
    with old.begin() as conn:
        conn.execute(text("INSERT INTO organizations (id, code, name, type, active, received_at, updated_at) "
                          "VALUES (1, 'ZZB', '组织部', '组织部', 1, '2026-11-16 10:17:00', '2026-11-16 10:17:00')"))
    old.dispose()
    source = config_for(tmp_path, "old", f"sqlite:///{tmp_path}/old.db")
    assert main(["-c", source, "backup", "-o", str(tmp_path / "old.zip")]) == 0
    new_url = f"sqlite:///{tmp_path}/new.db"
    assert main(["-c", config_for(tmp_path, "new", new_url), "init"]) == 0  # already at the newest
    assert main(["-c", config_for(tmp_path, "new", new_url), "restore", str(tmp_path / "old.zip")]) == 0
    engine = create_engine(new_url)
    assert schema_version(engine) == newest_revision()
    assert rows(new_url)["organizations"][0][:2] == (1, "ZZB")
    engine.dispose()
