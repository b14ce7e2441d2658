"""Property-based tests of the chat parser (issue 17): whatever is typed,
parsing gives a Command or "unknown" and never raises; a command that
carries a task number carries exactly what was written (its reference and
note are cut from the text, and an independent reading of the reference —
cn2an for Chinese numerals — gives the same number and month); and through
the whole callback, any text gets a reply that fits one message, never the
generic 处理失败. Example counts stay modest so the suite stays fast."""
import unicodedata
from datetime import date

import cn2an
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from handlers.dispatch import FAILED
from handlers.parse import MAX_ITEM, Command, chinese, half_width, parse_command
from handlers.registry import REGISTRY
from storage.month import FIRST_YEAR, LAST_YEAR, Month, parse_day

NAMES = {name for _, name in REGISTRY.spellings()} | {"unknown"}
SEPARATORS = set(":：,，、;；")
FAST = settings(max_examples=400, deadline=None, database=None)

# Pieces people (and attackers) put after a command word.
PIECES = ["完成", "更正", "催办", "进度", "退回", "done", "签到", "会议", "发布", "@支部通 ",
          "第", "项", "条", "个", "月", "-", ",", "，", "、", " ", "　", "：", "和", "。", "？",
          "1", "2", "12", "0", "01", "999", "1000", "9" * 25, "１２", "三", "十二", "一百零一", "两百",
          "一千", "一万亿", "零", "〇", "十百", "已开会", "到会9人", "2人", "ZB0001", "\n", "😀", "𠮷", ".", "5"]
XML_SAFE = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff")
WORDS = [spelling for spelling, _ in REGISTRY.spellings()] + ["ＤＯＮＥ", "完成：", "@支部通 完成"]
FRAGMENTS = st.lists(st.one_of(st.sampled_from(PIECES), st.text(XML_SAFE, max_size=4)), max_size=10).map("".join)
REFS = st.sampled_from(["1", "2", "12", "01", "三", "十二", "第三项", "第1项", "10月第2项", "十月第二项", "10-2",
                        "0-1", "0月第1项", "13月第1项", "第一千项", "999", "1000", "9" * 25, "１２", "一百零一", "两百",
                        "一百二", "零一", "1.5", "1,2", "1 2"])
TEXTS = st.one_of(
    st.tuples(st.sampled_from(WORDS), st.sampled_from(["", " ", "："]), REFS, FRAGMENTS).map("".join),
    st.tuples(st.sampled_from(WORDS), st.sampled_from(["", " ", "："]), FRAGMENTS).map("".join),
    FRAGMENTS,
    st.text(max_size=60),
)


def independent_reading(ref: str) -> tuple[int | None, int]:
    """(month, number) of a reference as written, read without handlers.parse."""
    text = half_width(ref).removeprefix("第").rstrip("项条个")
    if "-" in text:
        month, number = text.split("-")
    elif "月" in text:
        month, number = text.split("月")
        number = number.removeprefix("第")
    else:
        month, number = None, text

    def value(part: str) -> int:
        return int(part) if part.isascii() else int(cn2an.cn2an(part.replace("两", "二").replace("〇", "零"), "normal"))
    return (value(month) if month is not None else None), value(number)


@FAST
@given(TEXTS)
def test_any_text_gives_a_command_or_unknown(text):
    cmd = parse_command(text)
    assert isinstance(cmd, Command) and cmd.name in NAMES
    assert cmd.number is None or 1 <= cmd.number <= MAX_ITEM
    assert cmd.month is None or 1 <= cmd.month <= 12
    assert not (cmd.number is not None and cmd.problem)


@FAST
@given(TEXTS)
def test_a_task_number_is_exactly_what_was_written(text):
    cmd = parse_command(text)
    if cmd.number is None:
        assert cmd.note == "" and cmd.ref == ""
        return
    assert cmd.ref and cmd.ref in text and cmd.note in text
    assert cmd.rest.startswith(cmd.ref) and cmd.rest.endswith(cmd.note)
    between = cmd.rest[len(cmd.ref):len(cmd.rest) - len(cmd.note)]
    assert all(c.isspace() or c in SEPARATORS for c in half_width(between))  # nothing read but ref and note
    assert independent_reading(cmd.ref) == (cmd.month, cmd.number)
    again = parse_command(f"完成 {cmd.ref} {cmd.note}")
    assert (again.number, again.month, again.note) == (cmd.number, cmd.month, cmd.note)


NOTE_START = st.characters(whitelist_categories=("Lo", "Lu", "Ll"), blacklist_characters="第项条个月和及与零〇一二两三四五六七八九十百千万亿")
NOTES = st.one_of(st.just(""), st.builds(lambda a, b: a + b, NOTE_START, st.text(XML_SAFE, max_size=20))
                  .map(str.strip).filter(lambda n: n and half_width(n[-1]) not in "。.!！?？~～、,;；"))


@FAST
@given(word=st.sampled_from(["完成", "更正", "催办", "进度", "done", "Done"]),
       number=st.integers(1, MAX_ITEM), month=st.one_of(st.none(), st.integers(1, 12)),
       form=st.sampled_from(["digits", "chinese", "第项", "月第项", "dash", "full-width"]),
       sep=st.sampled_from([" ", "：", ":", "　", "  "]), note=NOTES, mention=st.booleans())
def test_what_is_written_is_what_is_read(word, number, month, form, sep, note, mention):
    ref = {"digits": str(number), "chinese": chinese(number), "第项": f"第{chinese(number)}项",
           "full-width": "".join(chr(ord(c) + 0xFEE0) for c in str(number)),
           "月第项": f"{month}月第{number}项", "dash": f"{month}-{number}"}[form]
    if form in ("月第项", "dash") and month is None:
        month = None
        ref = str(number)
    elif form not in ("月第项", "dash"):
        month = None
    text = ("@支部通 " if mention else "") + word + sep + ref + (f" {note}" if note else "")
    cmd = parse_command(text)
    assert (cmd.number, cmd.month, cmd.note, cmd.problem) == (number, month, note, ""), text


@FAST
@given(st.sampled_from(["完成", "更正", "催办"]), st.integers(1, MAX_ITEM), st.integers(1, MAX_ITEM),
       st.sampled_from([",", "，", "、", " ", " 和 ", ";"]))
def test_two_numbers_are_never_read_as_one(word, first, second, mark):
    cmd = parse_command(f"{word} {first}{mark}{second}")
    assert cmd.number is None and "一次只能写一项" in cmd.problem


USERS = ["u700001", "u700002", "s7001", "s7004"]  # secretary, member, org department, committee


def xml_can_carry(text: str) -> bool:
    """What a WeCom text message can hold (XML 1.0 in CDATA): no other
    control characters, surrogates or non-characters; not empty."""
    return bool(text.strip()) and "]]>" not in text and all(
        c in "\n\t" or (unicodedata.category(c) not in ("Cc", "Cs") and c not in "\ufffe\uffff") for c in text)


@settings(max_examples=100, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(user=st.sampled_from(USERS), text=TEXTS.filter(xml_can_carry))
@example(user="u700001", text="1签到")  # own words proposed: the answer is a card
def test_through_dispatch_any_text_gets_a_reply_never_a_failure(wecom, county, user, text):
    before = answers_as_cards(county, user)
    reply = wecom.say(user, text)
    if reply is None:  # a proposal from own words: its answer is a card 确认 / 取消, queued for the app
        [reply] = answers_as_cards(county, user)[len(before):]
    assert reply and reply != FAILED and len(reply.encode()) <= 2048


def answers_as_cards(county, user: str) -> list[str]:
    """The text versions of the answers queued for `user` as cards, oldest first."""
    from sqlalchemy import select

    from storage.models import Delivery
    from storage.outbox import REPLY, card_of
    with county.sessions() as s:
        bodies = s.scalars(select(Delivery.body).where(Delivery.target == f"member:{user}", Delivery.purpose == REPLY)
                           .order_by(Delivery.id)).all()
    return [text for text, card in map(card_of, bodies) if card is not None]


@FAST
@given(st.one_of(st.text(max_size=20), st.from_regex(r"[0-9]{1,5}[-./年][0-9]{1,3}([-./月][0-9]{1,3}日?)?", fullmatch=True)))
def test_months_and_days_are_in_range_or_refused(text):
    month = Month.parse(text)
    assert month is None or FIRST_YEAR <= month.year <= LAST_YEAR
    try:
        day = parse_day(text)
    except ValueError:
        return
    assert FIRST_YEAR <= day.year <= LAST_YEAR


@FAST
@given(st.dates(date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31)), st.sampled_from(["{y}-{m:02d}-{d:02d}", "{y}/{m}/{d}",
                                                                                   "{y}.{m}.{d}", "{y}年{m}月{d}日"]))
def test_a_written_day_is_the_day_read(day, shape):
    assert parse_day(shape.format(y=day.year, m=day.month, d=day.day)) == day
    assert Month.parse(f"{day.year}年{day.month}月") == Month.of(day)
