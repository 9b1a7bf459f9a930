"""tlcore.runs.folders and tlcore.storage.atomic: a run is a readable folder; ids are safe; writes are atomic."""

import json
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest

from tlcore.config.training import TrainConfig
from tlcore.runs import folders as runs
from tlcore.runs.folders import Run, create_run, get_run, list_runs, pid_alive
from tlcore.storage.atomic import read_json, write_json_atomic


def _config(**changes) -> TrainConfig:
    return TrainConfig(dataset="pets", **changes)


def test_create_run_writes_config_and_a_queued_status(studio_dirs):
    config = _config(backbone="VGG16", epochs=3)

    before = time.time()
    run = create_run(config)

    assert run.path.parent == studio_dirs.runs.resolve()
    assert run.id.endswith("_vgg16")
    assert TrainConfig.from_file(run.path / "config.json") == config == run.config()
    status = json.loads((run.path / "status.json").read_text())
    assert status["state"] == "queued" and run.state == "queued"
    assert status["pid"] is None
    assert before <= status["queued_at"] <= time.time()
    assert sorted(p.name for p in run.path.iterdir()) == ["config.json", "owner.json", "status.json"]  # no temp files
    assert run.owner == "local"


def test_fine_tune_run_id_says_so(studio_dirs):
    run = create_run(_config().fine_tune(parent_run="2026-01-01_000000_mobilenetv2", fine_tune_at=50))

    assert run.id.endswith("_mobilenetv2_finetune")


def test_runs_created_in_the_same_second_get_distinct_ids(studio_dirs, monkeypatch):
    _freeze_clock(monkeypatch, [datetime(2026, 11, 22, 14, 12, 0)] * 3)

    ids = [create_run(_config()).id for _ in range(3)]

    assert ids == ["2026-11-22_141200_mobilenetv2", "2026-11-22_141200_mobilenetv2-1",
                   "2026-11-22_141200_mobilenetv2-2"]


def _freeze_clock(monkeypatch, moments):
    moments = iter(moments)

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return next(moments)

    monkeypatch.setattr(runs, "datetime", Clock)


def test_list_runs_is_newest_first_and_filters_by_state(studio_dirs, monkeypatch):
    start = datetime(2026, 11, 22, 9, 0, 0)
    _freeze_clock(monkeypatch, [start + timedelta(minutes=m) for m in range(3)])
    oldest = create_run(_config(backbone="VGG16"))
    middle = create_run(_config(backbone="ResNet50"))
    newest = create_run(_config(backbone="DenseNet121"))
    middle.update_status(state="finished")
    (studio_dirs.runs / "not-a-run").mkdir()  # a stray folder without config.json is ignored

    assert [run.id for run in list_runs()] == [newest.id, middle.id, oldest.id]
    assert [run.id for run in list_runs(states=("finished",))] == [middle.id]
    assert [run.id for run in list_runs(states=("queued",))] == [newest.id, oldest.id]


def test_get_run_finds_a_run_by_id(studio_dirs):
    run = create_run(_config())

    assert get_run(run.id) == run


@pytest.mark.parametrize("bad_id", ["../x", "..", ".", "a/b", "", "x y", "/etc", "run\n", "run\x00"])
def test_get_run_refuses_ids_that_are_not_plain_folder_names(studio_dirs, bad_id):
    with pytest.raises(KeyError) as refused:
        get_run(bad_id)

    assert refused.value.args[0].startswith(f"{bad_id!r} is not a valid run id: ids are folder names")


def test_get_run_refuses_an_unknown_id_without_naming_the_runs_folder(studio_dirs):
    (studio_dirs.runs / "half").mkdir()  # no config.json: not a run

    for missing in ("2026-01-01_000000_vgg16", "half"):
        with pytest.raises(KeyError) as refused:
            get_run(missing)
        assert refused.value.args[0] == f"No run '{missing}' on this server."


def test_history_round_trips_with_numbers_as_numbers(studio_dirs):
    run = create_run(_config())
    rows = [
        {"epoch": 1, "phase": 1, "loss": 0.693, "accuracy": 0.5, "val_loss": 0.68, "val_accuracy": 0.55,
         "learning_rate": 0.001, "seconds": 2.5, "not_a_column": "dropped"},
        {"epoch": 2, "phase": 2, "loss": 0.41, "accuracy": 0.875, "learning_rate": 0.0001, "seconds": 3.0},
    ]

    run.write_history(rows)
    history = run.history()

    assert history[0] == {"epoch": 1, "phase": 1, "loss": 0.693, "accuracy": 0.5, "val_loss": 0.68,
                          "val_accuracy": 0.55, "learning_rate": 0.001, "seconds": 2.5}
    assert history[1]["val_loss"] is None and history[1]["val_accuracy"] is None  # no validation that epoch
    assert isinstance(history[1]["epoch"], int) and history[1]["seconds"] == 3.0
    assert (run.path / "history.csv").read_text().splitlines()[0] == \
        "epoch,phase,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds"


def test_history_of_a_new_run_is_empty(studio_dirs):
    assert create_run(_config()).history() == []


def test_update_status_merges_and_stamps(studio_dirs):
    run = create_run(_config())

    run.update_status(state="running", epoch=1)
    status = run.update_status(epoch=2, batch=7)

    assert status["state"] == "running" and status["epoch"] == 2 and status["batch"] == 7
    assert status["queued_at"] > 0 and status["updated_at"] >= status["queued_at"]
    assert run.status() == status


def test_status_of_a_folder_without_one_is_unknown(tmp_path):
    assert Run(tmp_path).status() == {"state": "unknown"} and Run(tmp_path).state == "unknown"


def test_split_classes_and_evaluation_are_stored_with_the_run(studio_dirs):
    from tlcore.datasets.split import Split

    run = create_run(_config())
    split = Split(["cats", "dogs"], [("cats/a.png", 0)], [("dogs/b.png", 1)], [("cats/c.png", 0)])

    run.write_split(split)
    run.write_evaluation("test", {"accuracy": 0.75})

    assert run.split() == split
    assert run.class_names() == ["cats", "dogs"]
    assert run.evaluation() == {"accuracy": 0.75} and run.evaluation("val") is None
    assert json.loads((run.path / "eval" / "test.json").read_text()) == {"accuracy": 0.75}


def test_describe_gives_one_table_row(studio_dirs):
    run = create_run(_config(backbone="VGG16", image_size=64, parent_run="2026-01-01_000000_vgg16"))
    run.update_status(state="finished", epochs_done=4, val_accuracy=0.8)
    run.write_evaluation("test", {"accuracy": 0.9})

    assert run.describe() == {"run": run.id, "state": "finished", "backbone": "VGG16", "dataset": "pets",
                              "image_size": 64, "epochs": 4, "val_accuracy": 0.8, "test_accuracy": 0.9,
                              "fine_tune_of": "2026-01-01_000000_vgg16", "damaged": None}


# --- pid_alive -----------------------------------------------------------------------------------------------------
def test_pid_alive_for_this_process_and_none():
    import os

    assert pid_alive(os.getpid()) is True
    assert pid_alive(None) is False and pid_alive(0) is False


def test_pid_alive_is_false_for_a_process_that_ended():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()  # reaped: the pid is gone

    assert pid_alive(process.pid) is False


def test_pid_alive_counts_an_unreaped_zombie_as_dead():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # wait for it to exit without reaping it
        state = open(f"/proc/{process.pid}/stat").read().rsplit(")", 1)[1].split()[0]
        if state == "Z":
            break
        time.sleep(0.05)
    try:
        assert state == "Z"
        assert pid_alive(process.pid) is False
    finally:
        process.wait()


def test_pid_alive_for_a_sleeping_child():
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert pid_alive(process.pid) is True
    finally:
        process.kill()
        process.wait()


# --- fileio --------------------------------------------------------------------------------------------------------
def test_atomic_json_write_replaces_the_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "deep" / "status.json"

    write_json_atomic(target, {"state": "queued"})
    write_json_atomic(target, {"state": "running", "when": datetime(2026, 1, 1)})

    assert read_json(target) == {"state": "running", "when": "2026-01-01 00:00:00"}
    assert [p.name for p in target.parent.iterdir()] == ["status.json"]
    assert read_json(tmp_path / "missing.json", default={"state": "unknown"}) == {"state": "unknown"}


def test_a_real_run_id_with_a_trailing_newline_is_refused_not_found(studio_dirs):
    run = create_run(TrainConfig(dataset="x"))

    with pytest.raises(KeyError, match="is not a valid run id"):
        get_run(run.id + "\n")
