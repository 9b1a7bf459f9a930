"""Sign-in and sign-out are audited once per session however they happen: the Sign out button (st.logout), or a
session that had a signed-in person and now has none (an expired or removed identity cookie)."""

from __future__ import annotations

from pathlib import Path

import pytest
from page_helpers import by_label
from streamlit.testing.v1 import AppTest

from tlcore.access import read_log

APP = Path(__file__).resolve().parents[2] / "app.py"
ALICE = {"is_logged_in": True, "email": "alice@example.com", "email_verified": True, "name": "Alice", "sub": "alice",
         "iat": 1_700_000_000}
AUTH = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback",
        "cookie_secret": "a-test-secret-of-forty-random-characters-x",
        "client_id": "tlstudio-test", "client_secret": "test-only",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}


@pytest.fixture
def signed_in_app(studio):
    """app.py with [auth] configured and Alice (a member) signed in, run once."""
    (studio.home / "roles.toml").write_text('member = ["alice@example.com"]\n')
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.secrets["auth"] = AUTH
    at.user = dict(ALICE)
    at.run()
    assert not at.exception, [item.value for item in at.exception]
    return at


def _sessions() -> list[tuple[str, str, str]]:
    return [(entry["user"], entry["action"], entry.get("how", "")) for entry in reversed(read_log())
            if entry["action"] in ("sign_in", "sign_out")]


def test_the_sign_out_button_is_audited_once(signed_in_app):
    at = signed_in_app
    at.run()  # a rerun of the same person records nothing more
    assert _sessions() == [("alice@example.com", "sign_in", "")]
    by_label(at.sidebar.button, "Sign out").click().run()
    at.run()
    assert _sessions() == [("alice@example.com", "sign_in", ""),
                           ("alice@example.com", "sign_out", "sign-out button")]
    assert "Sign in" in [button.label for button in at.button]  # the next rerun shows the sign-in screen


def test_a_session_that_lost_its_sign_in_records_the_sign_out_once(signed_in_app):
    at = signed_in_app
    at.user = {"is_logged_in": False}  # the identity cookie expired or was removed
    at.run()
    at.run()
    assert _sessions() == [("alice@example.com", "sign_in", ""),
                           ("alice@example.com", "sign_out", "session lost its sign-in")]
    assert "Sign in" in [button.label for button in at.button]


def _app(studio, auth=AUTH, user=ALICE):
    (studio.home / "roles.toml").write_text('admin = ["alice@example.com"]\n')
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.secrets["auth"] = dict(auth)
    at.user = dict(user)
    at.run()
    return at


@pytest.mark.parametrize("secret", ["replace-with-a-long-random-string", "short"])
def test_the_app_refuses_to_serve_with_the_example_or_a_short_cookie_secret(studio, secret):
    at = _app(studio, {**AUTH, "cookie_secret": secret})

    assert any("cookie_secret" in error.value for error in at.error)
    assert not at.sidebar.button and _sessions() == []  # nobody signed in: no admin session from a forged cookie


def test_an_unverified_email_is_no_identity(studio):
    at = _app(studio, user={**ALICE, "email_verified": False})

    assert any("not verified" in warning.value for warning in at.warning)
    assert "Sign in" in [button.label for button in at.button] and _sessions() == []


def test_an_expired_id_token_ends_the_session(studio):
    at = _app(studio, user={**ALICE, "exp": 1_000})

    assert any("expired" in warning.value for warning in at.warning)
    assert "Sign in" in [button.label for button in at.button]


def test_sign_out_revokes_the_sign_in_so_a_copied_cookie_no_longer_works(signed_in_app, studio):
    signed_in_app.run()
    by_label(signed_in_app.sidebar.button, "Sign out").click().run()
    assert ("alice@example.com", "sign_out", "sign-out button") in _sessions()

    copy = AppTest.from_file(str(APP), default_timeout=30)  # another browser holding a copy of the same cookie
    copy.secrets["auth"] = AUTH
    copy.user = dict(ALICE)
    copy.run()

    assert any("signed out" in warning.value for warning in copy.warning)
    assert "Sign in" in [button.label for button in copy.button]


def test_sign_in_is_recorded_once_per_sign_in_not_per_page_load(signed_in_app):
    for _ in range(3):  # reloads and new tabs are new browser sessions of the same sign-in
        reload = AppTest.from_file(str(APP), default_timeout=30)
        reload.secrets["auth"] = AUTH
        reload.user = dict(ALICE)
        reload.run()
    assert _sessions() == [("alice@example.com", "sign_in", "")]
