"""A calendar month, the period most of 支部通 runs on. One type for every
layer, instead of slicing "YYYY-MM" strings: parse what people and
operators write, label it as a secretary reads it, and step through months
and quarters across year ends. Stored in the database as "YYYY-MM"
(`str(month)`).

The years 支部通 works in are bounded here, once (FIRST_YEAR–LAST_YEAR):
every month and every date a person or an operator writes (a meeting's
day, a deadline, `--month`, `?month=`) is read by this module, so year 0000
or 9999 is refused where it is read, with one clear reason, instead of
failing deep inside (`date(10000, 1, 1)`) or being stored as
"距会议 739949 天"."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_ISO = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")  # how operators write a month: 2027-03
_LOOSE = re.compile(r"([0-9]{4})\s*[-./年]\s*([0-9]{1,2})\s*月?")  # 2027-3, 2027.03, 2027年3月
# A day as people write it: 2027-03-05, 2027/3/5, 2027.3.5, 2027年3月5日. ASCII
# digits only (`\d` would also read Arabic-Indic ones): what is read is what was written.
_DAY = re.compile(r"([0-9]{4})\s*[-./年]\s*([0-9]{1,2})\s*[-./月]\s*([0-9]{1,2})\s*日?")
FIRST_YEAR, LAST_YEAR = 2000, 2100  # no task, meeting or deadline of a branch lies outside


class OutOfRange(ValueError):
    """A real calendar date or month, but outside FIRST_YEAR–LAST_YEAR."""


def check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise OutOfRange(f"year {year} is outside {FIRST_YEAR}–{LAST_YEAR}")


def parse_day(text: str) -> date:
    """A day as people write it (see _DAY); ValueError if it is not one,
    OutOfRange (a ValueError) if its year is outside the range."""
    match = _DAY.fullmatch((text or "").strip())
    if not match:
        raise ValueError(f"“{text}” is not a date")
    year, month, day = (int(g) for g in match.groups())
    check_year(year)
    return date(year, month, day)  # ValueError for 2027-02-30


@dataclass(frozen=True, order=True)
class Month:
    year: int
    number: int  # 1–12

    def __post_init__(self) -> None:
        if not 1 <= self.number <= 12:
            raise ValueError(f"month {self.number} is not 1–12")
        check_year(self.year)

    # ---- making one -------------------------------------------------
    @classmethod
    def of(cls, day: date) -> "Month":
        return cls(day.year, day.month)

    @classmethod
    def iso(cls, text: str) -> "Month":
        """Exactly "YYYY-MM" (operators, URLs, the database); ValueError otherwise."""
        match = _ISO.fullmatch(text or "")
        if not match:
            raise ValueError(f"“{text}” is not YYYY-MM")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def parse(cls, text: str) -> "Month | None":
        """What people write: "2027-03", "2027.3", "2027年3月"; None if it is no month."""
        match = _LOOSE.fullmatch((text or "").strip())
        if not match:
            return None
        try:
            return cls(int(match.group(1)), int(match.group(2)))
        except ValueError:  # 2027-13, 0000-01
            return None

    @classmethod
    def referred(cls, number: int, today: date) -> "Month":
        """The month "N月" means on `today`: the latest one not after this
        month — "12月" in January is last December, "3月" in May this March."""
        return cls(today.year if number <= today.month else today.year - 1, number)

    # ---- showing it -------------------------------------------------
    def __str__(self) -> str:
        return f"{self.year}-{self.number:02d}"

    @property
    def label(self) -> str:
        """2027年3月"""
        return f"{self.year}年{self.number}月"

    @property
    def short(self) -> str:
        """3月"""
        return f"{self.number}月"

    def item_label(self, number: int, current: "Month | None" = None) -> str:
        """第2项 in the current month, 3月第2项 for any other."""
        return f"第{number}项" if self == current else f"{self.short}第{number}项"

    # ---- stepping ---------------------------------------------------
    def shift(self, months: int) -> "Month":
        index = self.year * 12 + self.number - 1 + months
        return Month(index // 12, index % 12 + 1)

    def next(self) -> "Month":
        return self.shift(1)

    def previous(self) -> "Month":
        return self.shift(-1)

    @property
    def first_day(self) -> date:
        return date(self.year, self.number, 1)

    @property
    def end(self) -> date:
        """The first day after the month (ranges are [first_day, end)); a
        date, not a Month, so that the last month of the range has one."""
        return date(self.year + 1, 1, 1) if self.number == 12 else date(self.year, self.number + 1, 1)

    @property
    def january(self) -> "Month":
        return Month(self.year, 1)

    # ---- quarters ---------------------------------------------------
    @property
    def quarter(self) -> int:
        return (self.number - 1) // 3 + 1

    @property
    def quarter_first(self) -> "Month":
        return Month(self.year, (self.quarter - 1) * 3 + 1)

    @property
    def quarter_last(self) -> "Month":
        return self.quarter_first.shift(2)

    @property
    def ends_quarter(self) -> bool:
        return self.number % 3 == 0

    def __contains__(self, day: date) -> bool:
        return self.first_day <= day < self.end

    @property
    def months(self) -> tuple["Month", ...]:
        """The months of this period (itself): a Month is a period as a Quarter and a Year are."""
        return (self,)


def span(first: Month, last: Month) -> tuple[date, date]:
    """[first day of `first`, first day after `last`)."""
    return first.first_day, last.end


_QUARTER = re.compile(r"([0-9]{4})[Qq]([1-4])")
_QUARTER_NAMES = "一二三四"


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter, the period of 锋领考评 (the radar). Written and
    stored as "2027Q1"."""
    year: int
    number: int  # 1–4

    def __post_init__(self) -> None:
        if not 1 <= self.number <= 4:
            raise ValueError(f"quarter {self.number} is not 1–4")
        check_year(self.year)

    @classmethod
    def iso(cls, text: str) -> "Quarter":
        """Exactly "YYYYQn" (operators, the database); ValueError otherwise."""
        match = _QUARTER.fullmatch((text or "").strip())
        if not match:
            raise ValueError(f"“{text}” is not YYYYQn")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, month: "Month | date") -> "Quarter":
        number = month.number if isinstance(month, Month) else month.month
        return cls(month.year, (number - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def label(self) -> str:
        """2027年第一季度"""
        return f"{self.year}年第{_QUARTER_NAMES[self.number - 1]}季度"

    @property
    def months(self) -> tuple[Month, Month, Month]:
        first = Month(self.year, self.number * 3 - 2)
        return first, first.next(), first.shift(2)

    @property
    def first_day(self) -> date:
        return self.months[0].first_day

    @property
    def end(self) -> date:
        """The first day after the quarter: [first_day, end)."""
        return self.months[2].end


_YEAR = re.compile(r"([0-9]{4})")


@dataclass(frozen=True, order=True)
class Year:
    """A calendar year: the period of the yearly bulletin and of 述职评议.
    Written and stored as "2027"."""
    year: int

    def __post_init__(self) -> None:
        check_year(self.year)

    @classmethod
    def iso(cls, text: str) -> "Year":
        """Exactly "YYYY"; ValueError otherwise."""
        match = _YEAR.fullmatch((text or "").strip())
        if not match:
            raise ValueError(f"“{text}” is not YYYY")
        return cls(int(match.group(1)))

    def __str__(self) -> str:
        return str(self.year)

    @property
    def label(self) -> str:
        """2027年"""
        return f"{self.year}年"

    @property
    def months(self) -> tuple[Month, ...]:
        return tuple(Month(self.year, n) for n in range(1, 13))

    @property
    def first_day(self) -> date:
        return date(self.year, 1, 1)

    @property
    def end(self) -> date:
        return date(self.year + 1, 1, 1)


Period = Month | Quarter | Year  # what a bulletin covers
