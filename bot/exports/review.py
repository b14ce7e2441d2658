"""The 述职评议 workbook: the summary (one row per branch and secretary)
and 依据 (every record the figures were counted from). Rows come from
handlers/render/review.py; the writer is the one every export uses."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from bot.exports.xlsx_stream import StreamingWorkbook
from handlers.render.review import SUMMARY_HEADERS, review_sheets
from storage.review import BranchReview

RATE_COLUMN = SUMMARY_HEADERS.index("按时完成率")


def write_review(reviews: list[BranchReview], path: str | Path, title: str, exported_at: datetime) -> list[str]:
    """Writes the workbook; returns its sheet names."""
    book = StreamingWorkbook(path, exported_at)
    summary, detail = review_sheets(reviews)
    names = [book.add_sheet(summary.title, summary.headers, [10, 30, 16, 10] + [10] * (len(summary.headers) - 4),
                            summary.rows, percent=(RATE_COLUMN,), caption=title),
             book.add_sheet(detail.title, detail.headers, (10, 8, 9, 40, 12, 10, 18, 10, 40, 30, 30), detail.rows,
                            mark_last=True, caption=f"{title} 依据")]
    book.close()
    return names
