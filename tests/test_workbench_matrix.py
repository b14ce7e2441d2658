"""The task matrix and the overview's figures: what a cell says after each
thing a branch or the org department does in chat, on every database;
the migration that sums up existing reports."""
import json
import re
from datetime import datetime

from sqlalchemy import create_engine, text

from storage.db import upgrade
from tests.wecom_peer import media_xml
from tests.workbench import SECRETARY, accounts, app, as_committee, as_org, as_secretary  # noqa: F401


def matrix(client, query=""):
    page = client.page("/dashboard/matrix" + query)
    data = json.loads(re.search(r'<script type="application/json" id="matrix-data">(.*?)</script>', page, re.S)[1])
    rows = {code: dict(zip([t[1] for t in data["tasks"]], cells)) for (code, _), cells in zip(data["branches"], data["cells"])}
    return data, rows


def test_each_cell_says_what_happened(as_org, wecom, accounts):
    wecom.say(SECRETARY, "完成 1 已排查，无软弱涣散情况")
    wecom.say("u700012", "完成 1 已排查")      # ZB0002
    wecom.say("u700012", "更正 1 已排查，附排查表")
    wecom.say("s7001", "退回 1 ZB0002 缺少排查表")
    data, rows = matrix(as_org)
    assert len(data["branches"]) == 36 and [t[1] for t in data["tasks"]][:2] == [1, 2]
    assert rows["ZB0001"][1] == ["r", "11-16 10:17", "已排查，无软弱涣散情况", 0, ""]
    assert rows["ZB0002"][1] == ["b", "11-16 10:17", "已排查，附排查表", 0, "更", "缺少排查表"]
    assert rows["ZB0003"][1] == ["o"]
    wecom.say("u700012", "完成 1 补充了排查表")  # reported again after the return
    accounts.clock.advance(days=15)             # past the deadline (11-27)
    wecom.say(SECRETARY, "更正 11月第1项 另附照片")
    as_org.sign_in("s7001")                     # the session ended meanwhile
    _, rows = matrix(as_org, "?month=2026-11")
    assert rows["ZB0002"][1][0] == "r" and rows["ZB0002"][1][4] == "补更"
    assert rows["ZB0001"][1][4] == "更" and rows["ZB0003"][1] == ["x"]


def test_late_reports_and_evidence_are_marked(as_org, wecom, accounts, standin):
    accounts.clock.advance(days=12)  # 11-28: after task 1's deadline
    wecom.say(SECRETARY, "完成 1 已排查")
    wecom.post(media_xml(SECRETARY, "image", "MEDIA_1"))
    wecom.post(media_xml(SECRETARY, "image", "MEDIA_2"))
    as_org.sign_in("s7001")
    _, rows = matrix(as_org)
    assert rows["ZB0001"][1][3:5] == [2, "逾"]


def test_filters_and_scope(as_org, as_committee, as_secretary, wecom):
    wecom.say(SECRETARY, "完成 1 已排查")
    data, _ = matrix(as_committee)
    assert {b[0] for b in data["branches"]} == {"ZB0001", "ZB0002", "ZB0012", "ZB0028", "ZB0030", "ZB0033"}
    assert [b[0] for b in matrix(as_secretary)[0]["branches"]] == ["ZB0001"]
    assert [b[0] for b in matrix(as_org, "?status=reported")[0]["branches"]] == ["ZB0001"]
    assert {b[0] for b in matrix(as_org, "?unit=DW01")[0]["branches"]} == {b[0] for b in data["branches"]}
    schools = matrix(as_org, "?category=学校")[0]["branches"]
    assert {b[0] for b in schools} == {"ZB0002", "ZB0012", "ZB0028"}
    rural = matrix(as_org, "?category=农村")[1]
    assert rural["ZB0004"][7] == ["o"]  # 流动党员每月报到: 农村 and 社区 only
    assert matrix(as_org, "?category=学校")[1]["ZB0002"][7] == 0
    assert as_org.get("/dashboard/matrix?month=2026-13").status_code == 400
    assert "2026年12月" in as_org.page("/dashboard/matrix?month=2026-12")


def test_the_page_data_cannot_break_out_of_its_block(as_org, wecom):
    wecom.say(SECRETARY, "完成 1 </script><script>alert(1)</script>")
    page = as_org.page("/dashboard/matrix")
    block = page.split('id="matrix-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in block and "\\u003c/script\\u003e" in block


def test_the_overview_counts_and_charts(as_org, as_committee, wecom):
    wecom.say(SECRETARY, "完成 1 已排查")
    page = as_org.page("/dashboard/")
    charts = json.loads(re.search(r'id="overview-data">(.*?)</script>', page, re.S)[1])
    units = {u["label"]: u for u in charts["units"]}
    assert set(units) == {"县直机关工委", "城关镇党委", "河口镇党委", "县国资委党委"}
    assert units["县直机关工委"]["done"] == 1 and charts["trend"][-1]["done"] == 1
    assert charts["trend"][-1]["label"] == "26年11月" and len(charts["trend"]) == 12
    assert {a["label"] for a in charts["areas"]} == {"农村", "社区", "机关", "国企", "非公企业", "学校"}
    assert 'data-chart="units"' in page and "chart.umd.min.js" in page
    committee = json.loads(re.search(r'id="overview-data">(.*?)</script>', as_committee.page("/dashboard/"), re.S)[1])
    assert [u["label"] for u in committee["units"]]  # its own branches, one bar each
    assert all(u["label"].endswith("党支部") for u in committee["units"])


def test_chart_js_is_served_by_the_app(as_org):
    response = as_org.get("/dashboard/static/chart.umd.min.js")
    assert response.status_code == 200 and b"Chart.js v4" in response.data[:200]
    assert "javascript" in response.content_type


def test_migration_0009_sums_up_the_reports_already_there(any_db_url, tmp_path):
    engine = create_engine(any_db_url)
    upgrade(engine, "0005")
    at = datetime(2026, 11, 16, 10, 17)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO organizations (id, code, name, type, parent_id, category, active, received_at, "
                          "updated_at) VALUES (1, 'ZZB', '组织部', '组织部', NULL, NULL, :t, :at, :at), "
                          "(2, 'ZB0001', '一支部', '党支部', 1, '农村', :t, :at, :at)"), {"t": True, "at": at})
        conn.execute(text("INSERT INTO members (id, name, roster_key, wecom_userid, phone, org_id, role, status, "
                          "is_mobile, retired, active, received_at, updated_at) VALUES "
                          "(1, '甲', 'wx:u1', 'u1', NULL, 2, '书记', '正式党员', :f, :f, :t, :at, :at)"),
                     {"t": True, "f": False, "at": at})
        conn.execute(text("INSERT INTO tasks (id, natural_key, month, number, title, deadline, target_kind, "
                          "target_values, recurring, issuer, received_at) VALUES "
                          "(1, 'k1', '2026-11', 1, '任务', '2026-11-20', 'all', '', :f, '组织部', :at)"),
                     {"f": False, "at": at})
        conn.execute(text("INSERT INTO reports (id, task_id, branch_id, member_id, kind, note, superseded_by, "
                          "received_at) VALUES (1, 1, 2, 1, 'done', '第一次', NULL, :a1), "
                          "(2, 1, 2, 1, 'correction', '更正后的说明', NULL, :a2)"),
                     {"a1": datetime(2026, 11, 21, 9, 0), "a2": datetime(2026, 11, 22, 9, 30)})
        conn.execute(text("UPDATE reports SET superseded_by = 2 WHERE id = 1"))
        conn.execute(text("INSERT INTO evidence (report_id, media_id, kind, file_name, received_at) VALUES "
                          "(2, 'm1', 'image', 'a.jpg', :at), (2, 'm2', 'image', 'b.jpg', :at), "
                          "(1, 'm0', 'image', 'old.jpg', :at)"), {"at": at})
        conn.execute(text("INSERT INTO assignments (task_id, branch_id, state, return_reason, received_at, "
                          "updated_at) VALUES (1, 2, 'reported', NULL, :at, :at)"), {"at": at})
    upgrade(engine)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT reported_at, first_reported_at, note, evidence_count, corrections, "
                                "submissions FROM assignments")).one()
    assert [str(t)[:16] for t in row[:2]] == ["2026-11-22 09:30", "2026-11-21 09:00"]  # text on SQLite
    assert tuple(row[2:]) == ("更正后的说明", 2, 1, 1)
    engine.dispose()


def test_a_duty_done_by_a_late_logged_meeting_is_marked_backfilled(as_org, as_secretary, wecom):
    """The meeting logged 14 days after it was held completes 召开支部委员会会议:
    its cell carries the 补记录 mark (录, shown as the word), and the branch
    page's task row says it as the meeting row does; a timely one does not."""
    assert "已记录" in wecom.say(SECRETARY, "会议 支委会 2026-11-02 学习")   # ZB0001, 14 days before: 补记录
    assert "已记录" in wecom.say("u700012", "会议 支委会 2026-11-14 学习")   # ZB0002, 2 days before: in time
    data, rows = matrix(as_org)
    number = next(t[1] for t in data["tasks"] if t[2] == "召开支部委员会会议")
    assert rows["ZB0001"][number][0] == "r" and rows["ZB0001"][number][4] == "录"
    assert rows["ZB0002"][number][0] == "r" and rows["ZB0002"][number][4] == ""
    assert "<i>补记录</i>" in as_org.page("/dashboard/matrix")  # the legend says what 录 stands for
    page = as_secretary.page("/dashboard/branches/ZB0001")
    assert page.count("补记录（会后 14 天登记）") == 2  # the meeting, and the duty it completed
    task_id = next(t[0] for t in data["tasks"] if t[2] == "召开支部委员会会议")
    task_page = as_org.page(f"/dashboard/tasks/{task_id}")  # the task page says it of ZB0001 only
    assert task_page.count("补记录：会议 11月2日召开，会后 14 天登记") == 1
