"""Committee report: the cards put aside with "Add to report", each with the view it was
taken in, to reorder, rename, comment or remove; and the deck, as PowerPoint or PDF.
With no card the deck is the standard committee pack for the current view."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import urlsplit

import streamlit as st

from analytics.model.basket import KINDS, Basket, Card
from pack import build_pack, write_pdf, write_pptx
from pack.build import Pack
from ui import basket
from ui.context import Context, current
from ui.errors import shown_plainly

PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


def _key(i: int, card: Card) -> str:
    # a card's widgets follow the card, not its place, when the list is reordered
    return f"{i}_{zlib.crc32(card.to_text().encode()):x}"


def base_url() -> str:
    """The dashboard's address as the browser reached it, for the link in the deck."""
    url = urlsplit(st.context.url or "")
    if not url.scheme:
        return ""
    root = url.path.rsplit("/", 1)[0]
    return f"{url.scheme}://{url.netloc}{root}"


def card_box(ctx: Context, i: int, card: Card, count: int) -> tuple[str, str]:
    """One card's box; its title and comment as the user left them."""
    key = _key(i, card)
    with st.container(border=True, key=f"card_{key}"):
        left, right = st.columns([5, 1], vertical_alignment="top")
        title = left.text_input(
            f"Card {i + 1}: {KINDS[card.kind].lower()}",
            value=card.heading,
            key=f"title_{key}",
            max_chars=120,
        )
        left.caption(card.describe(ctx.labels))
        note = left.text_area(
            "Comment (in the slide's notes)", value=card.note, key=f"note_{key}", height=68
        )
        with right:
            for label, icon, step, off in (
                ("Up", "arrow_upward", -1, i == 0),
                ("Down", "arrow_downward", 1, i == count - 1),
                ("Remove", "delete", 0, False),
            ):
                st.button(
                    label,
                    key=f"{label.lower()}_{key}",
                    icon=f":material/{icon}:",
                    disabled=off,
                    width="stretch",
                    on_click=basket.move,
                    args=(i, step),
                )
    return ("" if title == KINDS[card.kind] else title), note


def deck(make: Callable[[Pack], bytes], cards: Basket, ctx: Context) -> Callable[[], bytes]:
    # built only when its button is clicked: a pack takes a few seconds
    def build() -> bytes:
        view = replace(ctx.view, presentation=False)
        return make(build_pack(ctx.store, cards, view, base_url=base_url()))

    return build


def render() -> None:
    ctx = current()
    st.title("Committee report")
    cards = basket.current()
    if cards.problems:
        st.warning("The link held cards that could not be used: " + "; ".join(cards.problems))
    if not cards.cards:
        st.info(
            'The report is empty. "Add to report" beside a figure or table puts it here, '
            "with the view it shows. Without cards the committee pack is the standard set "
            "for the current view: " + ", ".join(k.lower() for k in KINDS.values()) + "."
        )
    edited = cards
    for i, card in enumerate(cards.cards):
        title, note = card_box(ctx, i, card, len(cards.cards))
        edited = edited.edit(i, title=title, note=note)
    if edited != cards:
        basket.store(edited)
        st.rerun()
    st.subheader("Committee pack" if not cards.cards else "The deck")
    st.caption(
        "A title slide (study, data, views, patients in view), a slide per figure with its "
        "survival curves also as an editable chart, tables as editable tables, methods and "
        "comments in the speaker notes, and a provenance slide with the link that "
        "reproduces the deck. " + ctx.store.disclosure.describe()
    )
    with st.container(horizontal=True, gap="small"):
        st.download_button(
            "PowerPoint",
            deck(write_pptx, cards, ctx),
            file_name="committee-pack.pptx",
            mime=PPTX,
            on_click="ignore",
            icon=":material/slideshow:",
            key="report_pptx",
            type="primary",
        )
        st.download_button(
            "PDF",
            deck(write_pdf, cards, ctx),
            file_name="committee-pack.pdf",
            mime="application/pdf",
            on_click="ignore",
            icon=":material/picture_as_pdf:",
            key="report_pdf",
        )
        if cards.cards:
            st.button("Empty the report", key="report_clear", on_click=basket.clear)


with shown_plainly("the committee report"):
    render()
