"""Charts drawn by the app itself: small server-rendered SVG, no JavaScript, Chinese labels.

Each function returns markup ready to put in a page (every text is escaped here). The charts
carry a <title> and an aria-label, and the page shows the same figures as a table beside them;
``described_by`` names the caption that points to that table (aria-describedby).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

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


def _open(height: float, title: str, css_class: str, described_by: str | None) -> str:
    t = escape(title)
    # The figures behind a chart are in a table on the page; the note naming it describes it.
    described = f' aria-describedby="{escape(described_by)}"' if described_by else ""
    # No viewBox: the chart is as wide as its column and its text keeps its size (a 640-wide
    # drawing scaled into a 390 px phone made 13 px labels 7 px). Across, positions are
    # percentages of the width; down, pixels.
    return (
        f'<svg class="chart {css_class}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="{t}"{described} width="100%" height="{height:.0f}" '
        f'style="height:{height:.0f}px" {FONT}><title>{t}</title>'
    )


def bar_chart(
    items: Sequence[tuple[str, float | None]],
    *,
    title: str,
    percent: bool = False,
    color: str = BAR,
    described_by: str | None = None,
) -> Markup:
    """Horizontal bars, one per labelled value (a bureau, an issue type); None is '—'. Each
    label and its value sit on one line above the bar, so a long name never squeezes the bar
    and a phone shows the text at its size."""
    fmt: Callable[[float], str] = _fmt_percent if percent else _fmt_number
    row, size = 38, 14
    top = 4
    height = top + row * max(len(items), 1) + 4
    top_value = 1.0 if percent else max((v or 0 for _l, v in items), default=0) or 1
    parts = [_open(height, title, "bars", described_by)]
    if not items:
        parts.append(
            f'<text x="50%" y="{height / 2 + 4:.0f}" text-anchor="middle" '
            f'font-size="{size}" fill="{TEXT}">暂无数据</text>'
        )
    for i, (label, value) in enumerate(items):
        y = top + i * row
        share = 0.0 if value is None else 100 * min(max(value, 0) / top_value, 1.0)
        parts.append(
            f'<text x="0" y="{y + 15}" font-size="{size}" fill="{TEXT}">{escape(label)}</text>'
            f'<text x="100%" y="{y + 15}" text-anchor="end" font-size="{size}" '
            f'font-weight="600" fill="{TEXT}">{"—" if value is None else escape(fmt(value))}</text>'
            f'<rect x="0" y="{y + 21}" width="100%" height="12" fill="#eef2f6"/>'
            f'<rect x="0" y="{y + 21}" width="{share:.2f}%" height="12" fill="{color}"/>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(
    points: Sequence[tuple[str, float | None]],
    *,
    title: str,
    percent: bool = False,
    height: int = 220,
    color: str = BAR,
    described_by: str | None = None,
    partial: Mapping[int, str] | None = None,
) -> Markup:
    """A trend line over periods (weeks or months); gaps where a value is None. ``partial``:
    the periods the figures cover only in part (index -> what they cover, 截至3月10日), drawn
    as hollow points on a dashed line, so a short current month does not read as a fall."""
    fmt: Callable[[float], str] = _fmt_percent if percent else _fmt_number
    partial = partial or {}
    top, bottom, size = 18, 26, 12
    # Per cent of the width left of the first period (the grid's values are written there,
    # above their lines) and right of the last.
    left, right = 11.0, 10.0
    plot_h = height - top - bottom
    values = [v for _k, v in points if v is not None]
    top_value = 1.0 if percent else _nice(max(values, default=0))
    if not percent and top_value <= 40:
        top_value = max(4, math.ceil(top_value / 4) * 4)  # whole numbers on the four grid lines
    parts = [_open(height, title, "line", described_by)]
    for i in range(5):  # horizontal grid, its value written just above each line
        v = top_value * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="0" x2="100%" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="0" y="{y - 3:.1f}" font-size="{size}" fill="#5b6773">'
            f"{escape(fmt(v))}</text>"
        )
    n = len(points)

    def x_of(i: int) -> str:
        share = 50.0 if n == 1 else left + (100 - left - right) * i / (n - 1)
        return f"{share:.2f}%"

    def y_of(v: float) -> str:
        return f"{top + plot_h - plot_h * v / top_value:.1f}"

    previous: tuple[int, float] | None = None
    for i, (_key, value) in enumerate(points):
        if value is None:
            previous = None
            continue
        if previous is not None:
            j, w = previous
            dashed = ' stroke-dasharray="5 4"' if (i in partial or j in partial) else ""
            parts.append(
                f'<line x1="{x_of(j)}" y1="{y_of(w)}" x2="{x_of(i)}" y2="{y_of(value)}" '
                f'stroke="{color}" stroke-width="2"{dashed}/>'
            )
        previous = (i, value)
    for i, (key, value) in enumerate(points):
        if value is None:
            continue
        note = f"（{partial[i]}，不完整）" if i in partial else ""
        fill = "#fff" if i in partial else color
        parts.append(
            f'<circle cx="{x_of(i)}" cy="{y_of(value)}" r="{4 if i in partial else 3}" '
            f'fill="{fill}" stroke="{color}" stroke-width="2">'
            f"<title>{escape(key)}{escape(note)}：{escape(fmt(value))}</title></circle>"
        )
    # As many period labels as fit side by side in a phone's column (about 260 px of plot,
    # a digit about 6.6 px at this size), at most six.
    label_w = max((len(k) + 1 for k, _v in points), default=1) * 6.6 + 14
    fit = max(2, min(6, int(260 // label_w) + 1))
    every = max(1, -(-(n - 1) // (fit - 1)))
    for i, (key, _v) in enumerate(points):
        if i % every and i != n - 1:
            continue
        if i != n - 1 and n - 1 - i < every:
            continue  # the last label has its place; the one before it would run into it
        mark = "*" if i in partial else ""
        parts.append(
            f'<text x="{x_of(i)}" y="{top + plot_h + 18}" text-anchor="middle" '
            f'font-size="{size}" fill="{TEXT}">{escape(key)}{mark}</text>'
        )
    if not values:
        parts.append(
            f'<text x="50%" y="{top + plot_h / 2:.0f}" text-anchor="middle" '
            f'font-size="13" fill="{TEXT}">暂无数据</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _nice(value: float) -> float:
    """A round axis maximum at or above ``value``."""
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for m in (1, 2, 2.5, 5, 10):
        if value <= m * magnitude:
            return m * magnitude
    return 10 * magnitude
