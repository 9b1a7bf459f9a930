"""What a refresh of the instant model reuses: the newest instant model's settings on that dataset, and the curve of
accuracy by training images over the instant models made on it (tlcore.labeling.instant)."""

from tlcore.config import TrainConfig
from tlcore.labeling import instant
from tlcore.labeling.instant import InstantConfig, instant_curve, latest_instant_config
from tlcore.runs import FINISHED, create_run
from tlcore.storage.atomic import write_json_atomic


def fake_instant_run(config: InstantConfig, accuracy: float, images: int, state: str = FINISHED):
    """A run folder as build_instant_run leaves it, without TensorFlow: its config, instant.json and status."""
    run = create_run(TrainConfig(dataset=config.dataset, weights="random"), owner="tester")
    write_json_atomic(run.path / instant.INSTANT_FILE, {
        "kind": "instant", "config": config.to_dict(), "held_out": "test", "held_out_accuracy": accuracy,
        "train_images_per_class": {"a": images // 2, "b": images - images // 2}})
    run.update_status(state=state)
    return run


def test_the_newest_instant_model_on_the_dataset_gives_the_settings_and_the_curve_is_oldest_first():
    older = InstantConfig(dataset="mine", backbone="MobileNetV2", image_size=64, weights="random", seed=1)
    newer = InstantConfig(dataset="mine", backbone="MobileNetV2", image_size=96, weights="random", seed=1)
    assert latest_instant_config("mine") is None and instant_curve("mine") == []
    fake_instant_run(older, 0.5, 10)
    fake_instant_run(InstantConfig(dataset="other", image_size=32, weights="random"), 0.9, 40)  # another dataset
    fake_instant_run(newer, 0.75, 20)
    fake_instant_run(newer, 0.99, 30, state="running")  # not finished: no point, not the settings to reuse

    assert latest_instant_config("mine") == newer
    assert instant_curve("mine") == [(10, 0.5), (20, 0.75)]


def test_a_damaged_record_is_skipped_for_an_older_one():
    good = InstantConfig(dataset="mine", image_size=64, weights="random")
    fake_instant_run(good, 0.6, 8)
    damaged = fake_instant_run(good, 0.7, 8)
    write_json_atomic(damaged.path / instant.INSTANT_FILE, {"kind": "instant", "config": {"dataset": "mine",
                                                                                         "colour": "red"}})
    assert latest_instant_config("mine") == good
    assert instant_curve("mine") == [(8, 0.6)]
