"""What "today" is for overdue/upcoming questions.

Order: CARECITE_TODAY, else the data dir's recorded as-of date (the synthetic world is frozen at one,
so its gold answers never rot), else the real date.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import date

from sqlalchemy import Engine
from sqlmodel import Session

from carecite.records.tables import Meta
from carecite.settings import Settings

AS_OF_KEY = "as_of"


def today(settings: Settings, engine: Engine) -> date:
    return Clock(settings, engine).today()


class Clock:
    """``today`` for a long-lived process: the as-of date is read from SQL once, not per request.
    (Re-ingesting a different world into a running UI needs a restart to move its as-of date.)"""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self._as_of: date | None = None

    def today(self) -> date:
        if self.settings.today is not None:
            return self.settings.today
        if self._as_of is None:  # read until there is one: an empty data dir may be ingested later
            with Session(self.engine) as session:
                row = session.get(Meta, AS_OF_KEY)
            if row is not None:
                with suppress(ValueError):  # a malformed as-of falls back to the real date
                    self._as_of = date.fromisoformat(row.value)
        return self._as_of or date.today()
