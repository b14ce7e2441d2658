"""Ledger export for 1,000 branches × 12 months: generates a year of
consistent activity — reports with their assignment rows (corrections,
returns, late ones, evidence), meetings and check-ins, as the bot would
leave them — then times the export (queries + .xlsx) in its own process.

    .venv/bin/python bench/ledger_bench.py [--branches 1000]
    .venv/bin/python bench/ledger_bench.py --compare [--rounds 3]

Goal (issue 7): ≤ 3 s on the 2-core machine.

--compare (issue 16) writes the same ledgers, in one process, with the
project's writer and with each maintained writer that is installed —
XlsxWriter (constant_memory), pyexcelerate, rustpy-xlsxwriter — each asked
for the same workbook as far as it can give it (dates with a format, counts
as numbers, red marks, frozen header, widths, landscape fit to width,
repeated header row, footer); rows rendered inside the timing, as in the
product. The best of --rounds runs of each, and its ratio to ours."""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import ROOT, prepare_county  # noqa: E402

EXPORTED_AT = datetime(2028, 1, 15, 9, 30)
NOTES = ("已按要求完成", "已召开会议并形成记录", "已组织学习", "已完成排查并上报名单", "已开展主题党日活动",
         "已完成，详见附件", "按计划推进中，已完成主要内容")
FOOTER = f"&L&A&C第 &P 页，共 &N 页&R导出于 {EXPORTED_AT:%Y-%m-%d %H:%M}"


def fill_year(db: str) -> None:
    """A year of activity, inserted in bulk. Every reported task has its
    assignment row (reported, or returned with a reason); about 8 % of the
    reports are corrected a day later (the first version superseded)."""
    from sqlalchemy import bindparam, insert, literal, select, update

    from storage.db import make_engine
    from storage.models import (Assignment, Attendance, CheckIn, Evidence, Meeting, Member, Organization, Report,
                                Study, Task, Volunteer)
    from storage.orgs import targets
    engine, rng = make_engine(db), random.Random(7)
    extra = random.Random(11)  # the member part's records: the rest of the year stays as it was
    with engine.begin() as conn:
        branches = conn.execute(select(Organization).where(Organization.type == "党支部")).all()
        tasks = conn.execute(select(Task).where(Task.month.like("2027-%"))).all()
        secretaries = dict(conn.execute(select(Member.org_id, Member.id).where(Member.role == "书记")).all())
        report_id = conn.execute(select(Report.id).order_by(Report.id.desc())).scalar() or 0
        reports, superseded, assignments, meetings, checkins = [], [], [], [], []
        volunteer, study = [], []
        for b in branches:
            who = secretaries[b.id]
            for t in tasks:
                if not (targets(t, b) and rng.random() < 0.9):
                    continue
                at = datetime.combine(t.deadline, datetime.min.time()) - timedelta(days=rng.randint(-3, 10), hours=-9)
                report_id += 1
                note = f"{rng.choice(NOTES)}，到会党员{rng.randint(5, 40)}人，{at:%m月%d日}"  # typed: rarely the same
                reports.append({"id": report_id, "task_id": t.id, "branch_id": b.id, "member_id": who, "kind": "done",
                                "note": note, "received_at": at})
                state, reason, updated, roll = "reported", None, at, rng.random()
                if roll < 0.08:  # corrected the next day
                    updated = at + timedelta(days=1, hours=2)
                    superseded.append({"old": report_id, "new": report_id + 1})
                    report_id += 1
                    reports.append({"id": report_id, "task_id": t.id, "branch_id": b.id, "member_id": who,
                                    "kind": "correction", "note": f"更正：{note}，补充照片", "received_at": updated})
                elif roll < 0.11:  # returned by the committee
                    state, reason, updated = "returned", "缺会议记录照片，请补充", at + timedelta(days=2)
                assignments.append({"task_id": t.id, "branch_id": b.id, "state": state, "return_reason": reason,
                                    "received_at": at, "updated_at": updated})
            for month in range(1, 13):
                for kind in ("支委会", "党小组会", "主题党日"):
                    held = date(2027, month, rng.randint(1, 28))
                    meetings.append({"branch_id": b.id, "kind": kind, "held_on": held, "attended": 7,
                                     "expected": 9, "note": rng.choice(("", "", f"学习{rng.randint(1, 20)}号文件")),
                                     "member_id": who,
                                     "received_at": datetime.combine(held, datetime.min.time()) + timedelta(days=rng.choice([0, 1, 9]))})
                checkins.append({"member_id": who, "day": date(2027, month, 5), "note": "", "received_at": datetime(2027, month, 5, 9)})
                # the member part (党员简历): the member's own records, as the bot leaves them
                served = {"member_id": who, "day": date(2027, month, 6), "received_at": datetime(2027, month, 6, 18)}
                volunteer.append({**served, "hours": extra.choice((1.0, 2.5, 4.0)), "note": "社区志愿服务"})
                study.append({**served, "content": f"学习{extra.randint(1, 20)}号文件"})
        conn.execute(insert(Report.__table__), reports)
        conn.execute(update(Report.__table__).where(Report.id == bindparam("old"))
                     .values(superseded_by=bindparam("new")), superseded)
        conn.execute(insert(Assignment.__table__), assignments)
        conn.execute(insert(Evidence.__table__), [{"report_id": r["id"], "media_id": f"m{r['id']}", "kind": "image",
                                                   "file_name": f"照片{r['id']}.jpg", "sha256": "ab" * 32,
                                                   "received_at": datetime(2027, 1, 1)} for r in reports[::4]])
        conn.execute(insert(Meeting.__table__), meetings)
        # every meeting's roll: its one member, present (the member part's biggest query)
        conn.execute(insert(Attendance.__table__).from_select(
            ["meeting_id", "member_id", "status"], select(Meeting.id, Meeting.member_id, literal("present"))))
        conn.execute(insert(Volunteer.__table__), volunteer)
        conn.execute(insert(Study.__table__), study)
        conn.execute(Member.__table__.update().values(is_mobile=True))
        conn.execute(insert(CheckIn.__table__), checkins)
    print(f"generated {len(reports):,} reports ({len(superseded):,} corrections), {len(assignments):,} assignments, "
          f"{len(meetings):,} meetings (each with its roll), {len(checkins):,} check-ins, "
          f"{len(volunteer):,} volunteer and {len(study):,} study records")


# ---- the maintained writers, each asked for the ledger workbook ---------------------------

def _sheets(ledgers, title):
    """(wanted name, headers, widths, rows, is a branch sheet) in order; rows rendered lazily."""
    from bot.exports.ledger import BRANCH_WIDTHS, MEMBER_WIDTHS, SUMMARY_WIDTHS
    from handlers.render.ledger import (HEADERS, MEMBER_HEADERS, MEMBER_SHEET, SUMMARY_HEADERS, SUMMARY_TITLE,
                                        ledger_rows, member_rows, summary_rows)
    yield SUMMARY_TITLE, SUMMARY_HEADERS, SUMMARY_WIDTHS, summary_rows(ledgers, title), False
    for lg in ledgers:  # the member sheet has its dates and times in the same columns as the branch's
        yield f"{lg.branch.code} {lg.branch.name}", HEADERS, BRANCH_WIDTHS, ledger_rows(lg), True
        yield f"{MEMBER_SHEET} {lg.branch.code}", MEMBER_HEADERS, MEMBER_WIDTHS, member_rows(lg), True


def write_xlsxwriter(ledgers, path, title):
    import xlsxwriter

    from bot.exports.xlsx_stream import SheetNames
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                           "strings_to_formulas": False, "strings_to_urls": False})
    header = book.add_format({"bold": True, "bg_color": "#DDEBF7"})
    red, red_q = book.add_format({"font_color": "#C00000"}), book.add_format({"font_color": "#C00000", "quote_prefix": True})
    quoted = book.add_format({"quote_prefix": True})
    day, moment = book.add_format({"num_format": "yyyy-mm-dd"}), book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    count = book.add_format({"num_format": "0"})
    names = SheetNames()
    for wanted, headers, widths, rows, branch in _sheets(ledgers, title):
        ws = book.add_worksheet(names.name(wanted))
        for i, w in enumerate(widths):
            ws.set_column(i, i, w)
        ws.freeze_panes(1, 0)
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0)
        ws.set_footer(FOOTER)
        ws.write_row(0, 0, headers, header)
        for r, row in enumerate(rows, 1):
            last = len(row) - 1
            for c, v in enumerate(row):
                kind = type(v)
                if kind is str:
                    if v:
                        mark = branch and c == last
                        fmt = (red_q if mark else quoted) if v[0] in "=+-@" else (red if mark else None)
                        ws.write_string(r, c, v, fmt)
                elif kind is datetime:
                    ws.write_datetime(r, c, v, moment)
                elif kind is date:
                    ws.write_datetime(r, c, v, day)
                elif kind is int:
                    ws.write_number(r, c, v, count)
    book.close()


def write_pyexcelerate(ledgers, path, title):
    """No page set-up, print titles or footers in pyexcelerate: written without them."""
    from pyexcelerate import Color, DataTypes, Font, Format, Panes, Style, Workbook

    from bot.exports.xlsx_stream import SheetNames
    book, names = Workbook(), SheetNames()
    text = DataTypes.DataTypes.INLINE_STRING  # else a value starting with "=" is written as a formula
    for wanted, headers, widths, rows, branch in _sheets(ledgers, title):
        ws = book.new_sheet(names.name(wanted), data=[headers, *rows])
        ws.panes = Panes(y=1)
        for i, w in enumerate(widths, 1):
            fmt = {3: "yyyy-mm-dd", 5: "yyyy-mm-dd hh:mm"}.get(i - 1) if branch else "0" if i > 2 else None
            ws.set_col_style(i, Style(size=w, format=Format(fmt) if fmt else None,
                                      data_type=None if fmt else text))
        if branch:
            ws.set_col_style(len(widths), Style(size=widths[-1], font=Font(color=Color(192, 0, 0)), data_type=text))
        ws.set_row_style(1, Style(font=Font(bold=True)))
    book.save(str(path))


def write_rustpy(ledgers, path, title):
    """rustpy-xlsxwriter takes records (dicts) and styles by column only: the
    mark column is red throughout and every text cell gets the quote prefix."""
    from rustpy_xlsxwriter import FastExcel, Format

    from bot.exports.xlsx_stream import _ILLEGAL, SheetNames
    names, book = SheetNames(), FastExcel(str(path)).freeze(row=1)
    page = {"landscape": True, "paper_size": 9, "fit_to_pages": (1, 0), "repeat_rows": 0, "footer": FOOTER}
    header = Format().set_bold().set_background_color("#DDEBF7")
    day, moment = Format().set_num_format("yyyy-mm-dd"), Format().set_num_format("yyyy-mm-dd hh:mm")
    count, text = Format().set_num_format("0"), Format().set_quote_prefix()
    mark = Format().set_font_color("#C00000").set_quote_prefix()
    branch_formats = [text, text, text, day, text, moment, text, text, text, mark]
    summary_formats = [text, text] + [count] * 8
    clean = _ILLEGAL.sub  # it writes a control character as _xHHHH_; ours removes them, as asked

    def records(headers, rows):
        for row in rows:
            yield {h: clean("", v) if type(v) is str else v for h, v in zip(headers, row)}

    for wanted, headers, widths, rows, branch in _sheets(ledgers, title):
        book.sheet(names.name(wanted), records(headers, rows), column_widths=list(widths),
                   column_formats=branch_formats if branch else summary_formats, header_format=header,
                   page_setup=page)
    book.save()


def write_ours(ledgers, path, title):
    from bot.exports.ledger import write_ledger
    write_ledger(ledgers, path, title, EXPORTED_AT)


WRITERS = {"ours (xlsx_stream)": (write_ours, None), "XlsxWriter": (write_xlsxwriter, "xlsxwriter"),
           "pyexcelerate": (write_pyexcelerate, "pyexcelerate"), "rustpy-xlsxwriter": (write_rustpy, "rustpy_xlsxwriter")}


def child(root: str, db: str, out: str, mode: str, rounds: int) -> None:
    """Runs in its own process: the export's figures as one JSON line."""
    import importlib.metadata
    import importlib.util
    import resource

    from storage.db import make_engine, session_factory
    from storage.ledger import build_ledgers
    from storage.month import Month
    from storage.orgs import active_branches
    sessions = session_factory(make_engine(db))
    t0, c0 = time.perf_counter(), time.process_time()
    with sessions() as s:
        ledgers = build_ledgers(s, active_branches(s), Month(2027, 1), Month(2027, 12), date(2028, 1, 15))
    t_query = time.perf_counter() - t0
    figures: dict = {"query_s": t_query}
    if mode == "export":
        write_ours(ledgers, out, "bench")
        figures["total_s"], figures["cpu_s"] = time.perf_counter() - t0, time.process_time() - c0
    else:
        best: dict[str, list[float]] = {}
        for _ in range(rounds):
            for name, (write, module) in WRITERS.items():
                if module and importlib.util.find_spec(module) is None:
                    continue
                path = f"{out}.{module or 'ours'}.xlsx"
                w0, c0 = time.perf_counter(), time.process_time()
                write(ledgers, path, "bench")
                wall, cpu = time.perf_counter() - w0, time.process_time() - c0
                old = best.get(name)
                best[name] = [min(wall, old[0]) if old else wall, min(cpu, old[1]) if old else cpu,
                              Path(path).stat().st_size / 1e6,
                              importlib.metadata.version(module) if module else ""]
        figures["writers"] = best
    from handlers.render.ledger import ledger_rows, member_rows  # counted after the clock stops
    figures.update(rows=sum(len(ledger_rows(lg)) for lg in ledgers),
                   member_rows=sum(len(member_rows(lg)) for lg in ledgers), sheets=2 * len(ledgers) + 1,
                   due=sum(lg.tasks_due for lg in ledgers), reported=sum(lg.reported for lg in ledgers),
                   rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(figures))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--branches", type=int, default=1000)
    parser.add_argument("--compare", action="store_true", help="time the maintained writers against ours")
    parser.add_argument("--rounds", type=int, default=3, help="with --compare: runs of each writer, best kept")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = prepare_county(tmp, args.branches, "ledger")
        fill_year(db)
        code = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); from bench.ledger_bench import child; "
                f"child({str(ROOT)!r}, {db!r}, {tmp + '/ledger.xlsx'!r}, "
                f"{'compare' if args.compare else 'export'!r}, {args.rounds})")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        size = Path(f"{tmp}/ledger.xlsx").stat().st_size / 1e6 if not args.compare else 0
    print(f"branches × months:   {args.branches:,} × 12")
    print(f"ledger rows:         {r['rows']:,} + {r['member_rows']:,} in the members' sheets (党员简历), "
          f"{r['sheets']:,} sheets; reported {r['reported']:,} of {r['due']:,} due")
    print(f"queries:             {r['query_s']:.2f} s")
    if args.compare:
        ours = r["writers"]["ours (xlsx_stream)"]
        print(f"writers (best of {args.rounds}, rows rendered inside; wall / CPU, each with its ratio to ours):")
        for name, (wall, cpu, mb, version) in r["writers"].items():
            print(f"  {name + ' ' + version:28} {wall:6.2f} s {wall / ours[0]:4.1f}×  /  {cpu:6.2f} s "
                  f"{cpu / ours[1]:4.1f}×  {mb:5.1f} MB")
    else:
        print(f"total (with .xlsx):  {r['total_s']:.2f} s, CPU {r['cpu_s']:.2f} s ({size:.1f} MB)")
    print(f"peak RSS:            {r['rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
