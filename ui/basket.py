"""The report basket of this browser session: "Add to report" beside a figure or table,
and the basket kept in the URL (one ``card`` parameter per card, `Basket.to_query`) so a
copied link carries the deck.

The URL wins when it holds cards the session did not write (a pasted link, a colleague's
deck); a page link carries no query, so the session's basket is written back after the
page is drawn, as the view is (`ui.view_state.settle`).
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from analytics.model.basket import KINDS, Basket, Card
from analytics.model.labels import DEFAULT, Labels
from analytics.model.view import View

PARAM = "card"
_BASKET = "_report_basket"
_WRITTEN = "_report_written"  # the card values this session last put in the URL
_ADDED = "_report_added"  # kind -> view key of the card added last, to confirm it


def _url_cards() -> list[str]:
    return st.query_params.get_all(PARAM)


def current() -> Basket:
    """This session's basket, taken from the URL when the URL holds another."""
    in_url = _url_cards()
    if in_url and in_url != st.session_state.get(_WRITTEN):
        basket = Basket.from_query(in_url)
        st.session_state[_BASKET] = basket
        st.session_state[_WRITTEN] = basket.to_query()
        return basket
    return st.session_state.get(_BASKET, Basket())


def store(basket: Basket) -> None:
    """Keep `basket` for the session and in the URL."""
    st.session_state[_BASKET] = basket
    settle()


def settle() -> None:
    """Write the session's basket to the URL (after the view has written its own)."""
    basket: Basket = st.session_state.get(_BASKET, Basket())
    wanted = basket.to_query()
    if _url_cards() != wanted:
        if wanted:
            st.query_params[PARAM] = wanted
        elif PARAM in st.query_params:
            del st.query_params[PARAM]
    st.session_state[_WRITTEN] = wanted


def sync() -> None:
    """Take the URL's cards when it holds others; else put the session's back in it."""
    current()
    settle()


def _add(card: Card, key: str) -> None:
    # a callback: it runs before the script, so the click counts whatever the run does
    note = str(st.session_state.get(f"note_{key}", "")).strip()
    st.session_state[_BASKET] = current().add(replace(card, note=note))
    st.session_state[_ADDED] = card.to_text()


def add_button(card: str | Card, view: View, *, key: str, labels: Labels = DEFAULT) -> None:
    """ "Add to report" for `card` (a kind, or a kind with the page's settings) in
    `view`, with an optional comment; `labels` word the settings."""
    kind = card if isinstance(card, str) else card.kind
    options = () if isinstance(card, str) else card.options
    taken = Card(kind, replace(view, presentation=False), options=options)
    with st.popover("Add to report", icon=":material/add_to_photos:"):
        settings = taken.options_in_words(labels)
        st.caption(
            f"{KINDS[kind]}, in the view shown now"
            + (f" ({settings})" if settings else "")
            + ". The report page builds the deck."
        )
        st.text_area("Comment for the slide's notes (optional)", key=f"note_{key}")
        st.button("Add", key=f"add_confirm_{key}", type="primary", on_click=_add, args=(taken, key))
        if st.session_state.get(_ADDED) == taken.to_text():
            n = len(current().cards)
            st.success(f"Added: the report holds {n} card{'' if n == 1 else 's'}.")


def move(index: int, step: int) -> None:
    """Callback: the card at `index` moved `step` places (0: removed)."""
    cards = current()
    if index < len(cards.cards):
        changed = cards.remove(index) if step == 0 else cards.move(index, step)
        st.session_state[_BASKET] = changed


def clear() -> None:
    """Callback: an empty report."""
    st.session_state[_BASKET] = Basket()
