"""Deleting goes to the trash and can be undone; only owners and admins delete; active jobs are not deleted."""

import pytest

from tlcore import actions
from tlcore.access import ADMIN, MEMBER, NotAllowed, User, read_log
from tlcore.runs import create_run, list_runs
from tlcore.storage import TrashError, list_trash

ALICE = User("alice@example.com", role=MEMBER)
BOB = User("bob@example.com", role=MEMBER)
ADA = User("ada@example.com", role=ADMIN)


def finished_run(make_config, owner):
    run = create_run(make_config("sample-digits"), owner=owner)
    run.update_status(state="finished")
    return run


def test_delete_then_restore_from_the_trash(make_config):
    run = finished_run(make_config, ALICE.id)
    (run.path / "model.keras").write_bytes(b"weights")
    item = actions.delete_job(ALICE, run)
    assert not run.path.exists() and list_runs() == []
    assert [(entry.id, entry.kind, entry.deleted_by) for entry in list_trash()] == [(item.id, "run", ALICE.id)]
    actions.restore(ALICE, item.id)
    assert (run.path / "model.keras").read_bytes() == b"weights" and list_trash() == []
    assert [entry["action"] for entry in read_log()] == ["restore", "delete"]


def test_others_cannot_delete_or_restore(make_config):
    run = finished_run(make_config, ALICE.id)
    with pytest.raises(NotAllowed):
        actions.delete_job(BOB, run)
    assert run.path.exists()
    item = actions.delete_job(ADA, run)
    with pytest.raises(NotAllowed):
        actions.restore(BOB, item.id)
    actions.restore(ALICE, item.id)  # still hers


def test_an_active_job_is_not_deleted(make_config):
    run = create_run(make_config("sample-digits"), owner=ALICE.id)  # queued
    with pytest.raises(TrashError, match="cancel it first"):
        actions.delete_job(ALICE, run)
    assert run.path.exists()


def test_emptying_and_pruning_are_for_admins(make_config):
    actions.delete_job(ALICE, finished_run(make_config, ALICE.id))
    with pytest.raises(NotAllowed):
        actions.empty(ALICE)
    assert actions.empty(ADA) > 0 and list_trash() == []
    with pytest.raises(NotAllowed):
        actions.prune(ALICE)
