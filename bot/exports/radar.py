"""锋领考评 files: the workbook (scores + notes sheet, by the streaming
writer like every export) and one radar chart per member as PNG.

The charts are drawn by matplotlib with its Agg backend (no display, no
network: matplotlib never fetches anything; its font cache is built from
the fonts on this machine). A CJK font — Debian's fonts-noto-cjk, or any
other installed — labels them in Chinese; without one the axes fall back
to English and the title to branch code and member number, never boxes."""
from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from bot.exports.xlsx_stream import StreamingWorkbook
from handlers.render.radar import WIDTHS, chart_labels, chart_title, dimensions, sheets
from storage.month import Quarter
from storage.radar import RadarRules, Score

CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Serif CJK SC", "Source Han Sans SC",
                "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei", "PingFang SC")
_UNSAFE = re.compile(r'[\\/:*?"<>|\s]+')


def write_radar(quarter: Quarter, scores: Sequence[Score], rules: RadarRules, path: str | Path,
                exported_at: datetime) -> None:
    book = StreamingWorkbook(path, exported_at)
    score_sheet, notes = sheets(quarter, scores, rules)
    book.add_sheet(score_sheet.title, score_sheet.headers, WIDTHS, score_sheet.rows)
    book.add_sheet(notes.title, notes.headers, (14, 100), notes.rows)
    book.close()


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The family name of an installed CJK font, or None."""
    from matplotlib import font_manager
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((family for family in CJK_FAMILIES if family in installed), None)


def chart_name(score: Score) -> str:
    return f"{score.branch_code}-{score.member_id}-{_UNSAFE.sub('_', score.name)}.png"


def write_charts(quarter: Quarter, scores: Sequence[Score], folder: str | Path,
                 cjk: bool | None = None) -> list[Path]:
    """One PNG a member in `folder`; the paths written. `cjk`: None to use
    a CJK font when one is installed (False forces the plain labels)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    family = cjk_font() if cjk is not False else None
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    style = {"font.family": "sans-serif", "font.sans-serif": [family, "DejaVu Sans"] if family else ["DejaVu Sans"],
             "axes.unicode_minus": False}
    with plt.rc_context(style):
        fig = plt.figure(figsize=(4.8, 4.8), dpi=100)
        try:
            for score in scores:
                axes = dimensions(score)
                values = [score.scores[i] or 0 for i in axes]
                angles = np.linspace(0, 2 * np.pi, len(axes), endpoint=False).tolist()
                fig.clear()
                ax = fig.add_subplot(projection="polar")
                ax.set_theta_offset(np.pi / 2)
                ax.set_theta_direction(-1)
                ax.plot(angles + angles[:1], values + values[:1], color="#c00000", linewidth=1.5)
                ax.fill(angles + angles[:1], values + values[:1], color="#c00000", alpha=0.2)
                ax.set_xticks(angles)
                ax.set_xticklabels(chart_labels(score, family is not None), fontsize=9)
                ax.tick_params(axis="x", pad=10)
                ax.set_ylim(0, 100)
                ax.set_yticks([20, 40, 60, 80, 100])
                ax.set_yticklabels(["", "40", "", "80", ""], fontsize=7, color="#888888")
                ax.set_title(chart_title(score, quarter, family is not None), fontsize=10, pad=18)
                path = folder / chart_name(score)
                fig.savefig(path, format="png", bbox_inches="tight")
                written.append(path)
        finally:
            plt.close(fig)
    return written
