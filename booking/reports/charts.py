"""Inline SVG charts: drawn on the server, so they need no script, no CDN and print sharply."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup, escape


@dataclass(frozen=True)
class Point:
    label: str
    application: Decimal
    acquisition: Decimal


def _fmt(value: float) -> str:
    return f"{value:.1f}"


def _svg_start(width: int, height: int, title: str) -> str:
    return (f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>')


def trend(points: Sequence[Point], *, title: str, width: int = 720, height: int = 260) -> Markup:
    """Application (solid red) and acquisition (dashed green) rates month by month, 0–100 %."""
    left, right, top, bottom = 44, 16, 14, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(points), 1)
    step = plot_w / max(n - 1, 1)

    def x(i: int) -> float:
        return left + (i * step if n > 1 else plot_w / 2)

    def y(rate: Decimal) -> float:
        return top + plot_h * (1 - float(rate) / 100)

    parts = [_svg_start(width, height, title)]
    for tick in range(0, 101, 20):
        ty = _fmt(y(Decimal(tick)))
        parts.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{ty}" y2="{ty}"/>')
        parts.append(f'<text x="{left - 6}" y="{ty}" text-anchor="end" dominant-baseline="middle">{tick}%</text>')
    parts.append(f'<line class="axis" x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}"/>')
    parts.append(f'<line class="axis" x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}"/>')
    every = max(1, round(n / 12))
    for i, point in enumerate(points):
        if i % every == 0 or i == n - 1:
            parts.append(f'<text x="{_fmt(x(i))}" y="{height - 12}" text-anchor="middle">{escape(point.label)}</text>')
    for attr, css in (("application", "app"), ("acquisition", "acq")):
        coords = " ".join(f"{_fmt(x(i))},{_fmt(y(getattr(p, attr)))}" for i, p in enumerate(points))
        if len(points) > 1:
            parts.append(f'<polyline class="line-{css}" points="{coords}"/>')
        for i, p in enumerate(points):
            parts.append(f'<circle class="dot-{css}" cx="{_fmt(x(i))}" cy="{_fmt(y(getattr(p, attr)))}" r="3.5"/>')
    if points:
        last = points[-1]
        lx = x(n - 1)
        for attr, dy in (("application", -8), ("acquisition", 14)):
            value = getattr(last, attr)
            parts.append(f'<text x="{_fmt(min(lx, width - right - 30))}" y="{_fmt(y(value) + dy)}" '
                         f'text-anchor="middle" font-weight="700">{value}%</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bars(rows: Sequence[tuple[str, Decimal, Decimal]], *, title: str, width: int = 720) -> Markup:
    """One bar per unit: application rate (light) with the acquisition rate (dark) inside it."""
    label_w, right, top, row_h = 170, 56, 22, 24
    plot_w = width - label_w - right
    height = top + row_h * max(len(rows), 1) + 8
    parts = [_svg_start(width, height, title)]
    for tick in range(0, 101, 25):
        tx = _fmt(label_w + plot_w * tick / 100)
        parts.append(f'<line class="grid" x1="{tx}" x2="{tx}" y1="{top - 4}" y2="{height - 8}"/>')
        parts.append(f'<text x="{tx}" y="{top - 8}" text-anchor="middle">{tick}%</text>')
    for i, (label, application, acquisition) in enumerate(rows):
        y0 = top + i * row_h
        parts.append(f'<text x="{label_w - 8}" y="{y0 + row_h / 2}" text-anchor="end" '
                     f'dominant-baseline="middle">{escape(label)}</text>')
        parts.append(f'<rect class="bar-app" x="{label_w}" y="{y0 + 3}" height="{row_h - 6}" '
                     f'width="{_fmt(plot_w * float(application) / 100)}"/>')
        parts.append(f'<rect class="bar-acq" x="{label_w}" y="{y0 + 8}" height="{row_h - 16}" '
                     f'width="{_fmt(plot_w * float(acquisition) / 100)}"/>')
        parts.append(f'<text x="{_fmt(label_w + plot_w * float(application) / 100 + 4)}" y="{y0 + row_h / 2}" '
                     f'dominant-baseline="middle" font-weight="700">{application}%</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class MonthCount:
    label: str
    cards: int
    certificates: int


def monthly_counts(months: Sequence[MonthCount], *, title: str, width: int = 720, height: int = 280) -> Markup:
    """Cards (dark) and certificates (light) expiring per month: a pair of bars per month, with
    the count above each non-zero bar so that the printed page reads without the axis."""
    left, right, top, bottom = 40, 12, 22, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(months), 1)
    highest = max([1, *(max(m.cards, m.certificates) for m in months)])
    # Four grid steps of a round size (1, 2, 5 × 10^k) that reach the highest month.
    tick_step, magnitude = 0, 1
    while not tick_step:
        tick_step = next((m * magnitude for m in (1, 2, 5) if 4 * m * magnitude >= highest), 0)
        magnitude *= 10
    scale = 4 * tick_step
    step = plot_w / n
    bar_w = max(2.0, step * 0.36)

    def y(value: int) -> float:
        return top + plot_h * (1 - value / scale)

    parts = [_svg_start(width, height, title)]
    for i in range(5):
        tick = tick_step * i
        ty = _fmt(y(tick))
        parts.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{ty}" y2="{ty}"/>')
        parts.append(f'<text x="{left - 6}" y="{ty}" text-anchor="end" dominant-baseline="middle">{tick}</text>')
    parts.append(f'<line class="axis" x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}"/>')
    for i, month in enumerate(months):
        x0 = left + i * step + (step - 2 * bar_w) / 2
        for offset, value, css in ((0.0, month.cards, "bar-card"), (bar_w, month.certificates, "bar-cert")):
            if value:
                parts.append(f'<rect class="{css}" x="{_fmt(x0 + offset)}" y="{_fmt(y(value))}" '
                             f'width="{_fmt(bar_w)}" height="{_fmt(top + plot_h - y(value))}"/>')
                parts.append(f'<text class="count" x="{_fmt(x0 + offset + bar_w / 2)}" y="{_fmt(y(value) - 4)}" '
                             f'text-anchor="middle">{value}</text>')
        label_x = _fmt(left + i * step + step / 2)
        year, _sep, month_no = month.label.partition("-")
        parts.append(f'<text x="{label_x}" y="{height - 24}" text-anchor="middle">{escape(month_no)}</text>')
        if i == 0 or month_no == "01":
            parts.append(f'<text x="{label_x}" y="{height - 8}" text-anchor="middle" font-weight="700">'
                         f'{escape(year)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
