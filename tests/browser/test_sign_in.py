"""Sign-in where the deployment asks for it: the served dashboard against an OpenID
Connect provider started here (never an outside service). Before sign-in nothing but the
sign-in button shows; after it, the roles of the provider's ID token decide who may
upload; every sign-in, open, view and refusal is in the access log."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.serving import RENDER_TIMEOUT, free_port, serve, settle

pytestmark = pytest.mark.browser

ALICE = {"sub": "alice", "email": "alice@example.org", "name": "Alice", "roles": ["dva-upload"]}
BOB = {"sub": "bob", "email": "bob@example.org", "name": "Bob", "roles": []}
CAROL = {"sub": "carol", "email": "carol@example.org", "name": "Carol", "roles": "dva-settings"}


@pytest.fixture(scope="module")
def provider(tmp_path_factory) -> Iterator[str]:
    """The provider in a process of its own (its library's warnings are not the suite's)."""
    port = free_port()
    url = f"http://localhost:{port}"
    claims = [a for user in (ALICE, BOB, CAROL) for a in ("--user-claims", json.dumps(user))]
    log = tmp_path_factory.mktemp("provider") / "provider.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "oidc_provider_mock", "--port", str(port), *claims],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while not _answers(f"{url}/.well-known/openid-configuration"):
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the provider did not start"
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def deployment(provider, tmp_path_factory):
    folder = tmp_path_factory.mktemp("signin")
    port = free_port()
    secrets = folder / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "http://localhost:{port}/oauth2callback"\n'
        'cookie_secret = "a-secret-for-the-test-only"\n'
        'client_id = "dva-dashboard"\n'
        'client_secret = "any"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
    )
    log = folder / "access.jsonl"
    # the deployment offers the small-cell switch; the settings role decides who sees it
    env = {"DVA_AUDIT_LOG": str(log), "DVA_SMALL_CELLS_VIEWER": "allow"}
    args = ["--secrets.files", str(secrets)]
    with serve(folder / "streamlit.log", env, port=port, args=args) as url:
        yield url, log


def sign_in(page: Page, url: str, who: str) -> None:
    page.goto(url)
    button = page.get_by_role("button", name="Sign in")
    expect(button).to_be_visible(timeout=RENDER_TIMEOUT)
    button.click()
    page.get_by_role("button", name=who, exact=True).click()
    settle(page)


def records(log) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_nothing_shows_before_sign_in(deployment, page):
    url, _ = deployment
    page.goto(url)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=RENDER_TIMEOUT)
    text = page.locator("body").inner_text()
    assert "Amputation-free survival" not in text
    assert page.get_by_test_id("stSidebarNav").count() == 0


def test_a_role_decides_who_may_upload(deployment, page, browser):
    url, log = deployment
    sign_in(page, url, "alice")
    expect(page.get_by_text("Signed in: Alice")).to_be_visible()
    page.goto(f"{url}/data")
    settle(page, "Data")
    expect(page.get_by_text("Extract files")).to_be_visible()
    other = browser.new_context().new_page()
    sign_in(other, url, "bob")
    other.goto(f"{url}/data")
    settle(other, "Data")
    expect(other.get_by_text("Your account may not upload data")).to_be_visible()
    assert other.get_by_text("Extract files").count() == 0
    other.context.close()
    found = records(log)
    signed = {r["user"]: r for r in found if r["event"] == "sign_in"}
    assert signed["alice@example.org"]["roles"] == ["dva-upload"]
    assert signed["bob@example.org"]["roles"] == []
    assert any(r["event"] == "denied" and r["user"] == "bob@example.org" for r in found)
    assert any(r["event"] == "view" and r["user"] == "alice@example.org" for r in found)


def test_only_the_settings_role_may_switch_protection(deployment, page, browser):
    url, _ = deployment
    sign_in(page, url, "alice")
    switch = "Small-cell protection"
    assert page.get_by_text(switch, exact=True).count() == 0
    other = browser.new_context().new_page()
    sign_in(other, url, "carol")  # a claim sent as text, not a list
    expect(other.get_by_text(switch, exact=True)).to_be_visible()
    other.context.close()
