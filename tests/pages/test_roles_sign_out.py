"""Sign-in and sign-out are audited once per session however they happen: the Sign out button (st.logout), or a
session that had a signed-in person and now has none (an expired or removed identity cookie)."""

from __future__ import annotations

from pathlib import Path

import pytest
from page_helpers import by_label
from streamlit.testing.v1 import AppTest

from tlcore.access import read_log

APP = Path(__file__).resolve().parents[2] / "app.py"
ALICE = {"is_logged_in": True, "email": "alice@example.com", "name": "Alice", "sub": "alice"}
AUTH = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "test-only",
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
