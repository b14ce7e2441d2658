"""The Month type: what people write, what they read, and the year's ends.
Through chat: "12月第2项" sent in January means last December, for staff
(催办, 进度) as it already did for branches (完成)."""
import re
from datetime import date, datetime

import pytest

from storage.month import Month, OutOfRange, Quarter, span

ORG = "s7001"
SECRETARY = "u700001"


@pytest.mark.parametrize("text, expected", [
    ("2027-03", Month(2027, 3)), ("2027.3", Month(2027, 3)), ("2027年3月", Month(2027, 3)),
    ("2027/12", Month(2027, 12)), (" 2027-3 ", Month(2027, 3)),
    ("2027-13", None), ("2027-00", None), ("三月", None), ("", None), ("2027", None),
])
def test_parse_what_people_write(text, expected):
    assert Month.parse(text) == expected


@pytest.mark.parametrize("text", ["2027-3", "2027-13", "27-03", "2027-03-01", "", "2027年3月"])
def test_iso_is_strict_for_operators(text):
    with pytest.raises(ValueError):
        Month.iso(text)


def test_labels():
    assert str(Month(2027, 3)) == "2027-03" and Month.iso("2027-03") == Month(2027, 3)
    assert Month(2027, 3).label == "2027年3月"
    assert Month(2027, 3).item_label(2, Month(2027, 3)) == "第2项"
    assert Month(2027, 3).item_label(2, Month(2027, 4)) == "3月第2项"
    assert Month(2027, 3).item_label(2) == "3月第2项"


def test_stepping_across_year_ends():
    assert Month(2026, 12).next() == Month(2027, 1)
    assert Month(2027, 1).previous() == Month(2026, 12)
    assert Month(2027, 1).shift(-13) == Month(2025, 12)
    assert Month(2026, 12).end == date(2027, 1, 1) and Month(2027, 2).end == date(2027, 3, 1)
    assert span(Month(2026, 11), Month(2027, 1)) == (date(2026, 11, 1), date(2027, 2, 1))
    assert date(2026, 12, 31) in Month(2026, 12) and date(2027, 1, 1) not in Month(2026, 12)
    assert sorted([Month(2027, 1), Month(2026, 12)]) == [Month(2026, 12), Month(2027, 1)]


@pytest.mark.parametrize("month, quarter, first, last, ends", [
    (Month(2027, 1), 1, Month(2027, 1), Month(2027, 3), False),
    (Month(2027, 3), 1, Month(2027, 1), Month(2027, 3), True),
    (Month(2027, 5), 2, Month(2027, 4), Month(2027, 6), False),
    (Month(2027, 12), 4, Month(2027, 10), Month(2027, 12), True),
])
def test_quarters(month, quarter, first, last, ends):
    assert (month.quarter, month.quarter_first, month.quarter_last, month.ends_quarter) == (quarter, first, last, ends)


@pytest.mark.parametrize("number, today, expected", [
    (12, date(2027, 1, 5), Month(2026, 12)),   # "12月" in January: last December
    (1, date(2027, 1, 5), Month(2027, 1)),
    (3, date(2027, 5, 5), Month(2027, 3)),
    (6, date(2027, 5, 5), Month(2026, 6)),     # a month not yet come: last year's
])
def test_the_month_n_yue_refers_to(number, today, expected):
    assert Month.referred(number, today) == expected


def test_in_january_staff_chase_and_progress_mean_last_december(wecom, county, standin, worker):
    county.clock.at = datetime(2026, 12, 2, 10, 17)
    published = wecom.say(ORG, "发布 年终专项 截止 2026-12-20 对象 ZB0001,ZB0002")
    number = re.search(r"已发布第(\d+)项", published).group(1)
    county.clock.at = datetime(2027, 1, 5, 10, 17)
    progress = wecom.say(ORG, f"进度 12月第{number}项")
    assert "「年终专项」" in progress and "未上报 2" in progress
    chased = wecom.say(ORG, f"催办 12月第{number}项")
    assert "已催办 2 个支部" in chased
    worker.drain()
    assert [r for r in standin.received() if "催办" in str(r["body"]) and "年终专项" in str(r["body"])]
    assert "没有13月" in wecom.say(ORG, "进度 13月第1项")


def test_a_quarter_is_read_labelled_and_spans_its_three_months():
    q = Quarter.iso("2027Q1")
    assert (str(q), q.label, q.first_day, q.end) == ("2027Q1", "2027年第一季度", date(2027, 1, 1), date(2027, 4, 1))
    assert q.months == (Month(2027, 1), Month(2027, 2), Month(2027, 3))
    q4 = Quarter.iso("2026q4")
    assert (q4.label, q4.end, q4.months[-1]) == ("2026年第四季度", date(2027, 1, 1), Month(2026, 12))
    assert Quarter.of(Month(2027, 6)) == Quarter(2027, 2) == Quarter.of(date(2027, 4, 1))
    for bad in ("2027Q5", "2027Q0", "2027-Q1", "27Q1", ""):
        with pytest.raises(ValueError):
            Quarter.iso(bad)
    with pytest.raises(OutOfRange):
        Quarter.iso("9999Q1")
