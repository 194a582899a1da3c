"""The digest's chart: a PNG of the 12-week trend, drawn off-screen (matplotlib's Agg canvas, no display).

Sized for Slack: 1200 × 600 pixels with letters of 18 pt and more (25 pixels), so the preview Slack shows in a
channel (about 500 pixels wide) still has letters of 10 pixels; the legend sits below the plot, never over the
bars.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

# The object API with an explicit Agg canvas: no pyplot global state, safe in a scheduler thread, no display.
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from bot.figures.series import Week

WIDTH, HEIGHT, DPI = 12, 6, 100  # inches at 100 dpi: 1200 × 600 pixels
FONT = 20
COLOURS = {"announced": "#4a90d9", "decided": "#2eb67d", "backlog": "#e8912d", "sla": "#7a4fbf"}


def weekly_trend_png(series: Sequence[Week], *, labels: Mapping[str, str], date_format: str = "%-d\n%b") -> bytes:
    """Bars of reviews announced and decided per week, the backlog at each week's end, and the SLA met (%).

    `labels` (from templates/digest_chart.json.j2): title, announced, decided, backlog, sla, count.
    """
    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    positions = list(range(len(series)))
    width = 0.38
    axes.bar([p - width / 2 for p in positions], [w.announced for w in series], width,
             label=labels["announced"], color=COLOURS["announced"])
    axes.bar([p + width / 2 for p in positions], [w.decided for w in series], width,
             label=labels["decided"], color=COLOURS["decided"])
    axes.plot(positions, [w.backlog for w in series], marker="o", linewidth=3, markersize=7,
              label=labels["backlog"], color=COLOURS["backlog"])
    # Each week by its Monday, day over month: twelve labels side by side at this size never overlap.
    axes.set_xticks(positions, [w.start.strftime(date_format) for w in series], fontsize=FONT - 2)
    axes.tick_params(axis="y", labelsize=FONT - 1)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylabel(labels["count"], fontsize=FONT)
    axes.set_ylim(bottom=0)
    axes.spines[["top"]].set_visible(False)
    rate = axes.twinx()
    points = [(p, w.sla_met_rate) for p, w in zip(positions, series, strict=True) if w.sla_met_rate is not None]
    rate.plot([p for p, _ in points], [r for _, r in points], marker="D", linestyle="--", linewidth=2.5,
              markersize=7, label=labels["sla"], color=COLOURS["sla"])
    rate.set_ylim(0, 1.05)
    rate.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    rate.tick_params(axis="y", labelsize=FONT - 1, colors=COLOURS["sla"])
    rate.spines[["top"]].set_visible(False)
    axes.set_title(labels["title"], fontsize=FONT + 3, pad=14)
    handles, names = axes.get_legend_handles_labels()
    more_handles, more_names = rate.get_legend_handles_labels()
    by_name = dict(zip(names + more_names, handles + more_handles, strict=True))
    order = [labels[k] for k in ("announced", "decided", "backlog", "sla") if labels[k] in by_name]
    # Below the plot, in one row, in the order the eye meets them: never over the first bars.
    figure.legend([by_name[n] for n in order], order, loc="lower center", ncol=4, frameon=False, fontsize=FONT - 2,
                  handlelength=1.5, columnspacing=1.2)
    figure.tight_layout(rect=(0, 0.09, 1, 1))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
