
import pytest

from bot.config import ConfigError, load_config, require

AES = "a" * 43


def write(tmp_path, text):
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_defaults_without_a_file():
    config = load_config(environ={}, use_file=False)
    assert config["database.url"].startswith("sqlite:///")
    assert config["scheduler.timezone"] == "Asia/Shanghai"
    assert config["scheduler.monthly_push_time"] == "09:05"
    assert config["wecom.api_base"] == "https://qyapi.weixin.qq.com/cgi-bin/"


def test_environment_beats_file_and_file_beats_default(tmp_path):
    path = write(tmp_path, "database:\n  url: sqlite:///from-file.db\n"
                           "wecom:\n  corp_id: wwfile\n  agent_id: 1000002\n")
    config = load_config(path, environ={"ZHIBU_WECOM__CORP_ID": "wwenv"})
    assert config["wecom.corp_id"] == "wwenv"
    assert config["database.url"] == "sqlite:///from-file.db"
    assert config["wecom.agent_id"] == 1000002


def test_zhibu_config_names_the_file(tmp_path):
    path = write(tmp_path, "server:\n  port: 9001\n")
    assert load_config(environ={"ZHIBU_CONFIG": path})["server.port"] == 9001


@pytest.mark.parametrize("env, message", [
    ({"ZHIBU_SERVER__PORT": "70000"}, "server.port"),
    ({"ZHIBU_SERVER__PORT": "abc"}, "server.port"),
    ({"ZHIBU_SCHEDULER__MONTHLY_PUSH_TIME": "09:00"}, "避开整点"),
    ({"ZHIBU_SCHEDULER__MONTHLY_PUSH_TIME": "25:05"}, "scheduler.monthly_push_time"),
    ({"ZHIBU_SCHEDULER__TIMEZONE": "Mars/Base"}, "scheduler.timezone"),
    ({"ZHIBU_DATABASE__URL": "zhibu.db"}, "database.url"),
    ({"ZHIBU_WECOM__COPR_ID": "x"}, "wecom.copr_id"),
    ({"ZHIBU_AIBOT__MODE": "websocket"}, "aibot.mode"),
    ({"ZHIBU_AIBOT__MODE": "long_connection", "ZHIBU_AIBOT__BOT_ID": "b"}, "aibot.secret"),
    ({"ZHIBU_AIBOT__MODE": "long_connection", "ZHIBU_AIBOT__BOT_ID": "b", "ZHIBU_AIBOT__SECRET": "s",
      "ZHIBU_AIBOT__WS_URL": "https://openws.work.weixin.qq.com"}, "aibot.ws_url"),
])
def test_a_bad_value_stops_with_one_line_naming_the_key(env, message):
    with pytest.raises(ConfigError) as err:
        load_config(environ=env, use_file=False)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_a_bad_secret_is_named_but_not_shown():
    secret = "short-but-secret-aes-key"
    with pytest.raises(ConfigError) as err:
        load_config(environ={"ZHIBU_WECOM__ENCODING_AES_KEY": secret}, use_file=False)
    assert "wecom.encoding_aes_key" in str(err.value)
    assert secret not in str(err.value)


def test_missing_file_named_explicitly_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="配置文件不存在"):
        load_config(environ={"ZHIBU_CONFIG": str(tmp_path / "nope.yaml")})


def test_broken_yaml_names_the_line(tmp_path):
    path = write(tmp_path, "database:\n  url: [unclosed\n")
    with pytest.raises(ConfigError, match="YAML"):
        load_config(path, environ={})


def test_require_names_the_missing_key_and_its_variable():
    config = load_config(environ={}, use_file=False)
    with pytest.raises(ConfigError) as err:
        require(config, "wecom.corp_id")
    assert "wecom.corp_id" in str(err.value) and "ZHIBU_WECOM__CORP_ID" in str(err.value)


def test_secrets_are_redacted(caplog):
    config = load_config(environ={"ZHIBU_WECOM__SECRET": "s3cr3t-value",
                                  "ZHIBU_WECOM__ENCODING_AES_KEY": AES}, use_file=False)
    shown = str(config.redacted())
    assert "s3cr3t-value" not in shown and AES not in shown
    assert config["wecom.secret"] == "s3cr3t-value"


def test_example_config_documents_every_key():
    from pathlib import Path

    from bot.config import SCHEMA
    example = (Path(__file__).parent.parent / "config.example.yaml").read_text("utf-8")
    config = load_config(str(Path(__file__).parent.parent / "config.example.yaml"), environ={})
    assert set(config.values) == set(SCHEMA)
    for key in SCHEMA:
        assert f"{key.split('.')[1]}:" in example, key


def test_the_configured_zone_is_the_clock_of_every_part(tmp_path):
    """One zone, from config: the runtime's clock reads it, the scheduler's
    triggers use it, and WeCom timestamps are computed in it."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from bot.runtime import Runtime
    from bot.schedule.scheduler import Scheduler
    config = load_config(environ={}, use_file=False, overrides={
        "database.url": f"sqlite:///{tmp_path}/z.db", "scheduler.timezone": "Asia/Urumqi"})
    runtime = Runtime.from_config(config)
    assert runtime.clock.zone == ZoneInfo("Asia/Urumqi")
    assert Scheduler(runtime).tz == ZoneInfo("Asia/Urumqi")
    wall = datetime(2027, 3, 1, 9, 5)
    assert runtime.clock.epoch(wall) == int(wall.replace(tzinfo=ZoneInfo("Asia/Urumqi")).timestamp())
    assert abs((runtime.clock.now() - datetime.now(ZoneInfo("Asia/Urumqi")).replace(tzinfo=None)).total_seconds()) < 5
    runtime.engine.dispose()
