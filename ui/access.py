"""Sign-in and roles where the data are real.

Off unless ``.streamlit/secrets.toml`` has an ``[auth]`` section: Streamlit's OpenID
Connect login with the organisation's identity provider (its ``server_metadata_url``,
``client_id``, ``client_secret``, ``redirect_uri`` and ``cookie_secret``). With it, the
dashboard shows nothing but the sign-in button until the provider has signed the user
in, and the roles in a claim of the provider's ID token decide who may do more than
read:

- ``upload``: upload another extract on the Data page;
- ``settings``: change a deployment setting in the browser (small-cell protection, where
  the deployment offers its switch at all).

The claim and the role names are the ``[access]`` section's (defaults: claim
``roles``, roles ``dva-upload`` and ``dva-settings``). Without sign-in (the local demo)
every session may upload, and the switch follows the deployment's setting alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import streamlit as st

from ui import audit_trail

Action = Literal["upload", "settings"]
DEFAULTS = {"roles_claim": "roles", "upload": "dva-upload", "settings": "dva-settings"}
WORDS = {"upload": "upload data", "settings": "change the deployment's settings"}


def _secrets() -> Mapping[str, Any]:
    try:
        return st.secrets.to_dict()
    except FileNotFoundError:  # no secrets file, or one that cannot be read
        return {}


def required() -> bool:
    """Whether the deployment asks for sign-in (an ``[auth]`` section)."""
    return bool(_secrets().get("auth"))


def _setting(name: str) -> str:
    section = _secrets().get("access", {})
    value = section.get(name) if isinstance(section, Mapping) else None
    return str(value) if value else DEFAULTS[name]


def roles() -> set[str]:
    """The signed-in user's roles: the claim as a list, or as text split at commas or
    spaces (providers send either)."""
    if not st.user.is_logged_in:
        return set()
    claim = st.user.get(_setting("roles_claim"))
    if isinstance(claim, str):
        return {r for r in claim.replace(",", " ").split() if r}
    if isinstance(claim, (list, tuple)):
        return {str(r) for r in claim}
    return set()


def may(action: Action) -> bool:
    """Whether this session may `action`; every session may without sign-in."""
    return not required() or _setting(action) in roles()


def refuse(action: Action) -> None:
    """Say, and log, that this account may not `action`."""
    audit_trail.denied(action)
    st.info(
        f"Your account may not {WORDS[action]}: it needs the role "
        f"'{_setting(action)}' from your organisation's sign-in."
    )


def _sign_in() -> None:
    st.title("DVA outcomes")
    st.markdown("Sign in with your organisation's account to see the dashboard.")
    st.button("Sign in", type="primary", on_click=st.login, key="sign_in")


def gate() -> None:
    """Nothing but the sign-in button before sign-in; the account and sign-out after."""
    if not required():
        return
    if not st.user.is_logged_in:
        # the only page there is, whatever the link asked for: no menu of the others
        st.navigation([st.Page(_sign_in, title="Sign in", default=True)], position="hidden").run()
        st.stop()
    with st.sidebar:
        name = st.user.get("name") or st.user.get("email") or "signed in"
        st.caption(f"Signed in: {name}")
        st.button("Sign out", on_click=st.logout, key="sign_out")
    if not st.session_state.get("_signed_in_logged"):
        st.session_state["_signed_in_logged"] = True
        audit_trail.append({"event": "sign_in", **audit_trail.who(), "roles": sorted(roles())})
