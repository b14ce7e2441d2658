"""The registers in chat (issue 14): 发展 kept by a branch's secretary,
整顿 / 整改 by staff within their scope — through real encrypted callbacks,
checked in the reply and in the database; bad input refused with a clear
Chinese reason and nothing written."""
from datetime import date

from sqlalchemy import func, select

from storage.models import (AuditEntry, Delivery, Development, Evidence, Rectification, RectificationItem,
                            Report, Task)
from tests.wecom_peer import media_xml

SECRETARY = "u700001"       # 书记 of ZB0001 (DW01)
PLAIN_MEMBER = "u700002"    # 党员 of ZB0001
ORG_STAFF = "s7001"         # 组织部
COMMITTEE = "s7004"         # DW01's staff: ZB0001, ZB0002, ZB0012 …
OTHER_COMMITTEE = "s7006"   # DW02's staff: not ZB0001
# The clock: 2026-11-16 10:17 (Monday); November 2026 has plan tasks 1–n.


def count(county, model) -> int:
    with county.sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_secretary_keeps_the_development_register(wecom, county):
    assert "已登记" in wecom.say(SECRETARY, "发展 张三 申请 2026-03-02")
    assert "已登记" in wecom.say(SECRETARY, "发展 张三 谈话 2026-03-20")
    assert "已登记" in wecom.say(SECRETARY, "发展 张三 积极分子 2026-05-01")
    reply = wecom.say(SECRETARY, "发展")
    assert "张三：入党积极分子" in reply and "入党申请人 2026-03-02" in reply
    with county.sessions() as s:
        person = s.scalar(select(Development))
    assert (person.applied_on, person.talked_on, person.activist_on) == (
        date(2026, 3, 2), date(2026, 3, 20), date(2026, 5, 1))
    # a corrected date: the register keeps the new one, the audit log the change
    assert "（原为 2026-03-20）" in wecom.say(SECRETARY, "发展 张三 谈话 2026-03-25")
    with county.sessions() as s:
        changes = s.scalars(select(AuditEntry.detail).where(AuditEntry.action == "develop")
                            .order_by(AuditEntry.id)).all()
    assert changes[-1] == "谈话 2026-03-25（原为 2026-03-20）" and len(changes) == 4


def test_development_bad_input_is_refused_and_nothing_written(wecom, county):
    reply = wecom.say(SECRETARY, "发展 张三 候选人 2026-03-02")
    assert "阶段“候选人”无效" in reply and "入党积极分子" in reply
    reply = wecom.say(SECRETARY, "发展 李四 积极分子 2026-03-02")
    assert "缺少入党申请人日期" in reply
    wecom.say(SECRETARY, "发展 王五 申请 2026-03-02")
    reply = wecom.say(SECRETARY, "发展 王五 积极分子 2026-01-05")
    assert "早于入党申请人日期 2026-03-02" in reply and "未登记" in reply
    wecom.say(SECRETARY, "发展 王五 积极分子 2026-04-01")
    reply = wecom.say(SECRETARY, "发展 王五 发展对象 2026-10-01")
    assert "不满一年" in reply
    reply = wecom.say(SECRETARY, "发展 王五 谈话 2026-12-01")
    assert "晚于今天" in reply
    assert "日期“2026-13-01”无效" in wecom.say(SECRETARY, "发展 王五 谈话 2026-13-01")
    with county.sessions() as s:
        [person] = s.scalars(select(Development)).all()
    assert person.name == "王五" and person.candidate_on is None and person.talked_on is None


def test_development_is_for_the_branch_reporters_only(wecom, county):
    assert "不能登记发展党员" in wecom.say(PLAIN_MEMBER, "发展 张三 申请 2026-03-02")
    assert "不能登记发展党员" in wecom.say(ORG_STAFF, "发展 张三 申请 2026-03-02")
    assert count(county, Development) == 0


def test_flag_add_report_close_and_lift(wecom, county):
    reply = wecom.say(ORG_STAFF, "整顿 ZB0001 班子软弱，组织生活不正常")
    assert "已将县财政局机关党支部（ZB0001）列为软弱涣散党组织" in reply
    assert "正在整顿中" in wecom.say(ORG_STAFF, "整顿 ZB0001 又一次")
    reply = wecom.say(ORG_STAFF, "整改 ZB0001 配齐支部委员 截止 2026-12-20")
    with county.sessions() as s:
        task = s.scalar(select(Task).join(RectificationItem, RectificationItem.task_id == Task.id))
        flag = s.scalar(select(Rectification))
        item = s.scalar(select(RectificationItem))
    assert f"11月第{task.number}项「整改：配齐支部委员」" in reply
    assert item.rectification_id == flag.id and task.target_values == "ZB0001"
    # the branch sees it in 任务 and on its sheet, with its number
    tasks = wecom.say(SECRETARY, "任务")
    assert "整改事项" in tasks and f"第{task.number}项 整改：配齐支部委员" in tasks
    assert f"第{task.number}项 整改：配齐支部委员" in wecom.say(SECRETARY, "提醒单")
    # closing before it is reported is refused
    assert "还没有上报" in wecom.say(ORG_STAFF, f"整改 ZB0001 销号 11月第{task.number}项 已核实")
    # reported like a task, with evidence
    assert "已记录" in wecom.say(SECRETARY, f"完成 {task.number} 已配齐组织委员")
    assert "证明材料" in wecom.open_reply(wecom.post(media_xml(SECRETARY, "image", "MEDIA-R1")))["Content"]
    with county.sessions() as s:
        report = s.scalar(select(Report).where(Report.task_id == task.id))
        assert s.scalar(select(func.count()).select_from(Evidence).where(Evidence.report_id == report.id)) == 1
    # still listed in the next month until closed
    county.clock.advance(days=20)  # 2026-12-06
    tasks = wecom.say(SECRETARY, "任务")
    assert f"11月第{task.number}项 整改：配齐支部委员" in tasks and "已上报，待销号" in tasks
    reply = wecom.say(ORG_STAFF, f"整改 ZB0001 销号 11月第{task.number}项 已核实")
    assert "已销号" in reply
    assert "整改：配齐支部委员" not in wecom.say(SECRETARY, "任务")
    assert "已解除" in wecom.say(ORG_STAFF, "整顿 ZB0001 解除 班子已配齐")
    with county.sessions() as s:
        assert s.scalar(select(Rectification.lift_note)) == "班子已配齐"
        actions = s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        purposes = set(s.scalars(select(Delivery.purpose)))
    assert [a for a in actions if a.startswith("rectify")] == [
        "rectify-flag", "rectify-item", "rectify-close", "rectify-lift"]
    assert {"rectification-item", "rectification-closed"} <= purposes
    # in the ledger: the item with its report, evidence and 销号; the flag and its lifting
    from handlers.render.ledger import ledger_rows
    from storage.ledger import build_ledgers
    from storage.month import Month
    from storage.orgs import active_branches
    with county.sessions() as s:
        (ledger,) = build_ledgers(s, active_branches(s, ["ZB0001"]), Month(2026, 11), Month(2026, 12),
                                  county.clock.now().date())
    rows = ledger_rows(ledger)
    [item_row] = [r for r in rows if r[0] == "整改"]
    assert item_row[2] == f"11月第{task.number}项 整改：配齐支部委员" and item_row[4] == "已上报"
    assert item_row[8].startswith("image-") and "整改事项，已销号（2026-12-06 10:17）：已核实" in item_row[9]
    [flag_row] = [r for r in rows if r[0] == "整顿"]
    assert "班子软弱" in flag_row[2] and flag_row[4] == "已解除（2026-12-06 10:17）" and flag_row[7] == "班子已配齐"


def test_rectification_scope_and_bad_input(wecom, county):
    # a committee reaches only its own subtree; a branch not at all
    assert "没有找到支部“ZB0001”" in wecom.say(OTHER_COMMITTEE, "整顿 ZB0001 原因")
    assert "没有找到支部“ZB0001”" in wecom.say(OTHER_COMMITTEE, "整改 ZB0001 事项 截止 2026-12-20")
    assert "已将" in wecom.say(COMMITTEE, "整顿 ZB0001 原因")
    assert "不能列整顿" in wecom.say(SECRETARY, "整顿 ZB0001 原因")
    assert "不能交办整改事项" in wecom.say(SECRETARY, "整改 ZB0001 事项 截止 2026-12-20")
    # an unknown branch, a past deadline, a bad date, no deadline at all
    assert "没有找到支部“ZB9999”" in wecom.say(ORG_STAFF, "整改 ZB9999 配齐班子 截止 2026-12-20")
    assert "已经过去" in wecom.say(ORG_STAFF, "整改 ZB0001 配齐班子 截止 2026-11-01")
    assert "截止日期“2026-02-30”无效" in wecom.say(ORG_STAFF, "整改 ZB0001 配齐班子 截止 2026-02-30")
    assert "用法：整改" in wecom.say(ORG_STAFF, "整改 ZB0001 配齐班子")
    assert count(county, RectificationItem) == 0
    assert "没有处于整顿中" in wecom.say(ORG_STAFF, "整顿 ZB0002 解除 好了")
