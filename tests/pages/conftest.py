"""Fixtures for the page tests: an isolated studio per test and a way to open one page of the app with AppTest.

Pages are opened the way a user reaches them: `app.py` (which declares `st.navigation`) with the page switched to,
so `from pages.shared import ...` resolves against the repo root exactly as under `streamlit run`.
AppTest runs scripts in this process, so every folder the app reads comes from the env variables the root conftest
(tests/conftest.py `studio_dirs`, autouse) sets per test; the digits are its `digits`. No fixture here repeats them.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

ROOT = Path(__file__).resolve().parents[2]
for _folder in (ROOT, Path(__file__).resolve().parent):  # the app's packages; page_helpers (any import mode)
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

from streamlit.testing.v1 import AppTest  # noqa: E402

PAGE_TIMEOUT_S = 90  # AppTest's default of 3 s is too short for a cold import of plotly/sklearn, let alone TF; with two
# test processes on two cores one rerun of the Train page (instant model, freeze depth, counts) took over 30 s once


@dataclass(frozen=True)
class Studio:
    """The page tests' names for this test's folders (the root conftest's `studio_dirs`, nothing of its own)."""
    home: Path
    data_root: Path
    runs_dir: Path
    keras_home: Path

    @property
    def keras_models(self) -> Path:
        return self.keras_home / "models"


@pytest.fixture
def studio(studio_dirs, digits, monkeypatch, pretend_online) -> Studio:
    """This test's folders (tests/conftest.py `studio_dirs`) with the digits sample in the data root (`digits`);
    offline; no training process ever started; no cached page data."""
    import streamlit as st

    from tlcore.jobs import scheduler as jobs

    # Deterministic network answer: these machines are offline, and a test must not depend on it either way.
    pretend_online(False)
    # Never spawn a training process from a page test; a test that wants to see the call replaces this again.
    monkeypatch.setattr(jobs, "start_worker", lambda run: None)
    st.cache_data.clear()
    return Studio(home=studio_dirs.home, data_root=studio_dirs.data_root, runs_dir=studio_dirs.runs,
                  keras_home=studio_dirs.keras_home)


@pytest.fixture
def open_page(studio) -> Callable[..., AppTest]:
    """`open_page("pages/train.py", query_params={"run": id})` → an AppTest that has run that page once.

    `user`: a tlcore.access User standing in for a signed-in person (AppTest cannot sign in through a provider).
    """

    def _open(page: str, *, query_params: dict[str, str] | None = None, timeout: float = PAGE_TIMEOUT_S,
              user=None) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
        if user is not None:
            from pages.shared.auth import TEST_USER_KEY

            at.session_state[TEST_USER_KEY] = user.to_dict()
        for name, value in (query_params or {}).items():
            at.query_params[name] = value
        if page != "pages/home.py":
            at.switch_page(page)
        at.run()
        assert not at.exception, [item.value for item in at.exception]
        return at

    return _open
