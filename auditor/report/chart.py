"""The trend chart of the HTML report: drift and error counts over the kept runs, as inline
SVG built here (no script, no library, nothing fetched), with a title per point for hover.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

from auditor.model import TrendPoint

WIDTH, HEIGHT = 760, 250
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 28, 42
# Dates on the x axis are thinned to at most this many labels so they never overlap.
MAX_X_LABELS = 10


def trend_svg(points: Sequence[TrendPoint]) -> str:
    """An SVG line chart of drift (solid) and error (dashed) per run, oldest on the left."""
    top = _nice_top(max((max(p.drift, p.error) for p in points), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + (plot_w / 2 if len(points) == 1 else plot_w * i / (len(points) - 1))

    def y(value: int) -> float:
        return TOP + plot_h - plot_h * value / top

    parts = [(f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" '
              f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-labelledby="trend-title">'),
             f'<title id="trend-title">Drift and error counts over the last {len(points)} run(s)</title>']
    parts += _y_axis(top, y)
    parts += _x_axis(points, x)
    for series, css in (("drift", "drift"), ("error", "error")):
        coords = [(x(i), y(getattr(p, series))) for i, p in enumerate(points)]
        if len(coords) > 1:
            path = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords)
            parts.append(f'<polyline class="{css}-line" points="{path}"/>')
        for (cx, cy), p in zip(coords, points, strict=True):
            label = escape(f"{p.generated_at}: {p.drift} drift, {p.error} error, {p.waived} waived, {p.passed} pass")
            parts.append(f'<circle class="{css}-dot" cx="{cx:.1f}" cy="{cy:.1f}" r="3.5"><title>{label}</title></circle>')
    parts += _legend()
    parts.append("</svg>")
    return "\n".join(parts)


def _nice_top(value: int) -> int:
    """The smallest 1/2/5 x 10^n at or above the value (at least 5), for round tick labels."""
    if value <= 5:
        return 5
    magnitude: int = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _y_axis(top: int, y: Callable[[int], float]) -> list[str]:
    out = []
    for k in range(5):
        value = top * k // 4
        cy = y(value)
        out.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{cy:.1f}" y2="{cy:.1f}"/>')
        out.append(f'<text x="{LEFT - 6}" y="{cy + 4:.1f}" text-anchor="end">{value}</text>')
    out.append(f'<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{HEIGHT - BOTTOM}"/>')
    return out


def _x_axis(points: Sequence[TrendPoint], x: Callable[[int], float]) -> list[str]:
    base = HEIGHT - BOTTOM
    out = [f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{base}" y2="{base}"/>']
    step = max(1, math.ceil(len(points) / MAX_X_LABELS))
    shown = set(range(0, len(points), step)) | {len(points) - 1}
    for i in sorted(shown):
        if i != len(points) - 1 and len(points) - 1 - i < step:
            continue  # too close to the last label, which is always shown
        label = escape(points[i].generated_at[:10])
        # The outermost labels hang inwards, so none is cut off at the edge.
        anchor = "start" if i == 0 else "end" if i == len(points) - 1 else "middle"
        out.append(f'<text x="{x(i):.1f}" y="{base + 18}" text-anchor="{anchor}">{label}</text>')
    return out


def _legend() -> list[str]:
    y0 = 14
    return [
        f'<line class="drift-line" x1="{LEFT}" x2="{LEFT + 24}" y1="{y0}" y2="{y0}"/>',
        f'<text class="legend-text" x="{LEFT + 30}" y="{y0 + 4}">drift</text>',
        f'<line class="error-line" x1="{LEFT + 90}" x2="{LEFT + 114}" y1="{y0}" y2="{y0}"/>',
        f'<text class="legend-text" x="{LEFT + 120}" y="{y0 + 4}">error</text>',
    ]
