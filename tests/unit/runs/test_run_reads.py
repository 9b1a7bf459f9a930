"""A run reads each of its files once per version (issue 27, item 6): a job step that asks for the config or the
status ten times opens the file once; a change by another process (an atomic replace, or an edit in place) is seen
at the next read; the run's own writes are kept as written; what a caller gets is its own to change."""

from __future__ import annotations

import json
import os
import time

import pytest

from tlcore.config.training import TrainConfig
from tlcore.runs import folders
from tlcore.runs.folders import Run, create_run
from tlcore.storage.atomic import write_json_atomic


@pytest.fixture
def reads(monkeypatch):
    """Names of the run files read (through tlcore.runs.folders), in order."""
    seen: list[str] = []
    read_json, load_config = folders.read_json, folders.load_config

    def counted_read_json(path, *args, **kwargs):
        seen.append(os.path.basename(path))
        return read_json(path, *args, **kwargs)

    def counted_load_config(path):
        seen.append(os.path.basename(path))
        return load_config(path)

    monkeypatch.setattr(folders, "read_json", counted_read_json)
    monkeypatch.setattr(folders, "load_config", counted_load_config)
    return seen


def _settle(run: Run, *names: str) -> None:
    """Date the files back 10 s, as a file written before this job step began is (see folders._SETTLED_NS)."""
    past = time.time_ns() - 10_000_000_000
    for name in names:
        os.utime(run.path / name, ns=(past, past))


def test_the_config_status_and_owner_are_read_once_however_often_they_are_asked_for(studio_dirs, reads):
    run = create_run(TrainConfig(dataset="d", epochs=3))
    _settle(run, "config.json", "status.json", folders.OWNER_FILE)
    reads.clear()

    for _ in range(10):
        assert run.config().epochs == 3
        assert run.status()["state"] == folders.QUEUED
        assert run.state == folders.QUEUED
        assert run.owner == folders.LOCAL_USER

    assert sorted(reads) == ["config.json", folders.OWNER_FILE, "status.json"]


def test_another_processs_atomic_write_is_seen_at_the_next_read(studio_dirs, reads):
    run = create_run(TrainConfig(dataset="d"))
    _settle(run, "status.json")
    assert run.status()["state"] == folders.QUEUED

    write_json_atomic(run.path / "status.json", {"state": "running", "epoch": 2})  # the worker, elsewhere

    assert run.status()["state"] == "running" and run.status()["epoch"] == 2


def test_an_edit_in_place_of_the_same_size_is_seen_at_the_next_read(studio_dirs):
    run = create_run(TrainConfig(dataset="d"))
    path = run.path / "status.json"
    path.write_text(json.dumps({"state": "queued"}))
    _settle(run, "status.json")
    assert run.status()["state"] == "queued"

    with open(path, "r+") as handle:  # same inode, same size: only the times tell
        handle.write(json.dumps({"state": "failed"}))

    assert run.status()["state"] == "failed"


def test_a_file_changed_just_before_it_was_read_is_read_again(studio_dirs, reads):
    """Within one tick of the file clock a second change could keep the same times: such a read is not kept."""
    run = create_run(TrainConfig(dataset="d"))
    write_json_atomic(run.path / "status.json", {"state": "running"})
    reads.clear()

    run.status()
    run.status()

    assert reads == ["status.json", "status.json"]


def test_the_runs_own_writes_are_kept_as_written_and_read_as_a_reader_would(studio_dirs, reads):
    run = create_run(TrainConfig(dataset="d"))
    run.update_status(state="running", epoch=1, devices=("0", "1"))
    reads.clear()

    status = run.status()

    assert reads == []
    assert status == Run(run.path).status()  # a fresh reader sees the same (the tuple stored as a JSON list)
    assert status["devices"] == ["0", "1"] and status["epoch"] == 1


def test_what_a_caller_gets_is_its_own_to_change(studio_dirs):
    from tlcore.datasets.split import Split

    run = create_run(TrainConfig(dataset="d"))
    run.write_split(Split(["a", "b"], [("a/1.png", 0)], [("b/2.png", 1)], []))
    run.write_history([{"epoch": 1, "phase": 1, "loss": 0.5}])
    _settle(run, "status.json", "split.json", "classes.json", "history.csv")

    run.status()["state"] = "changed"
    run.status().setdefault("devices", []).append("9")
    run.split().train.append(("c/3.png", 0))
    run.class_names().append("c")
    run.history()[0]["loss"] = 99

    assert run.status()["state"] == folders.QUEUED and "devices" not in run.status()
    assert run.split().train == [("a/1.png", 0)] and run.class_names() == ["a", "b"]
    assert run.history()[0]["loss"] == 0.5


def test_a_damaged_file_is_never_kept_and_reads_well_once_repaired(studio_dirs):
    run = create_run(TrainConfig(dataset="d"))
    (run.path / "config.json").write_text('{"dataset": "d", "epochs": -1}')
    _settle(run, "config.json")
    for _ in range(2):
        with pytest.raises(ValueError, match="epochs"):
            run.config()

    write_json_atomic(run.path / "config.json", {"dataset": "d", "epochs": 4})

    assert run.config().epochs == 4


def test_runs_compare_and_hash_by_folder_only(studio_dirs):
    run = create_run(TrainConfig(dataset="d"))
    run.status()

    assert run == Run(run.path) and len({run, Run(run.path)}) == 1
