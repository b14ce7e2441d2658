"""The publish form and the roster / plan upload: the chat's and the CLI's
rules, a clear Chinese message for each mistake, nothing written on error."""
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from storage.models import AuditEntry, Delivery, Member, Task
from tests.conftest import ROSTER_XLSX
from tests.workbench import accounts, app, as_committee, as_org, as_secretary  # noqa: F401


def count(rt, model, *where):
    with rt.sessions() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def form(client, url):
    page = client.page(url)
    return {"key": re.search(r'name="key" type="hidden" value="([^"]*)"', page)[1]}


def publish(client, **fields):
    data = {**form(client, "/dashboard/publish"), "title": "开展党员冬训", "deadline": "2026-12-10",
            "target": "all", **fields}
    return client.post("/dashboard/publish", data)


def test_publish_is_the_chat_commands_publish(as_org, accounts):
    before = count(accounts, Task)
    response = publish(as_org, content="请各支部组织学习", evidence="签到表")
    assert response.status_code == 302
    page = as_org.page(response.headers["Location"])
    assert "已发布第8项「开展党员冬训」" in page and "正在发送到 36 个支部" in page and "需报材料：签到表" in page
    assert count(accounts, Task) == before + 1
    sent = count(accounts, Delivery, Delivery.purpose.like("task-%"))
    assert sent == 36
    with accounts.sessions() as s:
        body = s.scalar(select(Delivery.body).where(Delivery.purpose.like("task-%")).limit(1))
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "publish"))
    assert "请各支部组织学习" in body and "需报材料：签到表" in body and "完成后请回复：完成 8 说明" in body
    assert entry.channel == "web" and "36 个支部" in entry.detail


def test_the_same_form_sent_twice_publishes_once(as_org, accounts):
    fields = {**form(as_org, "/dashboard/publish"), "title": "开展党员冬训", "deadline": "2026-12-10", "target": "all"}
    assert as_org.post("/dashboard/publish", fields).status_code == 302
    again = as_org.post("/dashboard/publish", fields)
    assert "已经发布过" in as_org.page(again.headers["Location"])
    assert count(accounts, Task, Task.title == "开展党员冬训") == 1


@pytest.mark.parametrize("fields, message", [
    ({"deadline": "2026-13-40"}, "截止日期“2026-13-40”不存在"),
    ({"deadline": "下周五"}, "截止日期“下周五”无效，应为 YYYY-MM-DD"),
    ({"deadline": "2026-11-01"}, "截止日期 2026-11-01 已经过去"),
    ({"title": ""}, "请填写任务名称"),
    ({"target": "codes", "codes": "ZB0001, ZB9999"}, "对象中的支部编码 ZB9999 不存在"),
    ({"target": "categories"}, "请至少选择一个领域"),
], ids=["impossible-date", "not-a-date", "past", "no-title", "unknown-code", "no-category"])
def test_publish_mistakes_are_named_and_nothing_is_written(as_org, accounts, fields, message):
    before = count(accounts, Task)
    response = publish(as_org, **fields)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert "任务未发布" in response.get_data(as_text=True)
    assert count(accounts, Task) == before and count(accounts, Delivery) == 0


def test_publish_by_category_unit_and_codes(as_org, accounts):
    assert "正在发送到 3 个支部" in as_org.page(publish(as_org, target="categories", categories=["学校"]).headers["Location"])
    assert "正在发送到 6 个支部" in as_org.page(publish(as_org, target="units", units=["DW01"]).headers["Location"])
    page = as_org.page(publish(as_org, target="codes", codes="zb0001 ZB0004，ZB0004").headers["Location"])
    assert "正在发送到 2 个支部" in page


def test_a_committee_publishes_to_its_own_branches_only(as_committee, accounts):
    assert "正在发送到 6 个支部" in as_committee.page(publish(as_committee).headers["Location"])
    refused = publish(as_committee, target="codes", codes="ZB0004")  # 城关镇党委's
    assert refused.status_code == 400 and "ZB0004 不存在（党委只能发布给下属支部）" in refused.get_data(as_text=True)


def test_a_secretary_cannot_publish(as_secretary):
    assert as_secretary.get("/dashboard/publish").status_code == 403
    assert as_secretary.post("/dashboard/publish", {"title": "x"}).status_code == 403


# ---- upload --------------------------------------------------------------------

def upload(client, name, data, kind="roster"):
    return client.post("/dashboard/upload", {"kind": kind, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_a_good_roster_is_imported_and_audited(as_org, accounts):
    response = upload(as_org, "名册.xlsx", ROSTER_XLSX.read_bytes())
    assert response.status_code == 200 and "导入完成" in response.get_data(as_text=True)
    with accounts.sessions() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "upload-roster"))
    assert entry.target == "名册.xlsx" and "党员" in entry.detail


def test_a_roster_with_bad_rows_names_each_and_writes_nothing(as_org, accounts, tmp_path):
    book = load_workbook(ROSTER_XLSX)
    sheet = book["党员"]
    sheet["D5"] = "ZB9999"                     # branch code
    sheet["E6"] = "队长"                       # role
    sheet["B7"] = "NEW-USER"; sheet["A7"] = "新名字"  # a change that must not land
    out = io.BytesIO()
    book.save(out)
    before = count(accounts, Member, Member.name == "新名字")
    response = upload(as_org, "名册2027.xlsx", out.getvalue())
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and "导入失败，未做任何更改（共 2 处问题）" in text
    assert "名册2027.xlsx[党员] 第 5 行：所在支部编码 ZB9999 不存在" in text
    assert "名册2027.xlsx[党员] 第 6 行：职务“队长”无效" in text
    assert count(accounts, Member, Member.name == "新名字") == before == 0
    with accounts.sessions() as s:
        assert s.scalar(select(AuditEntry.detail).where(AuditEntry.action == "upload-refused")).startswith("名册：2 处")


def test_a_file_that_is_not_a_spreadsheet_is_refused_in_chinese(as_org, accounts):
    response = upload(as_org, "roster.xlsx", b"this is not a spreadsheet")
    assert response.status_code == 400 and "roster.xlsx：不是有效的 .xlsx 文件" in response.get_data(as_text=True)
    wrong = upload(as_org, "roster.csv", b"a,b")
    assert wrong.status_code == 400 and "名册应为 .xlsx 文件" in wrong.get_data(as_text=True)
    missing = as_org.post("/dashboard/upload", {"kind": "roster"}, content_type="multipart/form-data")
    assert missing.status_code == 400 and "请选择要导入的文件" in missing.get_data(as_text=True)


def test_a_plan_is_imported_or_refused_by_line(as_org, accounts):
    good = upload(as_org, "plan.yaml", b"year: 2028\nmonths:\n  3:\n    - title: \xe5\xad\xa6\xe4\xb9\xa0\n", "plan")
    assert good.status_code == 200 and "任务：" in good.get_data(as_text=True)
    bad = upload(as_org, "plan.yaml", "year: 2028\nmonths:\n  3:\n    - title: 学习\n      deadline: 2028-02-01\n".encode(),
                 "plan")
    assert bad.status_code == 400 and "plan.yaml 第 4 行：截止日期 2028-02-01 早于 2028 年 3 月" in bad.get_data(as_text=True)


def test_only_the_org_department_uploads(as_committee, as_secretary):
    assert as_committee.get("/dashboard/upload").status_code == 403
    assert upload(as_secretary, "名册.xlsx", b"x").status_code == 403


def test_an_upload_may_be_larger_than_other_requests_but_not_unbounded(as_org, app):
    big = ROSTER_XLSX.read_bytes() + b"\0" * (200 * 1024)  # 260 KB: over the 64 KB of every other route
    assert upload(as_org, "名册.xlsx", big).status_code in (200, 400)
    assert as_org.post("/dashboard/publish", {"title": "x" * (100 * 1024)}).status_code == 413
    huge = upload(as_org, "名册.xlsx", b"\0" * (9 * 1024 * 1024))
    assert huge.status_code == 413


def test_the_worker_buffers_an_upload_whole_and_nothing_else_that_large():
    from bot.web.worker import PASS, READY, judge_head
    head = b"post /dashboard/upload http/1.1\r\nhost: x\r\ncontent-length: 1000000\r\n"
    assert judge_head(head, 64 * 1024, 8 * 1024 * 1024) == (READY, 1_000_000)
    assert judge_head(head.replace(b"1000000", b"9000000"), 64 * 1024, 8 * 1024 * 1024) == (PASS, 0)
    other = head.replace(b"/dashboard/upload", b"/wecom/callback")
    assert judge_head(other, 64 * 1024, 8 * 1024 * 1024) == (PASS, 0)
    assert judge_head(head.replace(b"post /dashboard/upload ", b"post /dashboard/uploads "), 64 * 1024,
                      8 * 1024 * 1024) == (PASS, 0)


# ---- 锋领考评 scores (issue 12: "the workbench form") ------------------------------

def scores_xlsx(rows) -> bytes:
    """The radar export's 锋领考评 sheet as staff fill it: 编号, 姓名, 满意度, 岗位业绩."""
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.title = "锋领考评"
    sheet.append(["支部编码", "编号", "姓名", "满意度", "岗位业绩"])
    for row in rows:
        sheet.append(["ZB0001", *row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload_scores(client, data, quarter="2026Q4", name="考评.xlsx"):
    return client.post("/dashboard/upload", {"kind": "appraisals", "quarter": quarter, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def scores(rt):
    from storage.models import Appraisal
    with rt.sessions() as s:
        return {name: (a.quarter, a.satisfaction, a.performance) for a, name in s.execute(
            select(Appraisal, Member.name).join(Member, Appraisal.member_id == Member.id))}


def test_appraisal_scores_are_imported_for_the_quarter_on_the_form(as_org, accounts):
    with accounts.sessions() as s:
        secretary = s.scalar(select(Member).where(Member.wecom_userid == "u700001"))
        who = (secretary.id, secretary.name)
    page = as_org.page("/dashboard/upload")
    assert "锋领考评满意度、岗位业绩" in page and 'value="2026Q4"' in page  # this quarter, filled in
    bad = upload_scores(as_org, scores_xlsx([(*who, 101, None), (999999, "张三", 80, None), (*who, 90, 85)]))
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "导入失败，未做任何更改（共 3 处问题）" in text
    assert "考评.xlsx[锋领考评] 第2行：满意度“101”应为 0 至 100 的整数" in text
    assert "考评.xlsx[锋领考评] 第3行：编号 999999 不是在册支部的党员" in text
    assert f"考评.xlsx[锋领考评] 第4行：编号 {who[0]} 与第2行重复" in text
    assert scores(accounts) == {}
    for quarter, message in (("2027Q5", "季度“2027Q5”无效，应为 YYYYQn"), ("", "导入考评分数请填写季度"),
                             ("1999Q1", "年份超出范围")):
        refused = upload_scores(as_org, scores_xlsx([(*who, 90, None)]), quarter)
        assert refused.status_code == 400 and message in refused.get_data(as_text=True)
    assert scores(accounts) == {}
    good = upload_scores(as_org, scores_xlsx([(*who, 90, None)]), "2026q3")
    assert good.status_code == 200 and "2026年第三季度考评分数：1 名党员" in good.get_data(as_text=True)
    assert scores(accounts) == {who[1]: ("2026Q3", 90, None)}
    with accounts.sessions() as s:
        actions = s.execute(select(AuditEntry.action, AuditEntry.target, AuditEntry.detail)
                            .where(AuditEntry.action.like("upload-%")).order_by(AuditEntry.id)).all()
    assert [a for a, _, _ in actions] == ["upload-refused"] * 4 + ["upload-appraisals"]
    assert actions[0][2].startswith("考评分数：3 处问题") and actions[-1][1:] == ("考评.xlsx", "2026年第三季度考评分数：1 名党员")


def test_only_the_org_department_imports_scores(as_committee, as_secretary, accounts):
    assert upload_scores(as_committee, scores_xlsx([])).status_code == 403
    assert upload_scores(as_secretary, scores_xlsx([])).status_code == 403
    assert scores(accounts) == {}
