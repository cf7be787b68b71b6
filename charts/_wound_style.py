"""What the wound and Rutherford figures share: group colours, names, footnote, text colour.

Groups take the colours the caller passes (the page's stable colour per level), or
Okabe-Ito in order; a lone group is drawn in the first Okabe-Ito colour. Text written
inside a bar is black or white, whichever contrasts more with the bar's colour (WCAG
relative luminance).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from analytics.model.provenance import Provenance
from charts.palette import OKABE_ITO, colour_map


def footnote_of(provenance: Provenance | None, fallback: Provenance) -> str:
    return (provenance or fallback).footnote()


def group_colours(names: list[str], colours: Mapping[str, str] | None) -> dict[str, str]:
    if len(names) == 1 and not colours:
        return {names[0]: OKABE_ITO[0]}
    given = dict(colours or {})
    auto = colour_map(names)
    return {n: given.get(n, auto[n]) for n in names}


def names_of(items: Mapping[str, Any], what: str) -> list[str]:
    names = [str(k) for k in items]
    if not names:
        raise ValueError(f"no {what} to draw")
    return names


def text_on(colour: str) -> str:
    """Black or white text, whichever reads better on `colour` (#RRGGBB)."""
    h = colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) / 255 for i in (0, 2, 4))

    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    lum = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
    return "#000000" if (lum + 0.05) / 0.05 > 1.05 / (lum + 0.05) else "#FFFFFF"
