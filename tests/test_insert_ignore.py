"""INSERT … skip duplicates says how many rows were new, on every database:
the scheduler's "once" (job_runs) and the outbox's counts read it. On
PostgreSQL psycopg's executemany gives no row count (-1), which made every
job run look taken: the daily run queued nothing there."""
from datetime import datetime

from sqlalchemy import func, select

from storage.db import transaction
from storage.jobs import claim_run
from storage.models import Delivery
from storage.outbox import Message, enqueue
from tests.conftest import make_runtime

AT = datetime(2026, 12, 1, 9, 5)


def test_claim_run_and_enqueue_count_new_rows(any_db_url, tmp_path):
    rt = make_runtime(any_db_url, tmp_path)
    messages = [Message(f"org:ZB{n:04d}", "monthly-sheet", "2026-12", "提醒单") for n in range(3)]
    with transaction(rt.sessions) as s:
        assert claim_run(s, "monthly-sheet", "2026-12", AT) is True
        assert claim_run(s, "monthly-sheet", "2026-12", AT) is False
        assert enqueue(s, messages[:2], AT) == 2
        assert enqueue(s, messages, AT) == 1
        assert s.scalar(select(func.count()).select_from(Delivery)) == 3
    rt.engine.dispose()
