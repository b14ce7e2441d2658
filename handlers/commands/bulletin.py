"""通报: the chat command that shows the monthly bulletin to staff (the text
itself: handlers/render/bulletin.py), and sends it with 发送.

A bulletin is keyed by its issuer as well as its month: a committee's
bulletin to its branches and the county's to every branch are different
messages, and the outbox sends each once per group (not the first of them
only, silently dropping the other)."""
from __future__ import annotations

from typing import Iterable

from handlers.context import STAFF, CommandError, Context
from handlers.parse import Command, normalise, parse_month
from handlers.registry import cannot, command
from handlers.render import fit
from handlers.render.bulletin import render_bulletin
from storage.bulletin import build_bulletin
from storage.models import Organization
from storage.month import Period, Quarter, Year
from storage.outbox import Message, enqueue, to_branch


def bulletin_messages(issuer_code: str, branches: Iterable[Organization], month: Period,
                      body: str) -> list[Message]:
    """One message a branch group; the outbox key (group, bulletin-<issuer>,
    month) makes a resend of the same issuer's bulletin harmless."""
    return [to_branch(b, f"bulletin-{issuer_code}", str(month), body) for b in branches]


def sent_reply(label: str, groups: int, new: int) -> str:
    """What 发送 did, truthfully: all new, none new, or some."""
    if new == groups:
        return f"{label}通报已安排发送到 {groups} 个支部群。"
    if new == 0:
        return f"{label}通报此前已发送到这 {groups} 个支部群，未重复发送。"
    return f"{label}通报已安排发送到 {new} 个支部群；另外 {groups - new} 个支部群此前已收到，未重复发送。"


def period_named(text: str) -> Period | None:
    """2027-03 / 2027年3月, 2027Q1, 2027 / 2027年; None if it is none of them."""
    for read in (Quarter.iso, lambda t: Year.iso(t.removesuffix("年"))):
        try:
            return read(text)
        except ValueError:
            continue
    return parse_month(text)


@command("bulletin", "通报", "bulletin", roles=STAFF, refusal=cannot("查看通报（组织部和党委可以）"))
def bulletin(cmd: Command, ctx: Context) -> str:
    """通报 YYYY-MM [发送]：月度通报（也可 2027Q1、2027年；加“发送”则发到各支部群）"""
    text = normalise(cmd.rest)
    send = text.endswith("发送")
    text = text.removesuffix("发送").strip()
    month = period_named(text) if text else ctx.month
    if month is None:
        raise CommandError("用法：通报 2027-03（季度：通报 2027Q1，年度：通报 2027年；加“发送”则发到各支部群：通报 2027-03 发送）")
    body = render_bulletin(build_bulletin(ctx.session, ctx.scope, month, ctx.now.date()), ctx.actor.unit.name)
    if send:
        new = enqueue(ctx.session, bulletin_messages(ctx.actor.unit.code, ctx.scope, month, body), ctx.now)
        return sent_reply(month.label, len(ctx.scope), new)
    return fit(body.replace("**", ""))
