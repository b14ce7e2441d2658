"""`python -m bot …`: the operator's commands. Problems an operator can fix
(config, a bad roster row, a bad plan line) are printed plainly, without a
traceback, and the command exits with status 2.

The click group `cli` lives in bot/cli/group.py; each module imported below
adds its sub-commands to it (see group.py for why it is split this way). A
new sub-command is a function with `@cli.command(...)` and `@pass_runtime`
in one of those modules, or in a new module added to the import below."""
from __future__ import annotations

import logging
import sys

import click

from bot.cli.group import UsageError, cli, month_arg, pass_runtime
from bot.cli import accounts, exports, ops, outbound, radar, review, say, setup  # noqa: F401 - importing them registers the sub-commands
from bot.config import ConfigError
from storage.importers.appraisals import AppraisalError
from storage.importers.plan_read import PlanError
from storage.importers.roster_read import RosterError

__all__ = ["UsageError", "cli", "main", "month_arg", "pass_runtime"]


def main(argv: list[str] | None = None) -> int:
    """Run one command line; the process's exit status."""
    try:
        return cli.main(argv, prog_name="python -m bot", standalone_mode=False) or 0
    except click.ClickException as e:  # click's own: a bad option or command, shown with the usage
        e.show()
        return e.exit_code
    except ConfigError as e:
        print(f"配置错误：{e}", file=sys.stderr)
    except (RosterError, PlanError, AppraisalError) as e:
        print(f"导入失败，未做任何更改（共 {len(e.problems)} 处问题）：", file=sys.stderr)
        for problem in e.problems:
            print(f"  - {problem}", file=sys.stderr)
    except UsageError as e:
        print(f"错误：{e}", file=sys.stderr)
    except click.Abort as e:  # click's form of Ctrl-C
        if isinstance(e.__cause__, KeyboardInterrupt):
            return 130
        logging.getLogger("bot").exception("内部错误 internal error")
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception:
        logging.getLogger("bot").exception("内部错误 internal error")
        return 1
    return 2
