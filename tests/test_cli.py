"""`python -m bot` as an operator meets it: the help lists every command in
Chinese and English, and mistakes end with a plain message and status 2.
Two real processes; the rest goes through `main()` in-process."""
import os
import re
import subprocess
import sys

from bot.cli import cli, main
from tests.conftest import ROOT

COMMANDS = {"init", "import-roster", "import-plan", "serve", "demo", "push-monthly", "push-date", "remind",
            "deliver", "deliveries", "scheduler", "ledger", "bulletin", "radar", "import-appraisals", "say", "backup",
            "restore", "doctor", "add-admin", "review"}
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def bot(*args, env=None):
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("ZHIBU_")}, **(env or {})}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_help_lists_every_command_in_chinese_and_english():
    done = bot("--help")
    assert done.returncode == 0, done.stderr
    assert "支部通" in done.stdout and "WeCom bot" in done.stdout and "--config" in done.stdout
    assert set(cli.commands) == COMMANDS
    lines = {line.split()[0]: line for line in done.stdout.splitlines() if line.startswith("  ") and line.split()}
    for name, command in cli.commands.items():
        summary = command.help.split("\n\n")[0]
        assert summary in lines[name]  # whole, not cut short
        bilingual = re.fullmatch(r"(.*[\u4e00-\u9fff）)]\s*)([^\u4e00-\u9fff]+)", summary)  # Chinese first
        assert bilingual and CHINESE.search(bilingual[1]) and re.search(r"[a-z]{3}", bilingual[2]), summary


def test_a_bad_month_is_named_without_a_traceback(tmp_path):
    done = bot("push-monthly", "--month", "2027-13", "--dry-run",
               env={"ZHIBU_CONFIG": os.devnull, "ZHIBU_DATABASE__URL": f"sqlite:///{tmp_path}/cli.db"})
    assert done.returncode == 2
    assert "错误：--month“2027-13”无效" in done.stderr
    assert "Traceback" not in done.stderr and not done.stdout


def test_an_unknown_command_exits_2(capsys):
    assert main(["push-weekly"]) == 2
    assert "No such command 'push-weekly'" in capsys.readouterr().err


def test_no_command_prints_the_help(capsys):
    assert main([]) == 2
    assert "Commands:" in capsys.readouterr().err


def test_click_usage_errors_come_before_the_config(tmp_path, capsys):
    missing = str(tmp_path / "missing.yaml")
    assert main(["-c", missing, "serve", "--port", "eighty"]) == 2
    assert "'--port': 'eighty' is not a valid integer" in capsys.readouterr().err
    assert main(["-c", missing, "ledger"]) == 2  # -o is required
    assert "Missing option '-o' / '--output'" in capsys.readouterr().err
    for both_or_neither in (["--on", "2027-03-02", "--clear"], []):
        assert main(["-c", missing, "push-date", "--month", "2027-03", *both_or_neither]) == 2
        assert "exactly one of --on / --clear" in capsys.readouterr().err


def test_a_missing_config_file_is_a_config_error(tmp_path, capsys):
    missing = tmp_path / "missing.yaml"
    assert main(["-c", str(missing), "deliver"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("配置错误") and str(missing) in err and "Traceback" not in err


def test_say_talks_to_a_running_server_as_wecom_would(app, wired):
    """`say` encrypts and signs like WeCom, over real HTTP, and prints the
    decrypted answer — the operator's end-to-end check of a deployment."""
    import threading

    from click.testing import CliRunner
    from werkzeug.serving import make_server

    from bot.cli import cli
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/wecom/callback"
        result = CliRunner().invoke(cli, ["say", "u700001", "任务", "--url", url], obj=wired, catch_exceptions=False)
    finally:
        server.shutdown()
    assert result.exit_code == 0, result.output
    assert "县财政局机关党支部" in result.stdout and "上报：完成 N 说明" in result.stdout
