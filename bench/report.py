"""Turning the children's samples into the issue's figures: medians, ratios, targets, the
printed table and the JSON document."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

Check = Callable[[float, float | None], bool]


@dataclass(frozen=True)
class Target:
    """A target of the issue, as text and as a check of (ours, baseline) medians."""

    text: str
    check: Check


@dataclass
class Metric:
    """One line of the table: every sample of ours and of the baseline (in a table of
    encryption costs: of ours encrypted, and of ours on the plain file)."""

    key: str
    label: str
    unit: str
    ours: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    target: Target | None = None
    note: str = ""
    #: For each sample, the ms until the rows it shows were read (the rest is painting).
    ours_data: list[float] = field(default_factory=list)
    baseline_data: list[float] = field(default_factory=list)
    #: What ``ours`` and ``baseline`` are called in the results file.
    sides: tuple[str, str] = ("ours", "baseline")

    @property
    def ours_median(self) -> float | None:
        return _median(self.ours)

    @property
    def baseline_median(self) -> float | None:
        return _median(self.baseline)

    @property
    def ratio(self) -> float | None:
        """Ours / baseline, of the medians."""
        ours, baseline = self.ours_median, self.baseline_median
        if ours is None or not baseline:
            return None
        return ours / baseline

    @property
    def passed(self) -> bool | None:
        """Whether the target is met (None: no target, or no figure to check)."""
        if self.target is None or self.ours_median is None:
            return None
        try:
            return self.target.check(self.ours_median, self.baseline_median)
        except TypeError:  # the check needed a baseline figure that is missing
            return None

    def as_json(self) -> dict[str, Any]:
        """The metric with all its samples, for the results file."""

        def side(samples: list[float]) -> dict[str, Any] | None:
            median = _median(samples)
            return None if median is None else {"median": median, "samples": samples}

        first, second = self.sides
        return {
            "key": self.key,
            "label": self.label,
            "unit": self.unit,
            first: side(self.ours),
            second: side(self.baseline),
            "data_in_ms_median": {
                first: _median(self.ours_data),
                second: _median(self.baseline_data),
            },
            "ratio": None if self.ratio is None else round(self.ratio, 4),
            "target": self.target.text if self.target else None,
            "passed": self.passed,
            "note": self.note,
        }


def _median(samples: Sequence[float]) -> float | None:
    return round(statistics.median(samples), 2) if samples else None


def percentile(samples: Sequence[float], percent: float) -> float:
    """The ``percent``-th percentile (linear interpolation between the closest ranks)."""
    ordered = sorted(samples)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * percent / 100
    low, high = math.floor(rank), math.ceil(rank)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (rank - low), 2)


def ratio_at_most(limit: float, text: str) -> Target:
    """Ours / baseline must not exceed ``limit``."""
    return Target(text, lambda ours, baseline: baseline is not None and ours / baseline <= limit)


def below(limit: float, text: str) -> Target:
    """Ours must stay under ``limit`` (in the metric's unit)."""
    return Target(text, lambda ours, _baseline: ours < limit)


def both(first: Target, second: Target) -> Target:
    """Both targets at once."""
    return Target(
        f"{first.text} and {second.text}",
        lambda ours, baseline: first.check(ours, baseline) and second.check(ours, baseline),
    )


def _figure(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "ms" and value >= 10_000:
        return f"{value / 1000:,.1f} s"
    if unit == "s":
        return f"{value:,.1f} s"
    return f"{value:,.0f} {unit}" if value >= 100 else f"{value:,.1f} {unit}"


def _ratio(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if 0 < value < 1:
        less = "faster" if unit in ("ms", "s") else "less"
        return f"{value:.3f} ({1 / value:,.1f}x {less})"
    return f"{value:.2f}"


def _cost(ratio: float | None) -> str:
    return "-" if ratio is None else f"{(ratio - 1) * 100:+.1f} %"


def _verdict(passed: bool | None) -> str:
    return {True: "pass", False: "FAIL", None: ""}[passed]


HEADERS = ("Metric", "Ours", "Baseline", "Ours / baseline", "Target", "Met")
COST_HEADERS = ("Metric", "Ours, plain", "Ours, encrypted", "Cost", "Target", "Met")


def table_rows(metrics: Iterable[Metric], *, cost: bool = False) -> list[tuple[str, ...]]:
    """One row of text per metric, in the order of ``HEADERS``; with ``cost``, of
    ``COST_HEADERS`` (the baseline, ours plain, first; then ours encrypted, and the cost)."""
    rows: list[tuple[str, ...]] = []
    for metric in metrics:
        ours = _figure(metric.ours_median, metric.unit)
        baseline = _figure(metric.baseline_median, metric.unit)
        if cost:
            figures = (baseline, ours, _cost(metric.ratio))
        else:
            figures = (ours, baseline, _ratio(metric.ratio, metric.unit))
        target = metric.target.text if metric.target else ""
        rows.append((metric.label, *figures, target, _verdict(metric.passed)))
    return rows


def text_table(metrics: Iterable[Metric], *, cost: bool = False) -> str:
    """The table for a terminal (``cost``: of encryption costs)."""
    rows = [COST_HEADERS if cost else HEADERS, *table_rows(metrics, cost=cost)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    lines = []
    for number, row in enumerate(rows):
        cells = [
            cell.ljust(width) if i in (0, 4) else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def markdown_table(metrics: Iterable[Metric], *, cost: bool = False) -> str:
    """The table for the README (``cost``: of encryption costs)."""
    rows = table_rows(metrics, cost=cost)
    lines = [
        "| " + " | ".join(COST_HEADERS if cost else HEADERS) + " |",
        "|" + "|".join(("---", "--:", "--:", "--:", "---", ":-:")) + "|",
    ]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _split(total: float | None, data: float | None) -> str:
    if total is None or data is None:
        return "-"
    return f"{data:,.0f} + {max(0.0, total - data):,.0f} ms"


def split_table(metrics: Iterable[Metric]) -> str:
    """Where the time of each step goes, from the medians: until the rows shown were read
    (the step's own call, then the model's last change to them), then until painted."""
    rows = [("Where the time goes (medians)", "Ours: read + paint", "Baseline: read + paint")]
    rows += [
        (
            metric.label,
            _split(metric.ours_median, _median(metric.ours_data)),
            _split(metric.baseline_median, _median(metric.baseline_data)),
        )
        for metric in metrics
        if metric.ours_data or metric.baseline_data
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
