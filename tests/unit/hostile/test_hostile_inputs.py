"""Issue 31's hostile inputs, one test each: a damaged field in any file the app reads is shown as "damaged" with the
field named, never raised; the queue, `python -m tlcore runs` and the monitor's numbers go on (tests/hostile_inputs.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from hostile_inputs import (  # noqa: E402
    CONFIG_FILES,
    LONG_ID,
    OWNER_FILES,
    RUNNING_WITHOUT_PROCESS,
    STATUS_FILES,
    TASK_FILES,
    Hostile,
)

from tlcore import cli  # noqa: E402
from tlcore.config import ConfigError, TrainConfig, load_config  # noqa: E402
from tlcore.jobs import scheduler  # noqa: E402
from tlcore.jobs.tasks import create_task, run_task  # noqa: E402
from tlcore.runs import job_progress  # noqa: E402
from tlcore.runs.folders import create_run, get_run  # noqa: E402


def write(path: Path, item: Hostile) -> None:
    if item.raw is not None:
        path.write_bytes(item.raw.encode("utf-8", "surrogateescape"))
    else:
        path.write_text(json.dumps(item.content), encoding="utf-8")


@pytest.fixture
def no_workers(monkeypatch):
    started = []
    monkeypatch.setattr(scheduler, "start_worker", lambda run: started.append(run) or None)
    return started


def _listed(capsys) -> str:
    assert cli.main(["runs"]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("item", STATUS_FILES, ids=lambda item: item.name)
def test_a_damaged_status_is_shown_as_damaged_and_the_queue_goes_on(item, capsys, no_workers):
    bad = create_run(TrainConfig(dataset="d"))
    write(bad.path / "status.json", item)
    waiting = create_run(TrainConfig(dataset="d"))  # someone else's job behind it

    status = bad.status()
    assert status["state"] == "damaged"
    if item.field:
        assert item.field in status["damaged"], status["damaged"]
    job_progress(status)  # the banner's numbers
    bad.describe()
    scheduler.dispatch()  # the next step still hands the waiting job its slot
    assert waiting.status().get("dispatched_at") and no_workers == [waiting]
    listing = _listed(capsys)
    assert bad.id in listing and "damaged" in listing


def test_a_running_status_without_a_process_does_not_hold_the_slot(no_workers):
    stuck = create_run(TrainConfig(dataset="d"))
    (stuck.path / "status.json").write_text(json.dumps(RUNNING_WITHOUT_PROCESS))
    waiting = create_run(TrainConfig(dataset="d"))

    scheduler.dispatch()

    assert stuck.status()["state"] == "interrupted" and "no process" in stuck.status()["error"]
    assert no_workers == [waiting]


@pytest.mark.parametrize("item", CONFIG_FILES, ids=lambda item: item.name)
def test_a_damaged_config_is_refused_in_one_line_naming_the_field(item, tmp_path, capsys, no_workers):
    path = tmp_path / "config.json"
    write(path, item)

    with pytest.raises(ConfigError) as refused:
        load_config(path)
    message = str(refused.value)
    assert "\n" not in message and (item.field is None or item.field in message), message

    assert cli.main(["train", "--config", str(path)]) == 2  # a usage error, no traceback
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err

    run = create_run(TrainConfig(dataset="d"))  # the same file inside a run folder: a damaged row, not a crash
    write(run.config_path, item)
    row = run.describe()
    assert row["damaged"].startswith("damaged: ")
    assert run.id in _listed(capsys)


def test_every_config_problem_is_listed_at_once():
    with pytest.raises(ConfigError) as refused:
        load_config({"dataset": ["a"], "epochs": "two", "image_size": 100000, "split": {"val": 1}, "x": 1})
    fields = " ".join(refused.value.problems)
    for name in ("dataset", "epochs", "image_size", "split", "x"):
        assert name in fields
    assert len(refused.value.problems) == 5


def test_a_config_is_frozen_and_checked_when_made():
    config = TrainConfig(dataset="d")
    with pytest.raises(AttributeError):
        config.epochs = 10  # type: ignore[misc]
    with pytest.raises(ConfigError, match="hidden_units"):
        TrainConfig(dataset="d", hidden_units=10**9)


def test_a_run_folder_loads_as_its_config(tmp_path):
    run = create_run(TrainConfig(dataset="d", epochs=3))
    assert load_config(run.path) == load_config(run.config_path) == run.config()


@pytest.mark.parametrize("item", OWNER_FILES, ids=lambda item: item.name)
def test_a_damaged_owner_file_gives_an_owner_nobody_has(item, no_workers):
    run = create_run(TrainConfig(dataset="d"))
    write(run.path / "owner.json", item)
    assert run.owner == "unknown"
    scheduler.dispatch()


@pytest.mark.parametrize("item", TASK_FILES, ids=lambda item: item.name)
def test_a_damaged_task_file_is_refused_never_imported(item, monkeypatch, capsys, no_workers):
    task = create_task("sleep", {"steps": 1, "seconds_per_step": 0})
    write(task.path / "task.json", item)
    imported = []
    monkeypatch.setattr("importlib.import_module", lambda name: imported.append(name))

    with pytest.raises(ValueError, match="task.json"):
        run_task(task)
    assert imported == []
    assert task.id in _listed(capsys)


def test_a_5000_character_run_id_gets_one_line(capsys):
    with pytest.raises(KeyError) as refused:
        get_run(LONG_ID)
    assert "is not a valid run id" in refused.value.args[0] and len(refused.value.args[0]) < 300

    assert cli.main(["resume", LONG_ID]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and len(err) < 300
