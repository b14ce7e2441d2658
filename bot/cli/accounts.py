"""`add-admin WECOM_ID`: open (or reset) a workbench account for a roster
person. The password is one line of standard input (not echoed on a
terminal), at least 8 characters. The account has its person's role and
scope — org staff, committee staff, or a branch's 书记 / 副书记 / 支委 —
read from the roster at each request. `--close` ends it, and every session."""
from __future__ import annotations

import getpass
import sys

import click

from bot.cli.group import UsageError, cli, pass_runtime
from bot.web.workbench.passwords import check_new, hash_password
from bot.web.workbench.user import ROLE_NAMES, SIGN_IN_ROLES
from handlers.context import ORG_ADMIN, Actor
from storage import audit
from storage.accounts import holder_by_userid, open_account
from storage.audit import CLI, Origin
from storage.db import transaction

SCOPES = {ORG_ADMIN: "全县各支部", "committee": "下属支部", "reporter": "本支部"}


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("密码 password: ")
        if getpass.getpass("再输一次 again: ") != first:
            raise UsageError("两次输入的密码不一致，未做任何更改")
        return first
    return sys.stdin.readline().rstrip("\r\n")


@cli.command("add-admin", help="开通或重设工作台账号（密码从标准输入读）workbench account"
                               "\n\nWECOM_ID：名册中的企业微信账号 the person's WeCom id in the roster")
@click.argument("wecom_id")
@click.option("--close", is_flag=True, help="停用此账号 close the account (ends its sessions)")
@pass_runtime
def add_admin(runtime, wecom_id, close) -> None:
    now = runtime.clock.now()
    with transaction(runtime.sessions) as session:
        found = holder_by_userid(session, wecom_id)
        if found is None:
            raise UsageError(f"名册中没有企业微信账号为 {wecom_id} 的在册党员（请先导入名册）")
        member, unit, account = found
        actor = Actor(member, unit)
        if actor.kind not in SIGN_IN_ROLES:
            raise UsageError(f"{member.name}（{unit.name}，{member.role}）不能使用工作台："
                             "只有组织部、党委工作人员和支部书记、副书记、支委可以")
        who = f"{member.name}（{wecom_id}）"
        if close:
            if account is None or not account.active:
                raise UsageError(f"{who} 没有在用的工作台账号")
            account.active, account.session_version, account.updated_at = False, account.session_version + 1, now
            audit.record(session, now, Origin(CLI), "account-closed", who, "命令行 add-admin --close", member, unit)
            print(f"已停用 {who} 的工作台账号")
            return
        password = _read_password()
        problem = check_new(password)
        if problem:
            raise UsageError(f"{problem}，未做任何更改")
        account, created = open_account(session, member, hash_password(password), now)
        audit.record(session, now, Origin(CLI), "account-created" if created else "password-set", who,
                     f"{ROLE_NAMES[actor.kind]}，{unit.name}", member, unit)
    verb = "已开通" if created else "已重设密码并启用"
    print(f"{verb} {who} 的工作台账号：{unit.name}（{ROLE_NAMES[actor.kind]}，可见{SCOPES[actor.kind]}）")
    print("登录：/dashboard/login")
