"""`doctor` against the loopback stand-in: a healthy deployment passes with
warnings only (next year's holiday data, app chats the stand-in cannot
check); then one fault per check, each failing that check alone."""
import dataclasses
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner

from bot.cli import cli, main
from bot.clock import Clock, FrozenClock

CHECKS = ("配置 config", "卡片 cards", "数据库 database", "企业微信 WeCom token", "通道 channel", "证据文件夹 media folder",
          "节假日数据 holidays", "时钟 clock")


@pytest.fixture
def healthy(wired, monkeypatch):
    """The county wired to the stand-in, on the real clock (the stand-in's
    Date header is real time); holiday data for this year only."""
    this_year = datetime.now().year
    monkeypatch.setattr("storage.workdays.is_known_year", lambda year: year == this_year)
    return dataclasses.replace(wired, clock=Clock(wired.clock.zone))


def doctor(rt) -> tuple[int, dict[str, str]]:
    result = CliRunner().invoke(cli, ["doctor"], obj=rt)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    lines = [line for line in result.output.splitlines() if line.startswith("[")]
    statuses = {}
    for line in lines:
        status, _, rest = line[1:].partition("] ")
        name = next(c for c in CHECKS if rest.startswith(c))
        statuses[name] = statuses.get(name) if statuses.get(name) == "失败 FAIL" else status
    return result.exit_code, statuses | {"_output": result.output}


def failing(statuses) -> list[str]:
    return [name for name, status in statuses.items() if status == "失败 FAIL"]


def test_a_healthy_deployment_passes_with_warnings(healthy):
    code, statuses = doctor(healthy)
    output = statuses.pop("_output")
    assert code == 0 and failing(statuses) == [], output
    assert set(statuses) == set(CHECKS)
    assert "通道 channel wecom_robot" in output and "未发送消息 nothing sent" in output
    assert statuses["节假日数据 holidays"] == "警告 WARN" and f"缺 {datetime.now().year + 1} 年" in output
    assert all(line.count("：") >= 1 for line in output.splitlines()[:-1])  # Chinese, then English


@pytest.mark.parametrize("fault, check", [
    ("database", "数据库 database"),
    ("token", "企业微信 WeCom token"),
    ("robot key", "通道 channel"),
    ("media folder", "证据文件夹 media folder"),
    ("holidays", "节假日数据 holidays"),
    ("clock", "时钟 clock"),
])
def test_one_fault_fails_its_check_alone(fault, check, healthy, standin, tmp_path, monkeypatch):
    from bot.config import load_config
    from bot.runtime import Runtime
    rt = healthy
    if fault == "database":
        config = load_config(environ={}, use_file=False, overrides={
            **rt.config.values, "database.url": "postgresql+psycopg://zhibu@127.0.0.1:1/none"})
        rt = Runtime.from_config(config, rt.clock)
    elif fault == "token":
        standin.fail("gettoken", errcode=40001, times=5)
    elif fault == "robot key":
        standin.fail("webhook/upload_media", errcode=93000)
    elif fault == "media folder":
        (tmp_path / "a-file").write_text("x")
        config = load_config(environ={}, use_file=False, overrides={
            **rt.config.values, "server.media_dir": str(tmp_path / "a-file" / "media")})
        rt = dataclasses.replace(rt, config=config)
    elif fault == "holidays":
        monkeypatch.setattr("storage.workdays.is_known_year", lambda year: False)
    elif fault == "clock":
        rt = dataclasses.replace(rt, clock=FrozenClock(Clock(rt.clock.zone).now() - timedelta(minutes=10),
                                                       rt.clock.zone))
    code, statuses = doctor(rt)
    output = statuses.pop("_output")
    assert code == 1 and failing(statuses) == [check], output
    assert "1 项失败" in output


def test_a_bad_config_fails_and_the_rest_is_skipped(tmp_path, capsys):
    bad = tmp_path / "config.yaml"
    bad.write_text("server:\n  port: 70000\n", encoding="utf-8")
    assert main(["-c", str(bad), "doctor"]) == 1
    out = capsys.readouterr().out
    assert "[失败 FAIL] 配置 config：配置项 server.port 无效" in out
    assert out.count("[跳过 SKIP]") == len(CHECKS) - 1
