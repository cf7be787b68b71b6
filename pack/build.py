"""A committee pack: the basket's cards built for their views, with what the title and
provenance slides print, and each figure rendered once by the one shared browser.

With an empty basket the pack is the standard set for the current view
(`Basket.standard`). The same `Pack` is written to PowerPoint (`pack.slides`) and to
PDF (`pack.pdf`), so both carry the same numbers and images.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from urllib.parse import quote

from analytics.model.basket import Basket
from analytics.model.disclosure import Disclosure
from analytics.model.provenance import software_versions
from analytics.model.view import View
from analytics.report.protect import Protection
from analytics.store import Store
from charts import export
from pack.cards import build_card
from pack.content import Content
from ui.notes import notice_text

SLIDE_WIDTH, SLIDE_HEIGHT = 1600, 900  # the figures' layout pixels (16:9)
IMAGE_SCALE = 1.5  # 2400 x 1350 pixels: sharp when projected, small enough to mail


@dataclass(frozen=True)
class Pack:
    contents: tuple[Content, ...]
    images: tuple[bytes | None, ...]  # PNG of each card's figure
    study: str
    source: str
    notice: str  # the synthetic-data notice; empty for real data
    fingerprint: str
    disclosure: Disclosure
    n_total: int
    link: str  # the dashboard link that reproduces the pack
    # each distinct view in words, and its patients as printed ("<11" under protection)
    in_view: tuple[tuple[str, str], ...] = ()
    made: date = field(default_factory=date.today)
    versions: tuple[tuple[str, str], ...] = field(default_factory=software_versions)

    def views(self) -> list[str]:
        """The cards' distinct views in words, in order of first use."""
        return [line for line, _ in self.in_view]

    def patients(self) -> dict[str, str]:
        return dict(self.in_view)

    def title_lines(self) -> list[str]:
        """Under the study's name: the notice, the data, the date, each view's patients."""
        lines = [f"Data: {self.source}", f"Made {self.made:%d %B %Y}"]
        if self.notice:
            lines.insert(0, self.notice)
        return lines + [f"{view}: {n} of {self.n_total:,} patients" for view, n in self.in_view]

    def provenance_lines(self) -> list[str]:
        versions = ", ".join(f"{name} {version}" for name, version in self.versions)
        return [
            f"Data source: {self.source}",
            f"Data fingerprint (SHA-256): {self.fingerprint}",
            f"Software: {versions}",
            self.disclosure.describe(),
            "Views:",
            *(f"  {v}" for v in self.views()),
            f"Reproduce in the dashboard: {self.link}",
        ]


def basket_link(basket: Basket, base: str = "") -> str:
    """The dashboard address that opens this basket on the report page."""
    query = "&".join(f"card={_quote(text)}" for text in basket.to_query())
    return f"{base.rstrip('/')}/report?{query}"


def _in_view(store: Store, basket: Basket, protect: Protection) -> tuple[tuple[str, str], ...]:
    found: dict[str, str] = {}
    for card in basket.cards:
        line = card.view.describe(store.labels)
        if line not in found:
            found[line] = protect.view_count_text(store.count(card.view.filters), store.count())
    return tuple(found.items())


def _quote(text: str) -> str:
    return quote(text, safe="")


def build_pack(
    store: Store,
    basket: Basket,
    view: View | None = None,
    *,
    disclosure: Disclosure | None = None,
    base_url: str = "",
    render: bool = True,
) -> Pack:
    """Every card of `basket` (or the standard set for `view` when it is empty) built and
    its figure rendered; the browser is started once for all of them (`render` False:
    no images, the slides hold the editable charts and tables only)."""
    if not basket.cards:
        basket = Basket.standard(view or View())
    protect = Protection(disclosure or store.disclosure)
    contents = tuple(build_card(store, card, protect) for card in basket.cards)
    images: tuple[bytes | None, ...] = (None,) * len(contents)
    if render:
        with export.browser():
            images = tuple(
                None
                if c.figure is None
                else export.to_png(c.figure, SLIDE_WIDTH, SLIDE_HEIGHT, scale=IMAGE_SCALE)
                for c in contents
            )
    manifest = store.manifest
    source = store.meta.get("source", "unknown")
    return Pack(
        contents=contents,
        images=images,
        study=str(manifest.get("name") or manifest.get("studyid") or source),
        source=source,
        notice=notice_text(store) or "",
        fingerprint=store.fingerprint,
        disclosure=protect.disclosure,
        n_total=store.count(),
        link=basket_link(basket, base_url),
        in_view=_in_view(store, basket, protect),
    )
