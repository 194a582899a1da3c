"""The digest's chart: a PNG of the weekly trend, drawn off-screen (matplotlib's Agg canvas, no display)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

# The object API with an explicit Agg canvas: no pyplot global state, safe in a scheduler thread, no display.
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def weekly_trend_png(
    series: Sequence[tuple[date, int, int]], *, title: str, announced_label: str, decided_label: str,
    date_format: str = "%d %b",
) -> bytes:
    """Bars of reviews announced and decisions made per week; the labels come from the template."""
    figure = Figure(figsize=(8, 3.2), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    positions = list(range(len(series)))
    width = 0.4
    axes.bar([p - width / 2 for p in positions], [s[1] for s in series], width, label=announced_label,
             color="#4a90d9")
    axes.bar([p + width / 2 for p in positions], [s[2] for s in series], width, label=decided_label,
             color="#2eb67d")
    axes.set_xticks(positions, [s[0].strftime(date_format) for s in series], fontsize=8)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_title(title, fontsize=11)
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(frameon=False, fontsize=8, loc="upper left")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
