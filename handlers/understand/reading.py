"""What a message in someone's own words asks for: the command they would
have typed, or a short answer, or nothing. Pure: the branch's tasks and roll
come in a `World`, so the corpus and the bench read text without a database.

Order matters and is the safety of it:
1. Forwarded notices and chit-chat are placed first: they never act.
2. Read-only queries (任务, 提醒单, 进度, 我的, 帮助) are answered even when asked
   as a question — asking is what a query is.
3. Anything that would write is looked for only in a statement of something
   done: a negation (还没完成), the future (明天开), a question (完成了吗) or
   reported speech (书记说…) declines it with a short answer.
4. What is found must resolve against the real data (a task of this month,
   a member on the roll); what does not, or fits two, is asked back.
A write is then only *proposed* (handlers/understand/answer.py): it is done
after the person says 是."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Callable, Sequence

from rapidfuzz import fuzz

from handlers.parse import half_width, numeral
from handlers.understand.dates import find_day
from handlers.understand.people import Found, Roll
from storage.models import MEETING_KINDS
from storage.month import Month

READS = ("tasks", "sheet", "progress", "whoami", "help")
WRITES = ("done", "meeting", "checkin", "proxy_checkin", "volunteer", "study")


@dataclass(frozen=True)
class TaskInfo:
    number: int
    title: str
    duty: str | None = None
    reported: bool = False


@dataclass
class World:
    """What a message is resolved against: today (Asia/Shanghai), this
    month's tasks of the sender's branch, and the branch's members. Tasks and
    people are loaded only when a message needs them."""
    today: date
    load_tasks: Callable[[], Sequence[TaskInfo]] = lambda: ()
    load_people: Callable[[], Sequence] = lambda: ()
    committee: Callable[[Sequence], Sequence] = lambda people: [
        p for p in people if getattr(p, "role", "") in ("书记", "副书记", "组织委员", "宣传委员", "纪检委员")]

    @cached_property
    def tasks(self) -> Sequence[TaskInfo]:
        return self.load_tasks()

    @cached_property
    def people(self) -> Sequence:
        return self.load_people()

    @cached_property
    def roll(self) -> Roll:
        return Roll(self.people)


@dataclass(frozen=True)
class Reading:
    """intent: a command's name (READS, WRITES), or ask (a question back),
    decline (something not to act on: `why` says what), chitchat, or
    nothing (the short help)."""
    intent: str
    command: str = ""          # as it would be typed: 完成 3 已排查
    confidence: float = 0.0
    reply: str = ""            # ask / decline / chitchat: what to say
    why: str = ""              # decline: notice | negation | future | question | reported
    glosses: tuple[str, ...] = field(default=())   # 老李 → 李建国: shown with a proposal

    @property
    def writes(self) -> bool:
        return self.intent in WRITES


NOTHING = Reading("nothing")
_MENTION = re.compile(r"@\S+\s*$|^\s*@\S+\s+|@支部通")
_SPACES = re.compile(r"\s+")
_TRIM = " \t,，。.!！~～、;；:："
NUM = r"[0-9]{1,3}|[零〇一二两三四五六七八九十百]{1,4}"

# --- what never acts -----------------------------------------------------
_NOTICE_MARKS = re.compile(r"^【[^】]{1,12}】|关于.{2,30}的通知|各(?:基层)?党(?:支部|组织)|请各|附件[:：]|特此通知|转发")
_CHITCHAT = re.compile(r"^(?:好的|好滴|好嘞|好|收到|收到了|谢谢|多谢|谢谢你|辛苦了?|知道了|明白了?|了解|嗯+|哦+|噢|ok|okay|行|可以|"
                       r"你好|您好|在吗|在不在|早上好|早安|早|晚安|哈+|呵呵|👍|👌|🙏|[!！。.~～]+)+"
                       r"(?:啊|呀|啦|了|哈|吧|书记|主任|领导|老师|大家|各位)*$", re.I)
THANKS = re.compile(r"谢|辛苦")
GREETING = re.compile(r"你好|您好|在吗|在不在|早")
_QUESTION_END = re.compile(r"[?？]|[吗么呢嘛]\s*$|[吗么呢嘛][,，。!！\s]|了没有?\s*$")
_QUESTION_WORDS = re.compile(r"几个人|几人|几项|多少|怎么|咋|是否|能不能|要不要|可不可以|有没有|是不是|需不需要|用不用|"
                             r"哪些|哪个|哪天|什么时候|啥时候|为什么|为啥|何时|对不对|行不行|好不好")
_REPORTED = re.compile(r"(?<!我)(?<!我们)(?<!咱)(?:(?<!电话里)(?<!电话中)(?<!微信里)(?<!视频里)说(?!明|一下|下)|问(?!题)|讲(?!了?党课)|让我|叫我|要求|听说|通知)")
_NEGATED = re.compile(r"(?:还没有?|没有|没|未|尚未|暂未|暂时没|还未|不|别|无法|不能|不用|不必)\s*"
                      r"(?:能|有|去|来得及|得及|法|办法)?\s*(?:完成|弄好|搞好|做好|搞定|办好|办完|做完|弄完|开|召开|签到|报到|学习|参加|落实|排查|"
                      r"整改|上报|报|弄|搞|做|办)")
_FUTURE = re.compile(r"明天|明日|明早|明晚|后天|下周|下星期|下礼拜|下个?月|月底前|准备|打算|计划|将要|将于|即将|待会|等会|等下|"
                     r"一会儿?|过两天|过几天|回头|马上|要[开做办搞去完报]|还要|需要|得开|该开|争取|尽快|抓紧|安排|"
                     r"(?:上午|下午|晚上|中午|今晚|这周|本周|这个?星期|这个?礼拜|月底|年底)(?:内|之内)?\s*(?:就|再|能|可以)?\s*"
                     r"(?:完成|开|办|弄|搞|做)(?![了完好过的])")
# --- the read-only queries ----------------------------------------------
_SHEET = re.compile(r"提醒单|提示单|工作单|谁还?没(?:有)?(?:签到|报到)|哪些人还?没(?:有)?(?:签到|报到)|没(?:有)?(?:签到|报到)的(?:有|是)|"
                    r"(?:签到|报到)(?:情况|名单)")
_PROGRESS = re.compile(r"进度|进展|完成情况|完成得怎么样|完成了?几项|还差几项|还有几项|还剩几项|还有哪些没|哪些还没|哪些没|"
                       r"没完成的|还有什么没|还剩什么|完成了?多少")
_TASKS = re.compile(r"任务|要干什么|要干啥|要做什么|要做啥|该干什么|该做什么|该干啥|有什么工作|有啥工作|有哪些工作|干些啥|做些啥")
_WHOAMI = re.compile(r"我的(?:记录|积分|情况|档案|信息|分数|得分)|我(?:有|得了?|现在)?多少(?:积分|分)|我(?:这个?季度)?"
                     r"(?:签到|参加|学习|志愿)了?几(?:次|天|回)|我是谁|我的身份|查(?:一下|下)?我(?:自己)?的|我.{0,6}积分")
_HELP = re.compile(r"怎么(?:用|报|上报|操作|弄|签到|记录|使用|填|搞)|咋(?:用|报|弄|搞)|不会(?:用|报|弄|操作)|能(?:做|干)(?:什么|啥)|"
                   r"有(?:什么|啥)功能|使用说明|说明书|教(?:我|一下)|帮助|菜单|你是谁|你能")
# --- the writes ------------------------------------------------------------
_REF = re.compile(rf"第\s*(?P<a>{NUM})\s*(?:项|条|个|件)?(?:任务|工作)?|(?<![这那每哪另同某单])(?P<b>{NUM})\s*(?:号)?\s*(?:项|条)"
                  rf"(?:任务|工作)?|"
                  rf"任务\s*(?P<c>[0-9]{{1,3}})")
_DONE = re.compile(r"(?:已经|已|都)?\s*(?:完成|弄好|搞好|做好|搞定|办好|办完|做完|弄完|搞完|落实|完毕|结束|排查完|整改完|核对完|"
                   r"归档完|开展|上报)(?:了|啦|喽|咯|好了|完了|的|毕)*|(?:已经|已)\s*(?:排查|核对|归档|落实|开展|整改|联系|上报|报)了?")
_DONE_WEAK = re.compile(r"(?:已经|已)\s*(?:\S{1,6}?)(?:好|完)了|(?:弄|搞|做|办|查|对|核|档|理|实)(?:好|完)了")
_MEETING = (("支委会", r"支委会|支部委员会|支委扩大会|支委会议|支委开会"),
            ("党员大会", r"党员大会|支部大会|全体党员会|党员会"),
            ("党小组会", r"党小组会|小组会"),
            ("主题党日", r"主题党日|党日活动|党日"),
            ("组织生活会", r"组织生活会"),
            ("民主评议", r"民主评议"),
            ("谈心谈话", r"谈心谈话|谈心"),
            ("党课", r"党课"))
_MEETING_WORDS = re.compile("|".join(f"(?P<k{i}>{p})" for i, (_, p) in enumerate(_MEETING)))
_PAST = re.compile(r"了|过|已经|已|开完|刚开|结束|圆满|[开搞办讲]的")
_CAME = re.compile(rf"(?:到会|实到|出席|参会|参加|来了|到了)\s*(?:了)?\s*(?P<n>{NUM})\s*(?:个)?\s*人?|"
                   rf"(?P<n2>{NUM})\s*(?:个)?\s*人\s*(?:到会|参加|出席|参会|到了|来了)")
_OF = re.compile(rf"(?:应到|应参加|应出席|共有|总共)\s*(?P<n>{NUM})\s*(?:个)?\s*人?")
_RATIO = re.compile(r"(?<![0-9])(?P<came>[0-9]{1,4})\s*/\s*(?P<of>[0-9]{1,4})(?![0-9])")
_ALL_CAME = re.compile(r"全体(?:党员|支委|人员)?(?:都)?(?:参加|出席|到会|到齐|参会)|全(?:部|员)(?:都)?(?:参加|出席|到会|到齐|到了)|"
                       r"都到(?:了|齐)|全到(?:了|齐)|到齐了?|无人缺席|没有人缺席|一个不少|都在|都来了|全来了|都参加了")
# Roll words: 缺席 and 请假 stand before or after the names; the others only after them.
_ROLL_WORDS = re.compile(r"(?P<absent>缺席(?:的有|的是|了)?(?:[0-9一二两三四五六七八九十]{1,2}\s*个?\s*人)?)|(?P<absent_post>没有?来|没有?到|未到|没有?参加|未参加)|"
                         r"(?P<excused>请假(?:的有|的是|了)?(?:[0-9一二两三四五六七八九十]{1,2}\s*个?\s*人)?)|(?P<excused_post>请了假|请病假|请事假|有事请假|有事没来)")
_CHECKIN = re.compile(r"签个到|报个到|来签到|来报到|签到一下|报到一下|打个卡|打卡|我签到|我报到|本月报到|这个月报到|报到了|签到了|"
                      r"(?<!代)签到|(?<![双])报到")
_PROXY_MARKS = re.compile(r"电话联系|打(?:了|过)?电话|视频(?:联系|通话)?|微信联系|联系(?:上|过|了)|通过电话|电话里")
_PROXY_WORD = re.compile(r"代签|代为签到|代他签到|代她签到|签到|报到|签个到|报个到|签一下")
_HOURS = re.compile(rf"(?P<n>[0-9]{{1,2}}(?:\.[0-9])?|{NUM})?\s*(?:个)?\s*(?P<half>半)?\s*(?:个)?\s*(?:小时|钟头|h\b)")
_VOLUNTEER = re.compile(r"志愿|义务|服务|帮忙|值班|巡逻|巡河|巡山|打扫|清扫|清理|宣传|慰问|看望|执勤|劳动|植树|防疫|防汛|"
                        r"捡垃圾|做好事|帮扶|走访")
_STUDY = re.compile(r"学完了|学习完了|(?:集中|自|在线|线上|组织)?学习了|学了|自学了?|(?:参加|组织)了?(?:集中)?学习|看了|读了|听了|收看了")


def read(text: str, world: World) -> Reading:
    """What `text` asks for, resolved against `world`."""
    t = _prepare(text)
    if not t:
        return NOTHING
    if _is_notice(text, t):
        return Reading("decline", why="notice", confidence=0.9)
    if _CHITCHAT.match(t):
        return Reading("chitchat", confidence=0.9)
    if (query := _query(t, world)) is not None:
        return query
    write = _write(t, world)
    return write if write is not None else NOTHING


def _prepare(text: str) -> str:
    t = half_width(text or "")
    t = _MENTION.sub(" ", t)
    return _SPACES.sub(" ", t).strip(_TRIM + "\n")


def _is_notice(original: str, t: str) -> bool:
    lines = [line for line in (original or "").splitlines() if line.strip()]
    # A long text is a notice unless it begins as a report does (第一项完成了，……)
    return bool(_NOTICE_MARKS.search(t)) or len(lines) >= 4 or (len(t) > 200 and not _REF.search(t[:15]))


# --- queries -------------------------------------------------------------

def _query(t: str, world: World) -> Reading | None:
    if _SHEET.search(t):
        month = _month_in(t, world.today)
        return Reading("sheet", f"提醒单 {month}" if month else "提醒单", 0.95)
    if _WHOAMI.search(t):
        return Reading("whoami", "我的", 0.9)
    if _PROGRESS.search(t) and not _REF.search(t):
        return Reading("progress", "进度", 0.9)
    if _TASKS.search(t) and (_QUESTION_END.search(t) or _QUESTION_WORDS.search(t) or _asks_to_see(t)) \
            and not _DONE.search(t):
        return Reading("tasks", "任务", 0.9)
    if _HELP.search(t):
        return Reading("help", "帮助", 0.85)
    return None


_SEE = re.compile(r"看|查|发|列|给我|说一下|讲一下|告诉|有哪些|有什么|有啥|是什么|是啥|清单|一览")


def _asks_to_see(t: str) -> bool:
    return bool(_SEE.search(t))


def _month_in(t: str, today: date) -> Month | None:
    if re.search(r"上个?月", t):
        return Month.of(today).previous()
    if re.search(r"下个?月", t):
        return Month.of(today).next()
    if found := re.search(rf"(?P<n>{NUM})\s*月(?!\s*[0-9一二三四五六七八九十]+\s*[日号])", t):
        number = numeral(found.group("n"))
        if number is not None and 1 <= number <= 12:
            return Month.referred(number, today)
    return None


# --- writes --------------------------------------------------------------

def _decline(t: str, spans: Sequence[tuple[int, int]] = (), until: int | None = None) -> Reading | None:
    """A statement of something done, or a reason not to act on it. `spans`:
    parts already read as something else (张三没来 is the roll, not a negation);
    `until`: the future is looked for only up to there (第一项完成了，照片等会发)."""
    rest = _blank(t, spans)
    if _REPORTED.search(rest):
        return Reading("decline", why="reported", confidence=0.8)
    if _QUESTION_END.search(rest) or _QUESTION_WORDS.search(rest):
        return Reading("decline", why="question", confidence=0.8)
    if _NEGATED.search(rest):
        return Reading("decline", why="negation", confidence=0.8)
    if _FUTURE.search(rest[:until]):
        return Reading("decline", why="future", confidence=0.8)
    return None


def _blank(t: str, spans: Sequence[tuple[int, int]]) -> str:
    chars = list(t)
    for start, end in spans:
        chars[start:end] = "，" * (end - start)
    return "".join(chars)


def _write(t: str, world: World) -> Reading | None:
    meeting = _MEETING_WORDS.search(t)
    ref = _REF.search(t)
    task = _task_by_number(ref, world) if ref else None
    study = _STUDY.search(t)
    if meeting and study and study.end() == meeting.start():  # 收看了党课直播: study, not a 党课 held
        meeting = None
    if meeting and not (ref and task is not None and task.duty not in MEETING_KINDS):
        kind = _MEETING[int(meeting.lastgroup[1:])][0]
        return _meeting(t, world, kind)
    if ref or _DONE.search(t) or _DONE_WEAK.search(t):
        done = _done(t, world, ref)
        if done is not None:
            return done
    if _HOURS.search(t) and _VOLUNTEER.search(t):
        return _volunteer(t)
    if _STUDY.search(t):
        return _study(t)
    if (proxy := _proxy(t, world)) is not None:
        return proxy
    if _CHECKIN.search(t):
        return _checkin(t)
    if _ACTION.search(t) and (declined := _decline(t)) is not None:  # 今天没学习, 打算明天学习党章
        return Reading("decline", why=declined.why, confidence=0.6)
    if _QUESTION_END.search(t) or _QUESTION_WORDS.search(t):
        return Reading("decline", why="question", confidence=0.6)
    return None


_ACTION = re.compile(r"完成|开|办|做|搞|弄|签到|报到|学习|志愿|服务|参加|上报|核对|排查|归档")


def _task_by_number(ref: re.Match, world: World) -> TaskInfo | None:
    number = numeral(next(g for g in ref.groups() if g))
    return next((task for task in world.tasks if task.number == number), None)


def _done(t: str, world: World, ref: re.Match | None) -> Reading | None:
    marker = _DONE.search(t) or _DONE_WEAK.search(t)
    if marker is None:
        return None
    if (declined := _decline(t, until=marker.end())) is not None:
        return declined
    if ref is not None and (month := _month_in(t[:ref.start()], world.today)) is not None \
            and month != Month.of(world.today):
        number = numeral(next(g for g in ref.groups() if g))
        return Reading("ask", reply=f"其他月份的任务请这样报：完成 {month.number}月第{number}项 说明。本条未记录。",
                       confidence=0.8)
    if ref is not None:
        number = numeral(next(g for g in ref.groups() if g))
        if number is None:
            return None
        task = _task_by_number(ref, world)
        if task is None:
            return Reading("ask", reply=f"本支部本月没有第{number}项任务。发送“任务”查看编号。", confidence=0.8)
        confidence = 0.95
    else:
        task, confidence = _task_by_title(t[:marker.start()] or t, world)
        if task is None:
            return None
    if task.duty in MEETING_KINDS:
        return _meeting(t, world, task.duty, task)
    if task.reported:
        return Reading("ask", reply=f"第{task.number}项「{task.title}」已上报过。如需修改，请发送：更正 {task.number} 新的说明",
                       confidence=confidence)
    note = _note(t[max(marker.end(), ref.end() if ref is not None else 0):])
    return Reading("done", f"完成 {task.number} {note}".strip(), confidence)


_GENERIC = re.compile(r"召开|开展|基层|党组织|支部|会议|活动|工作|情况|年度|信息|系统|全国|管理|的|和|[“”\"，,、（）()]")


def _task_by_title(words: str, world: World) -> tuple[TaskInfo | None, float]:
    """The task whose title the words name, if one stands out (fuzzy, by the
    characters of its title's core: word order and extra words do not matter)."""
    words = _GENERIC.sub("", words)
    if len(words) < 2:
        return None, 0.0
    scored = []
    for task in world.tasks:
        core = _GENERIC.sub("", task.title)
        if len(core) < 2 or not _shares_pair(core, words):
            continue
        score = max(fuzz.partial_ratio(core, words), fuzz.token_set_ratio(" ".join(core), " ".join(words)))
        scored.append((score, task))
    scored.sort(key=lambda pair: -pair[0])
    if not scored or scored[0][0] < 70 or (len(scored) > 1 and scored[0][0] - scored[1][0] < 10):
        return None, 0.0
    return scored[0][1], scored[0][0] / 100 * 0.9


def _shares_pair(a: str, b: str) -> bool:
    pairs = {a[i:i + 2] for i in range(len(a) - 1)}
    return any(b[i:i + 2] in pairs for i in range(len(b) - 1))


def _note(text: str) -> str:
    note = text.lstrip(_TRIM + "了啦哈的").rstrip(_TRIM)
    note = re.sub(r"^(?:说明|情况|备注)\s*[:：]?", "", note).strip(_TRIM)
    return note


def _roll_names(t: str, roll: Roll) -> tuple[list[Found], list[Found], list[tuple[int, int]]]:
    """(absent, excused, the spans they were read from). 缺席张三 / 张三缺席 /
    张三没来 / 请假 李四 / 李四请假: names after the word unless they are the
    names before the next roll word (张三缺席李四请假)."""
    words = list(_ROLL_WORDS.finditer(t))
    absent: list[Found] = []
    excused: list[Found] = []
    spans: list[tuple[int, int]] = []
    floor = 0
    for i, word in enumerate(words):
        kind = word.lastgroup
        into = absent if kind.startswith("absent") else excused
        limit = words[i + 1].start() if i + 1 < len(words) else None
        before = roll.run_before(t, word.start(), floor)
        after = [] if kind.endswith("_post") else roll.run_after(t, word.end(), limit)
        after_known = [f for f in after if f.people]
        next_adjacent = limit is not None and after and t[after[-1].end:limit].strip(_TRIM) == ""
        if after_known and not (before and next_adjacent):
            into += after
            spans.append((word.start(), after[-1].end))
            floor = after[-1].end
        elif before:
            into += before
            spans.append((before[0].start, word.end()))
            floor = word.end()
        elif after:
            into += after
            spans.append((word.start(), after[-1].end))
            floor = after[-1].end
        elif kind.endswith("_post"):  # 还没来得及开: no name before 没来, so no roll word
            continue
        else:  # 缺席 with no name: asked back
            into.append(Found(word.group(0), (), word.start(), word.end()))
            spans.append((word.start(), word.end()))
            floor = word.end()
    return absent, excused, spans


def _meeting(t: str, world: World, kind: str, task: TaskInfo | None = None) -> Reading:
    absent, excused, spans = _roll_names(t, world.roll)
    day = find_day(_blank(t, spans), world.today)
    if (declined := _decline(t, spans)) is not None:
        return declined
    if day is not None and day.day > world.today:
        return Reading("decline", why="future", confidence=0.8)
    ratio, came_m, of_m, full = _RATIO.search(t), _CAME.search(_blank(t, spans)), _OF.search(t), _ALL_CAME.search(t)
    if not (_PAST.search(_blank(t, spans)) or ratio or came_m or full or absent or excused):
        return Reading("decline", why="future", confidence=0.5)  # 周五开支委会: not said to be held
    if task is not None and day is None and not (ratio or came_m or full or absent or excused):
        return Reading("ask", reply=f"第{task.number}项「{task.title}」是开会，请连同会议情况一起说，如：{world.today.month}月"
                                    f"{world.today.day}日开了{kind}，到会几人，谁缺席、谁请假。本条未记录。", confidence=0.8)
    if (asked := _ask_names(absent + excused)) is not None:
        return asked
    if day is None:  # a day is never guessed: the proposal would carry it into the ledger
        return Reading("ask", reply=f"{kind}是哪天开的？请连同日期一起说，如“昨天开了{kind}，到会几人，谁请假”。本条未记录。",
                       confidence=0.8)
    people = world.people
    expected = len(world.committee(people)) if kind == "支委会" else len(people)
    came = of = None
    if ratio:
        came, of = int(ratio.group("came")), int(ratio.group("of"))
    elif full:  # 全体参加; 老高请假 其他都到了: everyone not named
        of = expected
        came = expected - len(_names(absent)) - len(_names(excused))
    else:
        if came_m:
            came = numeral(came_m.group("n") or came_m.group("n2"))
        if of_m:
            of = numeral(of_m.group("n"))
        if came is not None and of is None:
            of = expected
    held = day.day if day is not None else world.today
    names_absent = _names(absent)
    names_excused = _names(excused)
    if came is not None and of is not None and of == expected and expected:
        missing = of - came - len(names_absent) - len(names_excused)
        if came > of:
            return Reading("ask", reply=f"按名册，本支部{kind}应到 {expected} 人，到会 {came} 人对不上，请核对人数。本条未记录。",
                           confidence=0.8)
        if missing > 0:
            return Reading("ask", reply=f"按名册，本支部{kind}应到 {expected} 人，到会 {came} 人，还有 {missing} 人没写是谁："
                                        f"请写明缺席或请假的姓名，如：{kind}到会{came}人，缺席 张三、请假 李四。本条未记录。",
                           confidence=0.8)
        if missing < 0:
            return Reading("ask", reply=f"按名册，本支部{kind}应到 {expected} 人，到会 {came} 人加上缺席、请假的人数超过了应到人数，"
                                        "请核对。本条未记录。", confidence=0.8)
    parts = [f"会议 {kind} {held.isoformat()}"]
    if came is not None and of is not None:
        parts.append(f"出席 {came}/{of}")
    if names_absent:
        parts.append("缺席 " + "、".join(names_absent))
    if names_excused:
        parts.append("请假 " + "、".join(names_excused))
    glosses = tuple(f"{f.typed}（{f.one.name}）" for f in absent + excused if f.one and f.typed != f.one.name)
    return Reading("meeting", " ".join(parts), 0.85, glosses=glosses)


def _names(found: Sequence[Found]) -> list[str]:
    seen: list[str] = []
    for f in found:
        if f.one and f.one.name not in seen:
            seen.append(f.one.name)
    return seen


def _ask_names(found: Sequence[Found]) -> Reading | None:
    for f in found:
        if not f.people and _ROLL_WORDS.fullmatch(f.typed):
            return Reading("ask", reply=f"“{f.typed}”的是谁？请写明姓名后重新发送。本条未记录。", confidence=0.8)
        if not f.people:
            return Reading("ask", reply=f"本支部名册中没有“{f.typed}”，请写全名后重新发送。本条未记录。", confidence=0.8)
        if len(f.people) > 1:
            names = "、".join(p.name for p in f.people[:5])
            return Reading("ask", reply=f"“{f.typed}”可能是：{names}，请写全名后重新发送。本条未记录。", confidence=0.8)
    return None


def _volunteer(t: str) -> Reading | None:
    if (declined := _decline(t)) is not None:
        return declined
    match = _HOURS.search(t)
    number, half = match.group("n"), match.group("half")
    if number is None and not half:
        return None
    if number is None:
        hours = 0.5
    elif re.fullmatch(r"[0-9.]+", number):
        hours = float(number)
    else:
        value = numeral(number)
        if value is None:
            return None
        hours = float(value)
    hours += 0.5 if half and number is not None else 0
    note = _note((t[:match.start()] + " " + t[match.end():]).strip())
    note = re.sub(r"^(?:今天|昨天|前天|上午|下午|晚上|我|参加了?|做了|去)+", "", note).strip(_TRIM)
    return Reading("volunteer", f"志愿 {hours:g}小时 {note}".strip(), 0.85)


def _study(t: str) -> Reading | None:
    if (declined := _decline(t)) is not None:
        return declined
    match = _STUDY.search(t)
    content = _note(t[match.end():])
    content = re.sub(r"^(?:一下|了)", "", content).strip(_TRIM)
    if not content:
        content = _note(re.sub(r"^(?:今天|昨天|前天|上午|下午|晚上|我|在家|们)+", "", t[:match.start()]))
    return Reading("study", f"学习 {content}".strip(), 0.8)


def _proxy(t: str, world: World) -> Reading | None:
    """代签: a secretary reached a member without WeCom (老王在外地打工 电话联系过了)."""
    marks, for_word = _PROXY_MARKS.search(t), re.search(r"(?:帮|替|给|代)\s*(?=\S)", t)
    word = _PROXY_WORD.search(t)
    if not marks and not (for_word and word and word.start() > for_word.end()):
        return None
    if for_word and word and word.start() > for_word.end():
        found = world.roll.run_after(t, for_word.end())
    else:
        found = world.roll.anywhere(t, sound_alike_until=min(len(t), 6))
    if not found:
        return None
    if (declined := _decline(t)) is not None:
        return declined
    if len({f.typed for f in found}) > 1:
        return Reading("ask", reply="一次代签一人：请分别发送，如：代签 张三 电话联系，在外地务工。本条未记录。", confidence=0.7)
    person = found[0]
    if (asked := _ask_names([person])) is not None:
        return asked
    note = (t[:person.start] + t[person.end:]).strip(_TRIM)
    note = re.sub(r"^(?:帮|替|给|代)\s*", "", note)
    note = re.sub(r"(?:(?:帮|替|给|代)(?:他|她)?)?(?:代签|代为签到|签个到|报个到|签到|报到|签一下)(?:一下)?", "", note)
    note = _note(_SPACES.sub(" ", note))
    glosses = (f"{person.typed}（{person.one.name}）",) if person.typed != person.one.name else ()
    return Reading("proxy_checkin", f"代签 {person.one.name} {note}".strip(), 0.75, glosses=glosses)


def _checkin(t: str) -> Reading | None:
    if (declined := _decline(t)) is not None:
        return declined
    match = _CHECKIN.search(t)
    before = re.sub(r"^(?:书记|主任|我|来|今天|[,，\s])+$", "", t[:match.start()].strip(_TRIM))
    after = t[match.end():].lstrip(_TRIM + "了啦")
    note = _note(f"{before} {after}".strip())
    note = re.sub(r"^(?:书记|主任|我|来|今天)+", "", note).strip(_TRIM)
    return Reading("checkin", f"签到 {note}".strip(), 0.8)
