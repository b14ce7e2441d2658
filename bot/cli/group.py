"""The `python -m bot` click group and what its sub-commands share.

Why a module of its own: the sub-command modules (setup, outbound, exports,
say) add themselves to `cli` with `@cli.command(...)`, so they must import
the group; and `bot/cli/__init__.py` must import them so that `bot.cli.cli`
has every command. With the group here, which imports no sub-command module,
imports only ever go one way (package → sub-command modules → this module)
and nobody reads a half-initialised module, whichever is imported first.
"""
from __future__ import annotations

import functools
from typing import TypeVar

import click

from bot.config import load_config
from bot.logs import setup_logging
from bot.runtime import Runtime
from storage.db import upgrade
from storage.month import FIRST_YEAR, LAST_YEAR, Month, OutOfRange, Quarter, Year


@click.group(context_settings={"help_option_names": ["-h", "--help"]},
             help="支部通 zhibu — 基层党建任务提醒与上报机器人 "
                  "(WeCom bot for the monthly task loop of Party branches)")
@click.option("-c", "--config", metavar="FILE",
              help="配置文件 config file (默认 default: $ZHIBU_CONFIG 或 ./config.yaml)")
@click.option("--log-json", is_flag=True,
              help="日志输出为 JSON 行 log as JSON lines (also config log.json)")
def cli(config: str | None, log_json: bool) -> None:
    """The runtime is not built here but by the command, once click has read
    the whole command line (see `runtime`)."""


def runtime() -> Runtime:
    """The runtime of this invocation: the context object when the caller gave
    one (tests: `CliRunner().invoke(cli, [...], obj=runtime)`), otherwise
    built from the config the first time a command asks for it."""
    root = click.get_current_context().find_root()
    if root.obj is None:
        config = load_config(root.params.get("config"),
                             overrides={"log.json": True} if root.params.get("log_json") else None)
        setup_logging(config["log.level"], config["log.json"])  # one line per event (bot/logs.py)
        root.obj = Runtime.from_config(config)
    return root.obj


def pass_runtime(fn=None, *, database: bool = True):
    """Call the command as `fn(runtime, **options)`. Commands that use the
    database (the default) get its schema brought up to date first."""
    def decorate(fn):
        @functools.wraps(fn)
        def run(**options):
            rt = runtime()
            if database:
                upgrade(rt.engine)
            return fn(rt, **options)
        return run
    return decorate(fn) if fn is not None else decorate


def exactly_one_of(*names: str):
    """Exactly one of these options must be given (what argparse called a
    required mutually exclusive group); checked before the runtime is built."""
    flags = " / ".join(f"--{name.replace('_', '-')}" for name in names)

    def decorate(fn):
        @functools.wraps(fn)
        def run(**options):
            if sum(options[name] not in (None, False) for name in names) != 1:
                raise click.UsageError(f"{flags} 须给出一个，且只能给一个 exactly one of {flags} is required")
            return fn(**options)
        return run
    return decorate


class UsageError(Exception):
    """A bad argument the operator can correct; shown as written."""


P = TypeVar("P", Month, Quarter, Year)
# How each period is written, for the usage errors.
_FORMS = {Month: "YYYY-MM，如 2027-03", Quarter: "YYYYQn，如 2027Q1", Year: "YYYY，如 2027"}


def period_of(kind: type[P], text: str, flag: str) -> P:
    """A --month / --quarter / --year argument read as its period, or a
    UsageError naming the flag and the expected form."""
    try:
        return kind.iso(text)
    except OutOfRange:
        raise UsageError(f"{flag}“{text}”的年份超出范围，应在 {FIRST_YEAR} 至 {LAST_YEAR} 年之间") from None
    except ValueError:
        raise UsageError(f"{flag}“{text}”无效，应为 {_FORMS[kind]}") from None


def month_arg(text: str | None, default: Month, flag: str) -> Month:
    """A YYYY-MM argument, or `default` when it was not given."""
    return default if text is None else period_of(Month, text, flag)
