"""What "today" is for overdue/upcoming questions.

Order: CARECITE_TODAY, else the data dir's recorded as-of date (the synthetic world is frozen at one,
so its gold answers never rot), else the real date.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine
from sqlmodel import Session

from carecite.records.tables import Meta
from carecite.settings import Settings

AS_OF_KEY = "as_of"


def today(settings: Settings, engine: Engine) -> date:
    if settings.today is not None:
        return settings.today
    with Session(engine) as session:
        row = session.get(Meta, AS_OF_KEY)
    if row is not None:
        try:
            return date.fromisoformat(row.value)
        except ValueError:
            pass
    return date.today()
