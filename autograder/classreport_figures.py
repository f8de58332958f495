"""Figures of the class report: matplotlib drawn straight to PNG (no pyplot, no global state).

Fixed margins and a few fixed ticks, no layout engine: building axes and
ticks is most of matplotlib's cost, and a report draws some 27 figures. Every
label that came from a results.json is drawn with math parsing off.
"""
from __future__ import annotations

import base64
import io

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

MISTAKES_IN_FIGURE = 12


def png_base64(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return base64.b64encode(buf.getvalue()).decode("ascii")


class HistogramCanvas:
    """One figure redrawn for each histogram of a page section.

    Fixed margins and a few fixed ticks, no layout engine: building axes and ticks
    is most of matplotlib's cost, so the figure is made once and only its data,
    limits, ticks and labels change from one histogram to the next.
    """

    def __init__(self, size=(5.6, 1.9), title=True):
        width, height = size
        self.fig = Figure(figsize=size)
        self.fig.subplots_adjust(left=0.9 / width, right=1 - 0.25 / width, bottom=0.5 / height,
                                 top=1 - (0.3 if title else 0.12) / height)
        self.ax = self.fig.add_subplot()
        self.ax.set_ylabel("submissions", fontsize=9)
        self.ax.tick_params(labelsize=8)
        self.bars = None

    def png(self, hist, xlabel, title=""):
        ax, edges, counts = self.ax, hist["edges"], hist["counts"]
        if self.bars is not None:
            self.bars.remove()
        self.bars = ax.stairs(counts, edges, fill=True, color="#3b6ea5")
        top = max(counts) if counts else 0
        ax.set_xlim(edges[0], edges[-1])
        ax.set_ylim(0, max(top, 1) * 1.06)
        ax.set_xticks([x for x in MaxNLocator(5).tick_values(edges[0], edges[-1]) if edges[0] <= x <= edges[-1]])
        ax.set_yticks(sorted({0, top // 2, top}) if top >= 2 else [0, 1])
        ax.set_xlabel(xlabel, fontsize=9)
        ax.set_title(title, fontsize=10, parse_math=False)
        return png_base64(self.fig)


def mistakes_png(rows, graded):
    rows = rows[:MISTAKES_IN_FIGURE][::-1]
    labels = [short(f"{r['title']} ({r['exercise']})", 70) for r in rows]
    width, height = 7.5, 0.9 + 0.32 * len(rows)
    fig = Figure(figsize=(width, height))  # margins from the longest label (8 pt: ~0.06 in a character)
    fig.subplots_adjust(left=min(0.62, (0.25 + 0.06 * max(map(len, labels))) / width), right=0.97,
                        bottom=0.5 / height, top=1 - 0.3 / height)
    ax = fig.add_subplot()
    ax.barh(range(len(rows)), [r["count"] for r in rows], color="#a5513b")
    ax.set_yticks(range(len(rows)), labels=labels)
    for label in ax.get_yticklabels():
        label.set_parse_math(False)
    ax.set_xlabel(f"submissions (of {graded} graded)", fontsize=9)
    ax.set_title("Most common mistakes", fontsize=10)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.tick_params(labelsize=8)
    return png_base64(fig)


def items_png(rows, thresholds):
    fig = Figure(figsize=(6.4, 3.0))
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.16, top=0.9)
    ax = fig.add_subplot()
    flagged = [bool(r["flags"]) and r["flags"] != ["nearly no one fails"] for r in rows]
    for mark, colour, label in ((False, "#3b6ea5", "check"), (True, "#c0392b", "flagged to look at")):
        pts = [r for r, f in zip(rows, flagged) if f == mark]
        if pts:
            ax.scatter([r["difficulty"] for r in pts], [r["discrimination"] for r in pts], s=14, c=colour,
                       alpha=0.75, label=label)
    ax.axhline(0.0, color="#555", lw=0.8, ls="--")
    ax.axhline(thresholds["negative_discrimination"], color="#c0392b", lw=0.6, ls=":")
    ax.set_xlim(-0.03, 1.03)
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlabel("difficulty (mean fraction of the check's points earned)", fontsize=9)
    ax.set_ylabel("discrimination", fontsize=9)
    ax.set_title("Item statistics: one dot per check", fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    ax.tick_params(labelsize=8)
    return png_base64(fig)


def short(text, limit):
    return text if len(text) <= limit else text[:limit - 1] + "…"
