"""Charts drawn by the app itself: small server-rendered SVG, no JavaScript, Chinese labels.

Each function returns markup ready to put in a page (every text is escaped here). The charts
carry a <title> and an aria-label, and the page shows the same figures as a table beside them;
``described_by`` names the caption that points to that table (aria-describedby).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

BAR = "#1f5f99"
ACCENT = "#b8322a"
GRID = "#d8dee6"
TEXT = "#27313b"
FONT = "font-family=\"system-ui, 'PingFang SC', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif\""


def _fmt_percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def _fmt_number(value: float) -> str:
    return f"{value:g}" if value != int(value) else f"{int(value)}"


def _text_width(text: str, size: float) -> float:
    """Rough width: CJK characters are square, others about half."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.55 for ch in text)


def _open(width: float, height: float, title: str, css_class: str, described_by: str | None) -> str:
    t = escape(title)
    # The figures behind a chart are in a table on the page; the note naming it describes it.
    described = f' aria-describedby="{escape(described_by)}"' if described_by else ""
    return (
        f'<svg class="chart {css_class}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="{t}"{described} viewBox="0 0 {width:.0f} {height:.0f}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" {FONT}><title>{t}</title>'
    )


def bar_chart(
    items: Sequence[tuple[str, float | None]],
    *,
    title: str,
    percent: bool = False,
    width: int = 640,
    color: str = BAR,
    described_by: str | None = None,
) -> Markup:
    """Horizontal bars, one per labelled value (a bureau, an issue type); None is '—'."""
    fmt: Callable[[float], str] = _fmt_percent if percent else _fmt_number
    row, size = 26, 13
    label_w = min(max((_text_width(label, size) for label, _v in items), default=40) + 12, 220)
    value_w = 64
    plot_w = width - label_w - value_w
    top = 8
    height = top + row * max(len(items), 1) + 8
    top_value = 1.0 if percent else max((v or 0 for _l, v in items), default=0) or 1
    parts = [_open(width, height, title, "bars", described_by)]
    if not items:
        parts.append(
            f'<text x="{width / 2:.0f}" y="{height / 2 + 4:.0f}" text-anchor="middle" '
            f'font-size="{size}" fill="{TEXT}">暂无数据</text>'
        )
    for i, (label, value) in enumerate(items):
        y = top + i * row
        bar = 0 if value is None else plot_w * max(value, 0) / top_value
        parts.append(
            f'<text x="{label_w - 8:.0f}" y="{y + 17}" text-anchor="end" font-size="{size}" '
            f'fill="{TEXT}">{escape(label)}</text>'
            f'<rect x="{label_w:.0f}" y="{y + 5}" width="{plot_w:.0f}" height="16" fill="#eef2f6"/>'
            f'<rect x="{label_w:.0f}" y="{y + 5}" width="{bar:.1f}" height="16" fill="{color}"/>'
            f'<text x="{label_w + plot_w + 6:.0f}" y="{y + 17}" font-size="{size}" '
            f'fill="{TEXT}">{"—" if value is None else escape(fmt(value))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(
    points: Sequence[tuple[str, float | None]],
    *,
    title: str,
    percent: bool = False,
    width: int = 640,
    height: int = 220,
    color: str = BAR,
    described_by: str | None = None,
) -> Markup:
    """A trend line over periods (weeks or months); gaps where a value is None."""
    fmt: Callable[[float], str] = _fmt_percent if percent else _fmt_number
    left, right, top, bottom = 52, 30, 14, 40  # room for half the last period's label
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _k, v in points if v is not None]
    top_value = 1.0 if percent else _nice(max(values, default=0))
    if not percent and top_value <= 40:
        top_value = max(4, math.ceil(top_value / 4) * 4)  # whole numbers on the four grid lines
    parts = [_open(width, height, title, "line", described_by)]
    for i in range(5):  # horizontal grid with values
        v = top_value * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="{TEXT}">{escape(fmt(v))}</text>'
        )
    n = len(points)
    step = plot_w / max(n - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + (i * step if n > 1 else plot_w / 2), top + plot_h - plot_h * v / top_value

    path: list[str] = []
    for i, (_key, value) in enumerate(points):
        if value is None:
            if path:
                parts.append(_polyline(path, color))
            path = []
            continue
        x, y = xy(i, value)
        path.append(f"{x:.1f},{y:.1f}")
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}">'
            f"<title>{escape(points[i][0])}：{escape(fmt(value))}</title></circle>"
        )
    if path:
        parts.append(_polyline(path, color))
    every = max(1, -(-n // 8))  # at most about eight labels on the axis
    for i, (key, _v) in enumerate(points):
        if i % every and i != n - 1:
            continue
        x = xy(i, 0)[0]
        parts.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 18}" text-anchor="middle" font-size="11" '
            f'fill="{TEXT}">{escape(key)}</text>'
        )
    if not values:
        parts.append(
            f'<text x="{left + plot_w / 2:.0f}" y="{top + plot_h / 2:.0f}" text-anchor="middle" '
            f'font-size="13" fill="{TEXT}">暂无数据</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _polyline(points: list[str], color: str) -> str:
    return (
        f'<polyline points="{" ".join(points)}" fill="none" stroke="{color}" '
        'stroke-width="2" stroke-linejoin="round"/>'
    )


def _nice(value: float) -> float:
    """A round axis maximum at or above ``value``."""
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for m in (1, 2, 2.5, 5, 10):
        if value <= m * magnitude:
            return m * magnitude
    return 10 * magnitude
