"""Fixtures for the page tests: an isolated studio per test and a way to open one page of the app with AppTest.

Pages are opened the way a user reaches them: `app.py` (which declares `st.navigation`) with the page switched to,
so `from pages.shared import ...` resolves against the repo root exactly as under `streamlit run`.
AppTest runs scripts in this process, so every folder the app reads comes from env variables set per test.
"""

from __future__ import annotations

import os
import shutil
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

PAGE_TIMEOUT_S = 30  # AppTest's default of 3 s is too short for a cold import of plotly/sklearn, let alone TF


@dataclass(frozen=True)
class Studio:
    home: Path
    data_root: Path
    runs_dir: Path
    keras_home: Path

    @property
    def keras_models(self) -> Path:
        return self.keras_home / "models"


@pytest.fixture(scope="session")
def sample_digits_master(tmp_path_factory) -> Path:
    """The built-in digits folder, written once per session by tlcore.datasets.sample itself (~3 s), then hard-linked per test."""
    home = tmp_path_factory.mktemp("sample-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TLSTUDIO_HOME", str(home))
        patch.setenv("TLSTUDIO_DATA_ROOT", str(home / "data"))
        from tlcore.datasets.sample import sample_dataset_path

        return sample_dataset_path()


@pytest.fixture
def studio(tmp_path, monkeypatch, sample_digits_master, pretend_online) -> Studio:
    """Fresh data root (holding the digits sample), runs dir and Keras home; offline; no cached page data."""
    import streamlit as st

    from tlcore.datasets.sample import SAMPLE_NAME
    from tlcore.jobs import scheduler as jobs

    paths = Studio(home=tmp_path / "home", data_root=tmp_path / "data", runs_dir=tmp_path / "runs",
                   keras_home=tmp_path / "keras")
    for folder in (paths.home, paths.data_root, paths.runs_dir, paths.keras_home):
        folder.mkdir()
    monkeypatch.setenv("TLSTUDIO_HOME", str(paths.home))
    monkeypatch.setenv("TLSTUDIO_DATA_ROOT", str(paths.data_root))
    monkeypatch.setenv("TLSTUDIO_RUNS_DIR", str(paths.runs_dir))
    monkeypatch.setenv("KERAS_HOME", str(paths.keras_home))
    monkeypatch.delenv("TLSTUDIO_MAX_JOBS", raising=False)
    # Hard links, not symlinks: the app resolves symlinks and would (rightly) refuse a target outside the data root.
    shutil.copytree(sample_digits_master, paths.data_root / SAMPLE_NAME, copy_function=os.link)
    # Deterministic network answer: these machines are offline, and a test must not depend on it either way.
    pretend_online(False)
    # Never spawn a training process from a page test; a test that wants to see the call replaces this again.
    monkeypatch.setattr(jobs, "start_worker", lambda run: None)
    st.cache_data.clear()
    return paths


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
