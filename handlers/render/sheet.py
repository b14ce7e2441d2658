"""The monthly key-task reminder sheet (重点工作提醒单), as markdown (pure).
`提醒单` in chat and the scheduler's monthly push show the same text."""
from __future__ import annotations

from datetime import date

from handlers.render import day, task_label
from storage.models import CHECKIN_DUTY
from storage.month import Month
from storage.tasks import REPORTED, RETURNED, BranchTask

MOBILE_CHECKIN_TITLE = "流动党员每月报到"


def render_sheet(branch_name: str, month: Month, tasks: list[BranchTask],
                 owed: list[BranchTask], today: date, not_checked_in: list[str] | None = None,
                 rectification: list[BranchTask] | None = None) -> str:
    """`not_checked_in`: the branch's mobile members with no check-in this
    month, shown under 流动党员每月报到 (None: not known here).
    `rectification`: the branch's open 整改事项, listed until staff close them."""
    one_off = [bt for bt in tasks if not bt.task.recurring]
    recurring = [bt for bt in tasks if bt.task.recurring]
    lines = [f"**{month.label}重点工作提醒单**", f"{branch_name}", ""]
    lines.append("**本月重点任务**" if one_off else "本月无新的重点任务。")
    lines += [_task_line(bt, today) for bt in one_off]
    if recurring:
        lines += ["", "**本月常规工作**"]
        lines += [_task_line(bt, today) + _checkin_line(bt, not_checked_in) for bt in recurring]
    if owed:
        lines += ["", "**以前月份尚未完成**"]
        lines += [_task_line(bt, today, with_month=True) for bt in owed]
    if rectification:
        lines += ["", "**整改事项（组织部销号前一直保留）**"]
        lines += [rectification_line(bt, today, month) for bt in rectification]
    lines += ["", "完成后请回复：完成 编号 说明（如：完成 1 已召开，到会9人）",
              "证明材料（照片/文件）请在上报后10分钟内单聊发送给应用。"]
    return "\n".join(lines)


def rectification_line(bt: BranchTask, today: date, month: Month) -> str:
    """An open rectification item: numbered like a task (第2项 in `month`,
    3月第2项 from another), its state, 已逾期."""
    task = bt.task
    parts = [f"{task_label(task, month)} {task.title}", f"截止{day(task.deadline, today)}"]
    if bt.state == REPORTED:
        parts.append("已上报，待组织部销号")
    elif bt.state == RETURNED:
        parts.append(f"<font color=\"warning\">已退回：{bt.return_reason or ''}</font>")
    elif task.deadline < today:
        parts.append("<font color=\"warning\">已逾期</font>")
    return "，".join(parts)


def _checkin_line(bt: BranchTask, missing: list[str] | None) -> str:
    """Who is still missing for the mobile members' monthly check-in."""
    if missing is None or getattr(bt.task, "duty", None) != CHECKIN_DUTY or bt.state == REPORTED:
        return ""
    return f"\n   尚未报到（{len(missing)}人）：{'、'.join(missing)}" if missing else "\n   流动党员均已报到"


def _task_line(bt: BranchTask, today: date, with_month: bool = False) -> str:
    """One task; an earlier month's (with_month) is marked when overdue."""
    task = bt.task
    label = task_label(task) if with_month else f"{task.number}."
    deadline = getattr(bt, "deadline", task.deadline)  # the branch's own, where an extension moved it
    parts = [f"{label} {task.title}", f"截止{day(deadline, today)}" + ("（已延期）" if deadline != task.deadline else "")]
    if task.evidence:
        parts.append(f"需报：{task.evidence}")
    if bt.state == RETURNED:
        parts.append(f"<font color=\"warning\">已退回：{bt.return_reason or ''}</font>")
    elif with_month and deadline < today:
        parts.append("<font color=\"warning\">已逾期</font>")
    line = "，".join(parts)
    return line + (f"\n   {task.note}" if task.note else "")
