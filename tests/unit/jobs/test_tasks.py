"""Task folders: looked up by id with the same guard as runs, so a URL parameter cannot reach another folder."""

import pytest

from tlcore.jobs import tasks


def test_get_task_finds_a_created_task_and_refuses_ids_that_are_not_task_folders(studio_dirs):
    created = tasks.create_task("sleep", {"steps": 1})

    assert tasks.get_task(created.id).path == created.path
    assert created.status()["state"] == "queued" and created.status()["kind"] == "sleep"
    with pytest.raises(KeyError, match="not a valid task id"):
        tasks.get_task("../runs")
    with pytest.raises(KeyError, match="No task 'nothing-here'"):
        tasks.get_task("nothing-here")
    (studio_dirs.home / "tasks" / "not-a-task").mkdir()
    with pytest.raises(KeyError, match="No task 'not-a-task'"):
        tasks.get_task("not-a-task")
