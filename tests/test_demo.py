"""The demo's three months: made through the chat handler, so the
workbench opens on late reports, returns and re-reports, corrections,
back-filled meetings, check-ins and a failed delivery."""
import json
import re

from bot.cli.demo import BAD_ROBOT, populate
from tests.workbench import Client, accounts, app  # noqa: F401


def test_the_demo_months_carry_every_mark(app, accounts):
    line = populate(accounts)
    counts = dict(part.split(" ") for part in line.split("，"))
    for what in ("上报", "逾期上报", "退回", "补报", "更正", "会议", "补记录", "签到"):
        assert int(counts[what]) > 0, line
    with accounts.sessions() as s:  # a meeting refused stops the demo; each recorded one is counted, by name
        from sqlalchemy import func, select

        from storage.models import Attendance, Meeting
        assert s.scalar(select(func.count()).select_from(Meeting)) == int(counts["会议"])
        assert s.scalar(select(func.count()).select_from(Attendance)) > 0
    client = Client(app, "s7001")
    overview = client.page("/dashboard/")
    assert "93000 invalid webhook url" in overview and f"org:{BAD_ROBOT[0]}" in overview
    trend = json.loads(re.search(r'id="overview-data">(.*?)</script>', overview, re.S)[1])["trend"]
    assert [t["done"] > 0 for t in trend[-3:]] == [True, True, True]
    cells = json.loads(re.search(r'id="matrix-data">(.*?)</script>', client.page("/dashboard/matrix?month=2026-10"),
                                 re.S)[1])["cells"]
    marks = "".join(c[4] for row in cells for c in row if c and len(c) > 1)
    states = {c[0] for row in cells for c in row if c}
    assert {"逾", "更"} <= set(marks) and {"r", "x"} <= states
    assert "补记录" in client.page("/dashboard/branches/ZB0004")
