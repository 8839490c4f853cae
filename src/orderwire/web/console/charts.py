"""Inline SVG charts rendered on the server: horizontal bars, grouped bars, a latency bullet."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

ROW = 26
LABEL = 150
WIDTH = 520
COLOURS = {"sent": "#5b8def", "delivered": "#2fa56a", "read": "#1d6b45", "failed": "#d64545"}


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def bars(items: Sequence[tuple[str, float]], title: str) -> Markup:
    """One horizontal bar per (label, value), scaled to the largest."""
    top = max((v for _, v in items), default=0) or 1
    height = ROW * max(1, len(items)) + 8
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
    ]
    for i, (label, value) in enumerate(items):
        y = 4 + i * ROW
        w = (WIDTH - LABEL - 60) * value / top
        parts.append(
            f'<text x="0" y="{y + 16}" class="label">{escape(label)}</text>'
            f'<rect x="{LABEL}" y="{y + 3}" width="{w:.1f}" height="{ROW - 8}" rx="3" class="bar"/>'
            f'<text x="{LABEL + w + 6:.1f}" y="{y + 16}" class="value">{_number(value)}</text>'
        )
    if not items:
        parts.append('<text x="0" y="18" class="label">nothing in this period</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text inside is escaped above


def grouped(rows: Sequence[dict[str, float | str]], series: Sequence[str], title: str) -> Markup:
    """For each row (a 'kind'), one thin bar per series (sent, delivered, read, failed)."""
    top = max((float(r.get(s, 0)) for r in rows for s in series), default=0) or 1
    band = 8 * len(series) + 10
    height = band * max(1, len(rows)) + 24
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
    ]
    for i, row in enumerate(rows):
        y = 4 + i * band
        parts.append(
            f'<text x="0" y="{y + band / 2 + 3:.0f}" class="label">{escape(str(row["kind"]))}</text>'
        )
        for j, name in enumerate(series):
            value = float(row.get(name, 0))
            w = (WIDTH - LABEL - 60) * value / top
            colour = COLOURS.get(name, "#888")
            parts.append(
                f'<rect x="{LABEL}" y="{y + j * 8}" width="{w:.1f}" height="7" fill="{colour}">'
                f"<title>{escape(name)}: {_number(value)}</title></rect>"
            )
            if value:
                parts.append(
                    f'<text x="{LABEL + w + 4:.1f}" y="{y + j * 8 + 7}" class="tiny">{_number(value)}</text>'
                )
    legend_y = height - 8
    for j, name in enumerate(series):
        x = LABEL + j * 90
        parts.append(
            f'<rect x="{x}" y="{legend_y - 8}" width="10" height="10" fill="{COLOURS.get(name, "#888")}"/>'
            f'<text x="{x + 14}" y="{legend_y + 1}" class="tiny">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text inside is escaped above


def latency(p50: float | None, p95: float | None, promise: float) -> Markup:
    """p50 and p95 on a seconds scale, with the promise as a line."""
    scale_max = max(promise * 1.5, p95 or 0, p50 or 0)
    inner = WIDTH - 20

    def x(seconds: float) -> float:
        return 10 + inner * seconds / scale_max

    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} 70" role="img" aria-label="confirmation latency">']
    parts.append(f'<rect x="10" y="20" width="{inner}" height="16" class="track"/>')
    if p95 is not None:
        parts.append(f'<rect x="10" y="20" width="{x(p95) - 10:.1f}" height="16" class="p95"/>')
    if p50 is not None:
        parts.append(f'<rect x="10" y="24" width="{x(p50) - 10:.1f}" height="8" class="p50"/>')
    parts.append(
        f'<line x1="{x(promise):.1f}" x2="{x(promise):.1f}" y1="12" y2="44" class="promise"/>'
        f'<text x="{x(promise):.1f}" y="58" class="tiny" text-anchor="middle">'
        f"{_number(promise)} s promise</text>"
        f'<text x="10" y="12" class="tiny">0 s</text>'
        f'<text x="{10 + inner}" y="12" class="tiny" text-anchor="end">{_number(scale_max)} s</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - numbers only
