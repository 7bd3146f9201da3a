"""The Jinja2 templates of the pages and the filters they format values with.

The filters match the ones in static/portal.js, which redraws the runs table from the JSON
API: a value looks the same whether the server or the browser drew it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from starlette.templating import Jinja2Templates

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


def fmt_number(value: Any) -> str:
    """Six significant digits, as '%g' does; text (a NaN sent as 'NaN') as it is."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return f"{value:.6g}"


def fmt_param(value: Any) -> str:
    """A param as logged: numbers like metrics, text as text, anything else as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return fmt_number(value)
    # Compact, as JavaScript's JSON.stringify writes it.
    return "" if value is None else json.dumps(value, separators=(",", ":"), default=str)


def fmt_time(iso: str | None) -> str:
    """'2024-05-01T12:00:03.123Z' as '2024-05-01 12:00:03' (UTC)."""
    return "" if not iso else iso.replace("T", " ")[:19]


def fmt_duration(seconds: float | None) -> str:
    """'35 ms', '12.3 s', '4m 05s', '2h 03m'."""
    if seconds is None:
        return ""
    if seconds < 0.9995:
        return f"{int(seconds * 1000 + 0.5)} ms"  # half up, as the browser's Math.round
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    return f"{whole // 3600}h {whole % 3600 // 60:02d}m"


def fmt_size(size: int) -> str:
    """Bytes in the unit that keeps the number short: '512 B', '1.5 KiB', '3.2 MiB'."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    env = templates.env
    env.filters.update(
        number=fmt_number,
        param=fmt_param,
        time=fmt_time,
        duration=fmt_duration,
        size=fmt_size,
    )
    env.trim_blocks = True
    env.lstrip_blocks = True
    return templates
