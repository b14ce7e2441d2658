import pytest

from handlers.parse import parse_command


@pytest.mark.parametrize("text, name, number, note", [
    ("完成：3", "done", 3, ""), ("完成 3", "done", 3, ""), ("完成3", "done", 3, ""),
    ("完成 第三项 已开会，到会9人", "done", 3, "已开会，到会9人"),
    ("完成 第十二项", "done", 12, ""), ("ｄｏｎｅ　３ ok", "done", 3, "ok"),
    ("@支部通 完成 2。", "done", 2, ""), ("  完成   4   说明  ", "done", 4, "说明"),
    ("更正 2 到会人数应为9人", "correct", 2, "到会人数应为9人"),
    ("Done 4", "done", 4, ""), ("进度 5", "progress", 5, ""),
])
def test_tolerant_parsing(text, name, number, note):
    command = parse_command(text)
    assert (command.name, command.number, command.note) == (name, number, note)


def test_an_earlier_months_task():
    command = parse_command("完成 10月第2项 补报")
    assert (command.month, command.number, command.note) == (10, 2, "补报")
    assert parse_command("完成 10-2").month == 10


@pytest.mark.parametrize("text, name", [
    ("签到", "checkin"), ("checkin", "checkin"), ("任务？", "tasks"), ("tasks", "tasks"),
    ("帮助", "help"), ("？", "help"), ("@支部通 ?", "help"), ("我的", "whoami"), ("whoami", "whoami"), ("提醒单", "sheet"),
    ("你好", "unknown"), ("tasksx", "unknown"), ("", "unknown"),
])
def test_command_words(text, name):
    assert parse_command(text).name == name


def test_checkin_note_keeps_what_was_typed():
    assert parse_command("签到　在东莞，一切都好！").rest == "在东莞，一切都好"
