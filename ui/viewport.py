"""The browser's page size, so that presentation figures are laid out for the room's
screen: as wide as the page's column and, for the page's first figure, no taller than
the window leaves below it (a projector at 1280x720 shows the whole figure unscrolled).

Streamlit does not tell the server the window's size; a small component in the page
measures it and reports it as its state, which reruns the page when it changes. The
first run of a session, and AppTest, have no measurement: figures then use the theme's
own size.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import streamlit as st

KEY = "dva_viewport"
# Sizes are reported in steps of this many pixels: a scroll bar appearing or a
# half-pixel of layout never reruns the page.
STEP = 20

# Measures the main column's content width, the window's height and how far down the
# page the first figure starts; reports them when they change (throttled: the page is
# still drawing while figures appear).
_JS = f"""
export default function(component) {{
  const {{ setStateValue, data }} = component;
  const step = (v) => Math.round(v / {STEP}) * {STEP};
  let last = data ? JSON.stringify(data) : "";
  let timer = null;
  const measure = () => {{
    const main = document.querySelector('[data-testid="stMainBlockContainer"]');
    if (!main) return;
    const style = getComputedStyle(main);
    const width = main.clientWidth - parseFloat(style.paddingLeft)
      - parseFloat(style.paddingRight);
    const chart = document.querySelector('[data-testid="stPlotlyChart"]');
    const top = chart ? chart.getBoundingClientRect().top + window.scrollY : null;
    const size = {{
      width: step(width),
      height: step(window.innerHeight),
      figure_top: top === null ? null : step(top),
    }};
    const text = JSON.stringify(size);
    if (text !== last) {{
      last = text;
      setStateValue("size", size);
    }}
  }};
  // at most one measurement every 300 ms: a page that keeps changing while it draws
  // is still measured soon after each change
  const later = () => {{
    if (timer !== null) return;
    timer = setTimeout(() => {{ timer = null; measure(); }}, 300);
  }};
  const target = document.querySelector('[data-testid="stMain"]') || document.body;
  const observer = new MutationObserver(later);
  observer.observe(target, {{ childList: true, subtree: true }});
  window.addEventListener("resize", later);
  later();
  return () => {{
    clearTimeout(timer);
    observer.disconnect();
    window.removeEventListener("resize", later);
  }};
}}
"""

_component = st.components.v2.component("dva_viewport", js=_JS)


@dataclass(frozen=True)
class Screen:
    """What the browser showed at its last report, in CSS pixels."""

    width: int  # the main column's content width
    height: int  # the window's inner height
    figure_top: int | None  # where the page's first figure starts (None: no figure)

    @property
    def below_first_figure(self) -> int | None:
        """Height from the first figure's top to the window's bottom."""
        return None if self.figure_top is None else self.height - self.figure_top


def _parse(value: Any) -> Screen | None:
    if not isinstance(value, dict):
        return None
    try:
        width, height = int(value["width"]), int(value["height"])
        top = value.get("figure_top")
        return Screen(width, height, None if top is None else int(top))
    except (KeyError, TypeError, ValueError):
        return None  # a report this version cannot read: the theme's own size


def measure() -> Screen | None:
    """Mount the measuring component (once per run, on presentation pages) and return
    the browser's last report, if any."""
    known = current()
    shown = None if known is None else asdict(known)
    result = _component(key=KEY, data=shown, height=0, on_size_change=lambda: None)
    return _parse(getattr(result, "size", None))


def current() -> Screen | None:
    """The last report of this session, without mounting anything."""
    state = st.session_state.get(KEY)
    size = state.get("size") if isinstance(state, dict) else getattr(state, "size", None)
    return _parse(size)
