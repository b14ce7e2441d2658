"""`python -m bot …`: the operator's commands. Problems an operator can fix
(config, a bad roster row, a bad plan line) are printed plainly, without a
traceback, and the command exits with status 2."""
from __future__ import annotations

import argparse
import logging
import sys
from typing import Callable

from bot.config import ConfigError, load_config
from bot.runtime import Runtime
from storage.db import upgrade
from storage.month import Month
from storage.importers.plan_read import PlanError
from storage.importers.roster_read import RosterError

COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {}
HANDLERS: dict[str, Callable[[Runtime, argparse.Namespace], int | None]] = {}
NO_DATABASE: set[str] = set()


def command(name: str, help_text: str, arguments: Callable[[argparse.ArgumentParser], None] = lambda p: None,
            database: bool = True):
    """Register `fn(runtime, args)` as the sub-command `name`. Commands that
    use the database get its schema brought up to date first."""
    def register(fn):
        COMMANDS[name] = (help_text, arguments)
        HANDLERS[name] = fn
        if not database:
            NO_DATABASE.add(name)
        return fn
    return register


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="支部通 zhibu — 基层党建任务提醒与上报机器人 "
                    "(WeCom bot for the monthly task loop of Party branches)")
    parser.add_argument("-c", "--config", help="配置文件 config file (默认 default: $ZHIBU_CONFIG 或 ./config.yaml)")
    sub = parser.add_subparsers(dest="command", metavar="命令 command", required=True)
    for name, (help_text, arguments) in COMMANDS.items():
        arguments(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: list[str] | None = None) -> int:
    from bot.cli import exports, outbound, say, setup  # noqa: F401 - they register the sub-commands

    args = build_parser().parse_args(argv)
    try:
        config = load_config(args.config)
        logging.basicConfig(level=config["log.level"],
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        for chatty in ("alembic", "apscheduler"):  # their INFO is noise for operators
            logging.getLogger(chatty).setLevel(logging.WARNING)
        runtime = Runtime.from_config(config)
        if args.command not in NO_DATABASE:
            upgrade(runtime.engine)
        return HANDLERS[args.command](runtime, args) or 0
    except ConfigError as e:
        print(f"配置错误：{e}", file=sys.stderr)
    except (RosterError, PlanError) as e:
        print(f"导入失败，未做任何更改（共 {len(e.problems)} 处问题）：", file=sys.stderr)
        for problem in e.problems:
            print(f"  - {problem}", file=sys.stderr)
    except UsageError as e:
        print(f"错误：{e}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    except Exception:
        logging.getLogger("bot").exception("内部错误 internal error")
        return 1
    return 2


class UsageError(Exception):
    """A bad argument the operator can correct; shown as written."""


def month_arg(text: str | None, default: Month, flag: str) -> Month:
    """A YYYY-MM argument, or `default` when it was not given."""
    if text is None:
        return default
    try:
        return Month.iso(text)
    except ValueError:
        raise UsageError(f"{flag}“{text}”无效，应为 YYYY-MM，如 2027-03") from None
