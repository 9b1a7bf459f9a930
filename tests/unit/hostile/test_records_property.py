"""Property: whatever JSON value lands in a file the app reads, reading it never raises (issue 31, item 1).

Random JSON (and objects built from the real field names, so the checks are reached) goes into status.json,
config.json, owner.json and task.json of a run or task folder and into an audit line; the run table
(`describe`), the progress banner's numbers, the queue rows, a scheduler step and `python -m tlcore runs` all
answer. Configs may only be refused with ConfigError, task files with ValueError.
"""

from __future__ import annotations

import json
import shutil

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tlcore import cli
from tlcore.access import audit
from tlcore.config import ConfigError, TrainConfig, load_config
from tlcore.config.training import _FIELD_RULES
from tlcore.jobs import scheduler
from tlcore.jobs.rows import queue_rows
from tlcore.jobs.tasks import TASK_KINDS, create_task, task_spec
from tlcore.runs import job_progress
from tlcore.runs.folders import create_run
from tlcore.runs.records import STATUS_RULES
from tlcore.storage.paths import runs_root, tasks_root

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) |
                           st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)


def records_with(names):
    """Objects whose keys are mostly real field names, so each field's rule meets random values."""
    return st.dictionaries(st.sampled_from([*names, "extra"]), json_values, max_size=8)


status_values = json_values | records_with(STATUS_RULES) | records_with(STATUS_RULES).map(
    lambda record: {**record, "state": record.get("state", "running")})
config_values = json_values | records_with(_FIELD_RULES) | records_with(_FIELD_RULES).map(
    lambda record: {"dataset": "d", **record})
task_values = json_values | st.fixed_dictionaries({"kind": st.sampled_from([*TASK_KINDS, "x"]),
                                                   "target": st.sampled_from([*TASK_KINDS.values(), "os:system"]),
                                                   "params": json_values})
EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])


def _fresh() -> None:
    for root in (runs_root(), tasks_root()):
        shutil.rmtree(root)
        root.mkdir()


def _write(path, value) -> None:
    path.write_text(json.dumps(value), encoding="utf-8")  # NaN and Infinity as Python's json writes them


@EXAMPLES
@given(status=status_values, config=config_values, owner=json_values, task=task_values, line=json_values)
def test_no_file_content_stops_a_page_the_queue_or_the_cli(status, config, owner, task, line, monkeypatch,
                                                            capsys):
    monkeypatch.setattr(scheduler, "start_worker", lambda run: None)
    _fresh()
    run = create_run(TrainConfig(dataset="d"))
    _write(run.path / "status.json", status)
    _write(run.config_path, config)
    _write(run.path / "owner.json", owner)
    other = create_task("sleep", {})
    _write(other.path / "task.json", task)
    _write(other.path / "status.json", status)
    with open(audit.audit_path(), "a", encoding="utf-8") as log:
        log.write(json.dumps(line) + "\n")

    try:
        load_config(config)
    except ConfigError:
        pass
    try:
        task_spec(other)
    except ValueError:
        pass
    for job in (run, other):
        status_read = job.status()
        assert isinstance(status_read.get("state"), str)
        job_progress(status_read)
        job.describe()
        job.owner
    scheduler.dispatch()
    queue_rows()
    audit.read_log()
    assert cli.main(["runs"]) == 0
    assert cli.main(["runs", "--json"]) == 0
    capsys.readouterr()
