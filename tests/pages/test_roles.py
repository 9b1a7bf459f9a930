"""Role-based hiding in the pages (AppTest cannot sign in: the user is injected through pages.shared.auth's
TEST_USER_KEY), and with no sign-in configured the single local user sees everything, as before."""

from __future__ import annotations

import numpy as np
import pytest
from page_helpers import by_label, make_run
from streamlit.testing.v1 import AppTest

from tlcore.access import ADMIN, MEMBER, VIEWER, NotAllowed, User, read_log
from tlcore.config import TrainConfig
from tlcore.evaluation.metrics import classification_report, store_evaluation

CLASSES = ["cat", "dog"]
PROBABILITIES = np.array([[0.8, 0.2], [0.3, 0.7], [0.4, 0.6]])

ALICE = User("alice@example.com", email="alice@example.com", name="Alice", role=MEMBER)
BOB = User("bob@example.com", email="bob@example.com", name="Bob", role=MEMBER)
VERA = User("vera@example.com", email="vera@example.com", name="Vera", role=VIEWER)
ADA = User("ada@example.com", email="ada@example.com", name="Ada", role=ADMIN)


@pytest.fixture
def open_as(open_page):
    """`open_as(user, page, query_params)`: the shared open_page with that user signed in."""

    def _open(user: User | None, page: str = "pages/home.py", query_params: dict | None = None) -> AppTest:
        return open_page(page, query_params=query_params, user=user)

    return _open


def _queued_run_of(owner: User):
    run = make_run(TrainConfig(dataset="sample-digits", weights="random"), state="queued", queued_at=1.0)
    run.record_owner(owner.id)
    return run


def test_another_member_sees_no_cancel_and_tlcore_refuses_the_forged_call(open_as):
    from tlcore import actions

    run = _queued_run_of(ALICE)
    owner_view = open_as(ALICE, "pages/train.py", {"run": run.id})
    assert by_label(owner_view.button, "Cancel job")
    other_view = open_as(BOB, "pages/train.py", {"run": run.id})
    assert not [button for button in other_view.button if button.label == "Cancel job"]
    with pytest.raises(NotAllowed):
        actions.cancel_job(BOB, run)  # what a forged request would reach
    assert not run.cancel_path.exists()


def test_the_owner_cancels_through_tlcore_actions_and_it_is_audited(open_as):
    run = _queued_run_of(ALICE)
    at = open_as(ALICE, "pages/train.py", {"run": run.id})
    by_label(at.button, "Cancel job").click().run()
    assert run.cancel_path.exists()
    assert read_log()[0]["action"] == "cancel" and read_log()[0]["user"] == ALICE.id


def _not_in_navigation(at: AppTest, page: str) -> bool:
    """AppTest's switch_page refuses a page st.navigation did not register: the page is not in the menu."""
    try:
        at.switch_page(page)
    except ValueError as error:
        return "Could not find a navigation page" in str(error)
    return False


def test_a_viewer_sees_no_training_pages(open_as):
    at = open_as(VERA)
    assert "Signed in as **Vera** (viewer)" in [caption.value for caption in at.sidebar.caption]
    for page in ("pages/train.py", "pages/finetune.py", "pages/dataset.py", "pages/storage.py", "pages/audit.py"):
        assert _not_in_navigation(at, page), page
    assert not _not_in_navigation(open_as(BOB), "pages/train.py")


def test_mark_best_is_hidden_from_members_on_others_runs(open_as, studio):
    folder = studio.data_root / "sample-digits"
    files = [f"{digit}/{sorted((folder / digit).glob('*.png'))[0].name}" for digit in "011"]
    run = make_run(TrainConfig(dataset="sample-digits", weights="random"), state="finished", class_names=CLASSES)
    store_evaluation(run, classification_report(np.array([0, 1, 1]), PROBABILITIES, CLASSES, "test",
                                                   files=files), PROBABILITIES)
    run.record_owner(ALICE.id)
    labels = lambda at: [button.label for button in at.button]  # noqa: E731
    assert "Mark as best for sample-digits" in labels(open_as(ALICE, "pages/evaluate.py", {"run": run.id}))
    assert "Mark as best for sample-digits" not in labels(open_as(BOB, "pages/evaluate.py", {"run": run.id}))


def test_the_audit_page_is_for_admins_and_the_local_user(open_as):
    at = open_as(ADA, "pages/audit.py")
    assert [title.value for title in at.title] == ["Audit log"]
    local = open_as(None, "pages/audit.py")  # no sign-in configured: the local user is admin
    assert [title.value for title in local.title] == ["Audit log"]
    assert _not_in_navigation(open_as(BOB), "pages/audit.py")


def test_the_app_keeps_the_servers_tensorflow_off_the_gpu(open_as, monkeypatch):
    """app.py installs the hook that hides GPUs from this process's TensorFlow, on every script run, before any page
    can import TensorFlow (tests/unit/test_web_server.py shows what the hook does in a fresh process: "no GPU")."""
    from tlcore import web_server

    calls = []
    real = web_server.keep_gpu_for_jobs
    monkeypatch.setattr(web_server, "keep_gpu_for_jobs", lambda: calls.append("installed") or real())

    at = open_as(None)

    assert calls == ["installed"]  # app.py called it, once for the one script run
    at.run()
    assert calls == ["installed", "installed"]