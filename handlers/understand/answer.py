"""The answer to a message in someone's own words (SPEC "Own words").

- A query (任务, 提醒单, 进度, 我的, 帮助) is answered at once, by the command's
  own function after the registry's role check.
- A write is never done on a guess: the bot says what it understood and the
  command it stands for, and keeps that as a proposal (storage/proposals.py)
  for 10 minutes. `是` / `确认` / `对` / `好的` then runs that command through
  the registry exactly as if it had been typed — the same role check, the
  same handler, the same dedupe and back-fill marks; `不是` / `取消` drops it.
  Any other message in between replaces it (a later 是 does nothing).
- Notices, chit-chat, negations, the future, questions and reported speech
  get a short fitting answer and never a record.

Where the sender can be shown a card (`Inbound.cards`: the app's 1:1 chat,
not the WeChat plugin), the proposal comes as a card with 确认 / 取消 — the
same words in it, and typing 是 still works. Its buttons carry only the
proposal's random key; a click is acted on only for a key found and the
proposal's own person, and then exactly as 是 / 不是 (`decide`); the card is
updated to say 已确认 / 已取消 / 已过期."""
from __future__ import annotations

from datetime import date

from handlers.context import COMMITTEE, MEMBER, ORG_ADMIN, REPORTER, CommandError, Context
from handlers.parse import Command, normalise, parse_command
from handlers.registry import REGISTRY
from handlers.render import day, quote
from handlers.understand.reading import GREETING, READS, THANKS, Reading, TaskInfo, World, read
from storage.meetings import has_roll, people_of
from storage.models import BRANCH
from storage.addresses import member_owner
from storage.outbox import CARD_UPDATE, CardBody, Message, enqueue, enqueue_reply, parse_button_key, with_card
from storage.proposals import CANCELLED, CONFIRMED, LIFETIME, Offer, decide as decide_row, drop, latest_pending
from storage.proposals import new_card_key, proposal_by_id, proposal_by_key, propose, written_since
from storage.tasks import REPORTED, branch_tasks

CONFIRM = frozenset({"是", "是的", "确认", "确定", "对", "对的", "好的", "好", "没错", "可以", "嗯是的", "yes"})
CANCEL = frozenset({"不是", "取消", "不对", "算了", "不用了", "错了", "不要", "no"})
ASKED_TO_CONFIRM = frozenset({"是", "是的", "确认", "确定", "不是", "取消", "yes", "no"})  # not chit-chat
EXAMPLES = {  # what a role can simply say, for the short help
    REPORTER: "“第三项完成了”“昨天开了支委会，到会5人”“这个月提醒单发我一下”",
    MEMBER: "“签到”“今天学习了党章”“我有多少积分”",
    ORG_ADMIN: "“各支部完成情况怎么样”", COMMITTEE: "“各支部完成情况怎么样”",
}
DECLINED = {
    "notice": "这像是一条转发的通知，我没有记录任何内容。需要上报时，请直接说，如“第三项完成了”。",
    "negation": "好的，等办完了再告诉我（如“第三项完成了”）。本条未记录。",
    "future": "好的，等开完或办完后再告诉我。本条未记录。",
    "question": "这个问题我还答不了，本条未记录。",
    "reported": "这条消息我没有记录。如需上报，请直接说“第N项完成了”，或发送“完成 N 说明”。",
}
MINUTES = int(LIFETIME.total_seconds() // 60)
MIN_CONFIDENCE = 0.6  # below it a reading is not offered at all: the short help instead
BUTTONS = {"pyes": True, "pno": False}  # a proposal card's button actions: 确认, 取消
SHOWN = {CONFIRMED: "已确认", CANCELLED: "已取消"}  # what a decided card says; any other end: 已过期
FORGED = "这个按钮已失效，或不是发给你的，未做任何记录。"


def answer(text: str, ctx: Context) -> tuple[str | None, str]:
    """(reply, outcome for the inbound log) for a message that is no exact
    command; the reply is None when it went as a card."""
    said = normalise(text).lower()
    if said in CONFIRM or said in CANCEL:
        offer = latest_pending(ctx.session, ctx.actor.member.id)
        if offer is not None or said in ASKED_TO_CONFIRM:
            return _decide_latest(offer, said in CONFIRM, ctx)
    world = world_for(ctx)
    reading = read(text, world)
    if (reading.intent in READS or reading.writes) and reading.confidence < MIN_CONFIDENCE:
        return not_placed(text, ctx), "unknown"
    if reading.intent in READS:
        command = parse_command(reading.command)
        return REGISTRY.resolve(command.name, ctx.actor)(command, ctx), f"words: {command.name}"
    if reading.writes:
        return _propose(reading, text, ctx, world)
    if reading.intent == "ask":
        return reading.reply, "words: asked back"
    if reading.intent == "decline":
        reply = DECLINED[reading.why] + ("\n" + short_help(ctx.actor.kind) if reading.why == "question" else "")
        return reply, f"words: declined ({reading.why})"
    if reading.intent == "chitchat":
        return _chitchat(said, ctx.actor.kind), "words: chit-chat"
    return not_placed(text, ctx), "unknown"


def not_placed(text: str, ctx: Context) -> str:
    return f"没听懂“{quote(normalise(text), 20)}”。\n{short_help(ctx.actor.kind)}"


def short_help(kind: str) -> str:
    """The short help: what this role can simply say, and where the rest is."""
    return f"可以直接说，如：{EXAMPLES[kind]}；发送“帮助”查看全部命令。"


def world_for(ctx: Context) -> World:
    """This month's tasks of the sender's branch and its roll, read only if
    the message needs them."""
    unit, session = ctx.actor.unit, ctx.session

    def tasks() -> list[TaskInfo]:
        if unit.type != BRANCH:
            return []
        return [TaskInfo(bt.task.number, bt.task.title, bt.task.duty, bt.state == REPORTED)
                for bt in branch_tasks(session, unit, ctx.month)]
    return World(ctx.now.date(), tasks, lambda: people_of(session, unit.id))


def _chitchat(said: str, kind: str) -> str:
    if THANKS.search(said):
        return "不客气！"
    if GREETING.search(said):
        return f"你好！有事直接说就行，如：{EXAMPLES[kind]}；发送“帮助”查看全部命令。"
    if kind == REPORTER and said.startswith("收到"):  # a bare 收到 acknowledges nothing: say how to
        return "好的。如是回复某项任务的提醒，请发“收到 N”（N 为任务序号），组织部就能看到已收到。"
    return "好的。"


# --- proposals -------------------------------------------------------------

def _propose(reading: Reading, text: str, ctx: Context, world: World) -> tuple[str | None, str]:
    command = parse_command(reading.command)
    if command.name != reading.intent or command.problem:  # would not be acted on as understood
        return not_placed(text, ctx), "unknown"
    REGISTRY.resolve(command.name, ctx.actor)  # the role check, before anything is proposed
    summary = describe(reading, command, ctx, world)
    key = new_card_key() if ctx.inbound.cards and ctx.inbound_id is not None else None
    proposal_id = propose(ctx.session, ctx.actor.member.id, reading.command, summary, ctx.inbound_id, ctx.now,
                          card_key=key)
    reply = (f"我理解为：{summary}。\n（相当于命令：{reading.command}）\n"
             f"回复“是”确认，“不是”取消（{MINUTES}分钟内有效）。")
    outcome = f"words: proposed {command.name} #{proposal_id} ({reading.confidence:.2f})"
    if key is None:
        return reply, outcome
    # The card instead of the passive reply (an app's passive reply cannot be a card):
    # queued as the answer to this message, its text version for any channel without cards.
    card = CardBody(key, f"请确认：{summary}", f"{MINUTES}分钟内有效", text=reply,
                    buttons=(("确认", "pyes"), ("取消", "pno")))
    enqueue_reply(ctx.session, member_owner(ctx.inbound.user), str(ctx.inbound_id), with_card(reply, card), ctx.now)
    return None, outcome + " as a card"


def describe(reading: Reading, command: Command, ctx: Context, world: World) -> str:
    """What a proposal does, in the words the person will confirm."""
    name, rest = command.name, command.rest
    if name == "done":
        task = next((t for t in world.tasks if t.number == command.number), None)
        text = f"完成第{command.number}项「{task.title if task else ''}」"
        return text + (f"，说明“{quote(command.note, 40)}”" if command.note else "")
    if name == "meeting":
        return _meeting_words(rest, ctx.now.date(), reading)
    if name == "checkin":
        return "签到" + (f"，说明“{quote(rest, 40)}”" if rest else "")
    if name == "proxy_checkin":
        who, _, note = rest.partition(" ")
        gloss = f"（{reading.glosses[0]}）" if reading.glosses else ""
        return f"为{who}{gloss}代签" + (f"，说明“{quote(note, 40)}”" if note else "")
    if name == "volunteer":
        hours, _, note = rest.partition(" ")
        return f"登记志愿服务 {hours}" + (f"，说明“{quote(note, 40)}”" if note else "")
    if name == "study":
        return "登记一次学习" + (f"“{quote(rest, 40)}”" if rest else "")
    return reading.command


def _meeting_words(rest: str, today: date, reading: Reading) -> str:
    kind, held, *more = rest.split(" ")
    text = f"{day(date.fromisoformat(held), today)}开了{kind}"
    words = iter(more)
    said = False
    for word in words:
        value = next(words, "")
        text += f"，{word} {value}"
        said = True
    if not said and has_roll(kind):
        text += "，未写缺席、请假的人（应到人员都记为出席）"
    if reading.glosses:
        text += f"（{'、'.join(reading.glosses)}）"
    return text


def _decide_latest(offer: Offer | None, yes: bool, ctx: Context) -> tuple[str, str]:
    if offer is None:
        return "现在没有需要确认的事项，本条未记录。", "words: nothing to confirm"
    return decide(offer, yes, ctx)


def decide(offer: Offer, yes: bool, ctx: Context) -> tuple[str, str]:
    """Confirm (yes) or cancel a proposal: the 是 / 不是 of a chat, or the
    确认 / 取消 of its card (`click`)."""
    if offer.member_id != ctx.actor.member.id:
        return "这不是你的待确认事项。", "words: not theirs"
    if offer.state in (CONFIRMED, CANCELLED):  # a card's button after 是, or a second click
        return "这条已经处理过了。", "words: already decided"
    stale = offer.expires_at <= ctx.now or (
        offer.inbound_id is not None and ctx.inbound_id is not None
        and written_since(ctx.session, ctx.inbound.user, offer.inbound_id, ctx.inbound_id))
    if stale:
        drop(ctx.session, offer.id, ctx.now)
        return (f"刚才的“{quote(offer.summary, 30)}”已超过{MINUTES}分钟未确认，或之后你又发了别的消息，已作废，本条未记录。"
                "如需记录，请重新发送。"), "words: proposal expired"
    if not yes:
        if not decide_row(ctx.session, offer.id, CANCELLED, ctx.now):
            return "这条已经处理过了。", "words: already decided"
        return "好的，已取消，未记录。", "words: cancelled"
    if not decide_row(ctx.session, offer.id, CONFIRMED, ctx.now):  # another process took it first
        return "这条已经处理过了。", "words: already decided"
    command = parse_command(offer.command)
    handler = REGISTRY.resolve(command.name, ctx.actor)  # the same role check as a typed command
    return handler(command, ctx), f"words: confirmed {command.name}"


def is_proposal_button(event_key: str) -> bool:
    """Whether a clicked button is a proposal card's 确认 / 取消 (else one-tap's cards)."""
    parsed = parse_button_key(event_key)
    return parsed is not None and parsed[0] in BUTTONS


def click(cmd: Command, ctx: Context) -> str:
    """确认 / 取消 on a proposal's card: exactly 是 / 不是 — for the key's own
    person only — and the card then says what became of it."""
    parsed = parse_button_key(cmd.rest)
    offer = proposal_by_key(ctx.session, parsed[1]) if parsed and parsed[0] in BUTTONS else None
    if offer is None or offer.member_id != ctx.actor.member.id:
        raise CommandError(FORGED)
    try:
        reply = decide(offer, BUTTONS[parsed[0]], ctx)[0]
    except CommandError:  # refused by the command itself: the proposal is decided all the same
        _show(ctx, parsed[1], offer)
        raise
    _show(ctx, parsed[1], offer)
    return reply


def _show(ctx: Context, key: str, offer: Offer) -> None:
    """Grey the clicked card's buttons into what became of its proposal
    (已确认 / 已取消 / 已过期), by the click's one-use response_code."""
    code = ctx.inbound.response_code
    if code and ctx.inbound.channel == "app" and ctx.inbound_id is not None:
        after = proposal_by_key(ctx.session, key)
        label = SHOWN.get(after.state if after else "", "已过期")
        card = CardBody(key, f"请确认：{offer.summary}", replace_name=label, response_code=code)
        enqueue(ctx.session, [Message(member_owner(ctx.inbound.user), CARD_UPDATE, str(ctx.inbound_id),
                                      with_card("", card))], ctx.now)


def decide_by_id(proposal_id: int, yes: bool, ctx: Context) -> tuple[str, str]:
    """Confirm or cancel a proposal known by its id (its card's buttons carry
    its random key instead: `click`)."""
    offer = proposal_by_id(ctx.session, proposal_id)
    if offer is None:
        raise CommandError("没有找到这条待确认事项。")
    return decide(offer, yes, ctx)
