"""Small rules several pushes share."""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from storage.workdays import is_workday


def every_workday(session: Session, today: date) -> str | None:
    """Due each working day, for that day."""
    return today.isoformat() if is_workday(today) else None


def monthly_from(day_of_month: int):
    """Due once a month, on the first working day from `day_of_month` on."""
    def due(session: Session, today: date) -> str | None:
        return f"{today:%Y-%m}" if is_workday(today) and today.day >= day_of_month else None
    return due
