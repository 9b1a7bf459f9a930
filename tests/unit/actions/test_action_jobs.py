"""tlcore refuses the wrong user: called directly (a forged request), not only through a hidden button."""

import pytest

from tlcore import actions
from tlcore.access import ADMIN, MEMBER, VIEWER, NotAllowed, QuotaExceeded, User, read_log
from tlcore.runs import get_run

ALICE = User("alice@example.com", role=MEMBER)
BOB = User("bob@example.com", role=MEMBER)
ADA = User("ada@example.com", role=ADMIN)
VERA = User("vera@example.com", role=VIEWER)


@pytest.fixture(autouse=True)
def no_workers(monkeypatch):
    monkeypatch.setattr("tlcore.jobs.scheduler.start_worker", lambda run: None)


def test_the_starter_owns_the_run_and_the_start_is_audited(make_config, digits):
    run = actions.start_training(ALICE, make_config("sample-digits"))
    assert get_run(run.id).owner == ALICE.id
    assert read_log()[0] == {**read_log()[0], "user": ALICE.id, "action": "start", "target": run.id}


def test_another_member_cannot_cancel_or_resume_and_nothing_changes(make_config, digits):
    run = actions.start_training(ALICE, make_config("sample-digits"))
    with pytest.raises(NotAllowed, match="belongs to alice@example.com"):
        actions.cancel_job(BOB, run)
    assert not run.cancel_path.exists()
    run.update_status(state="failed", error="boom")
    with pytest.raises(NotAllowed):
        actions.resume_job(BOB, run)
    assert run.state == "failed"
    actions.cancel_job(ADA, run)
    assert run.cancel_path.exists()
    assert [entry["action"] for entry in read_log(user_id=BOB.id)] == ["refused", "refused"]  # tried, refused


def test_a_viewer_starts_no_training_but_may_predict_a_batch(make_config, digits):
    with pytest.raises(NotAllowed, match="viewer"):
        actions.start_training(VERA, make_config("sample-digits"))
    task = actions.start_task(VERA, "batch_predict", {"run": "x"})
    assert task.owner == VERA.id


def test_exporting_someone_elses_run_is_refused(make_config, digits):
    run = actions.start_training(ALICE, make_config("sample-digits"))
    with pytest.raises(NotAllowed):
        actions.start_task(BOB, "export", {"run": run.id, "formats": ["keras"]})
    assert actions.start_task(ALICE, "export", {"run": run.id, "formats": ["keras"]}).owner == ALICE.id
    assert (read_log()[0]["action"], read_log()[0]["run"]) == ("export", run.id)


def test_mark_best_only_by_the_owner(make_config, digits):
    from tlcore.evaluation import is_best

    run = actions.start_training(ALICE, make_config("sample-digits"))
    with pytest.raises(NotAllowed):
        actions.mark_best(BOB, run)
    actions.mark_best(ALICE, run)
    assert is_best(run)


def test_job_quota_refuses_with_the_limit(make_config, digits, monkeypatch):
    monkeypatch.setenv("TLSTUDIO_QUOTA_JOBS", "1")
    actions.start_training(BOB, make_config("sample-digits"))
    with pytest.raises(QuotaExceeded, match="1 queued or running job"):
        actions.start_training(BOB, make_config("sample-digits"))
    actions.start_training(ALICE, make_config("sample-digits"))  # per user
