"""A run's lineage (the runs it continues) and its readable name beside the time stamp."""

from __future__ import annotations

from tlcore.config.training import GradualUnfreezing, TrainConfig
from tlcore.runs import lineage_configs, readable_name
from tlcore.runs.folders import create_run


def _frozen() -> TrainConfig:
    return TrainConfig(dataset="d", backbone="MobileNetV2", image_size=160, fine_tune_at=None)


def test_frozen_and_fine_tuned_runs_of_one_backbone_read_differently(studio_dirs):
    parent = create_run(_frozen())
    child = create_run(_frozen().fine_tune(parent.id, 100))

    assert parent.status()["name"] == "MobileNetV2 160 px · frozen"
    assert child.status()["name"] == f"MobileNetV2 160 px · fine-tune from layer 100 · after {parent.id}"
    gradual = TrainConfig(dataset="d", fine_tune_at=120, parent_run=parent.id, gradual_unfreezing=GradualUnfreezing())
    assert "gradual unfreezing (3 stages)" in readable_name(gradual)
    assert readable_name(TrainConfig(dataset="d", fine_tune_at=0, weights="random")).endswith("from scratch")


def test_lineage_walks_back_to_the_first_phase_and_stops_at_a_missing_parent(studio_dirs):
    first = create_run(_frozen())
    second = create_run(_frozen().fine_tune(first.id, 100))
    third = create_run(second.config().fine_tune(second.id, 50))

    assert lineage_configs(third) == [first.config(), second.config()]
    assert lineage_configs(first) == []
    orphan = create_run(_frozen().fine_tune("2020-01-01_000000_gone", 100))
    assert lineage_configs(orphan.id) == []
