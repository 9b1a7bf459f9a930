"""The map tab reopens the dataset's last finished map (of the dataset, or of one run's features), never another's."""

from tlcore.curation import TASK_KIND, latest_map_task
from tlcore.jobs.tasks import create_task


def _map_task(dataset, run=None, state="finished"):
    task = create_task(TASK_KIND, {"dataset": dataset, "run": run, "method": "pca"})
    task.update_status(state=state)
    return task.id


def test_latest_finished_map_of_that_dataset_and_run():
    assert latest_map_task("mine") is None
    older = _map_task("mine")
    _map_task("other")
    of_run = _map_task("mine", run="r1")
    _map_task("mine", state="failed")
    assert latest_map_task("mine") == older
    assert latest_map_task("mine", "r1") == of_run
    assert latest_map_task("mine", "r2") is None

