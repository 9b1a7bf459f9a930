"""Quotas that cannot be bypassed (issue 31, item 6): checked and reserved under the scheduler lock, so concurrent
submits cannot all pass; a sweep counts each of its runs; every task kind of every role counts."""

from __future__ import annotations

import threading

import pytest

from tlcore import actions
from tlcore.access import MEMBER, VIEWER, QuotaExceeded, User
from tlcore.config import TrainConfig
from tlcore.jobs import scheduler
from tlcore.jobs.scheduler import all_jobs

BOB = User("bob@example.com", role=MEMBER)
VERA = User("vera@example.com", role=VIEWER)


@pytest.fixture
def one_job_each(monkeypatch):
    monkeypatch.setenv("TLSTUDIO_QUOTA_JOBS", "1")
    monkeypatch.setattr(scheduler, "start_worker", lambda run: None)  # queued jobs stay active: nothing runs


def test_concurrent_submits_accept_exactly_the_quota(one_job_each):
    accepted, refused = [], []
    barrier = threading.Barrier(4)

    def submit():
        barrier.wait()
        try:
            accepted.append(actions.start_task(BOB, "sleep", {"steps": 1}))
        except QuotaExceeded as error:
            refused.append(error)

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(accepted) == 1 and len(refused) == 3
    assert len([job for job in all_jobs() if job.owner == BOB.id]) == 1


def test_a_sweep_counts_each_of_its_runs(one_job_each):
    with pytest.raises(QuotaExceeded, match="would add 3"):
        actions.start_sweep(BOB, TrainConfig(dataset="sample-digits", weights="random"), [None, 50, 100])
    assert all_jobs() == []  # nothing queued


def test_a_viewers_batch_predictions_count_too(one_job_each):
    actions.start_task(VERA, "batch_predict", {"run": "x", "source": "y"})
    with pytest.raises(QuotaExceeded):
        actions.start_task(VERA, "batch_predict", {"run": "x", "source": "y"})
