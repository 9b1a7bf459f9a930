"""tlcore.jobs.resources and tlcore.jobs.inventory: what a job asks for, and the GPUs there are to give."""

import pytest

from tlcore.jobs import inventory
from tlcore.jobs.resources import (
    CPU_LANE,
    TRAINING_LANE,
    Resources,
    cpu_lane_slots,
    max_parallel_jobs,
    resources_for_task,
    resources_for_training,
)


def test_training_asks_for_one_gpu_when_there_are_gpus_and_none_on_a_cpu_box():
    assert resources_for_training(None, available=8) == Resources(gpus=1, lane=TRAINING_LANE)
    assert resources_for_training(None, available=0) == Resources(gpus=0, lane=TRAINING_LANE)
    assert resources_for_training(4, available=8).gpus == 4
    with pytest.raises(ValueError, match=r"^This job asks for 3 GPU\(s\) but this machine has 2\.$"):
        resources_for_training(3, available=2)
    assert resources_for_training(3, available=0, check_available=False).gpus == 3  # a cluster has its own
    with pytest.raises(ValueError, match="cannot be negative"):
        resources_for_training(-1, available=2)


def test_export_and_the_like_take_the_cpu_lane_and_training_tasks_the_gpus():
    for kind in ("export", "batch_predict", "health", "evaluate", "evaluate_external", "sleep"):
        assert resources_for_task(kind, available=2) == Resources(gpus=0, lane=CPU_LANE), kind
    for kind in ("lr_finder", "probe", "measure"):
        assert resources_for_task(kind, available=2) == Resources(gpus=1, lane=TRAINING_LANE), kind
    assert resources_for_task("sleep", available=2, gpus=1).gpus == 1
    assert resources_for_task("sleep", available=0, lane=TRAINING_LANE) == Resources(0, TRAINING_LANE)
    with pytest.raises(ValueError, match="Unknown lane 'fast'"):
        resources_for_task("sleep", available=0, lane="fast")


def test_resources_survive_status_json_and_anything_unreadable_falls_back_to_one_training_slot():
    needs = Resources(gpus=2, lane=TRAINING_LANE)
    assert Resources.from_dict(needs.to_dict()) == needs
    assert Resources.from_dict([]) == Resources()
    assert Resources.from_dict({"gpus": "many", "lane": "??"}) == Resources()
    assert Resources.from_dict({"gpus": 3, "lane": CPU_LANE}) == Resources(gpus=0, lane=CPU_LANE)
    assert (needs.describe(), Resources(lane=CPU_LANE).describe(), Resources().describe()) == (
        "2 GPUs", "CPU lane", "CPU (training lane)")


def test_lane_sizes_read_the_environment(monkeypatch):
    assert (max_parallel_jobs(), cpu_lane_slots()) == (1, 2)
    monkeypatch.setenv("TLSTUDIO_MAX_JOBS", "3")
    monkeypatch.setenv("TLSTUDIO_CPU_JOBS", "0")
    assert (max_parallel_jobs(), cpu_lane_slots()) == (3, 1)
    monkeypatch.setenv("TLSTUDIO_CPU_JOBS", "lots")
    assert cpu_lane_slots() == 2


def test_fake_gpus_stand_in_for_nvidia_smi_in_tests(monkeypatch):
    monkeypatch.setenv(inventory.FAKE_GPUS_ENV, "3")
    assert inventory.gpu_ids() == ("0", "1", "2")
    monkeypatch.setenv(inventory.FAKE_GPUS_ENV, "two")
    with pytest.raises(ValueError, match="must be a whole number"):
        inventory.gpu_ids()
    monkeypatch.delenv(inventory.FAKE_GPUS_ENV)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert inventory.gpu_ids() == ()
