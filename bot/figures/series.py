"""The digest chart's trend: week by week, what was announced and decided, the backlog and the SLA met.

Each week's figures are the digest's own (the same functions, as of that week's end), from one read of the
audit log that covers all the weeks.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.figures import due, metrics
from bot.figures.history import Log
from bot.figures.periods import midnight, period_for, shift_start
from bot.figures.window import Window, ratio


class Week(NamedTuple):
    """One week of the trend."""

    start: date
    announced: int
    decided: int
    backlog: int  # open at the week's end
    sla_met: int
    sla_due: int

    @property
    def sla_met_rate(self) -> float | None:
        """Share of the week's due dates met; None when nothing fell due."""
        return ratio(self.sla_met, self.sla_due)


def weekly_series(session: Session, workspace_id: str, *, end: datetime, tz: ZoneInfo, weeks: int = 12) -> list[Week]:
    """The `weeks` local weeks up to `end` (the last one ends there), oldest first."""
    last = period_for("week", now=end - timedelta(microseconds=1), tz=tz, which="this")
    starts = [shift_start("week", last.local_start(tz), -k) for k in range(weeks - 1, -1, -1)]
    log = Log(session, workspace_id, midnight(starts[0], tz))
    series = []
    for start in starts:
        w = Window(session, workspace_id, midnight(start, tz), min(midnight(start + timedelta(days=7), tz), end),
                   tz, log)
        dues = due.sla(w)
        series.append(Week(start, metrics.announced(w), sum(metrics.decided_by_outcome(w).values()),
                           len(due.open_at(w)), dues.met, dues.due))
    return series
