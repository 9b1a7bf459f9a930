"""tlcore.config.training: a run's config survives JSON, refuses what training cannot use, and derives fine-tuning."""

import json

import pytest

from tlcore.config.augmentation import AugmentConfig
from tlcore.config.split import SplitConfig
from tlcore.config.training import TrainConfig
from tlcore.modeling.checks import check_config


def _full_config() -> TrainConfig:
    return TrainConfig(dataset="flowers", backbone="ResNet50", image_size=128, epochs=7, batch_size=16,
                       learning_rate=3e-4, fine_tune_at=120, augment=True,
                       augmentation=AugmentConfig(flip="vertical", rotation=0.05, zoom=0.0), weights="random",
                       dropout=0.35, split=SplitConfig(val_fraction=0.1, test_fraction=0.2, seed=7),
                       parent_run="2026-01-01_000000_resnet50")


def test_json_round_trip_keeps_every_field_including_nested_ones(tmp_path):
    config = _full_config()

    again = TrainConfig.from_dict(json.loads(config.to_json()))
    (tmp_path / "config.json").write_text(config.to_json())
    from_file = TrainConfig.from_file(tmp_path / "config.json")

    assert again == config == from_file
    assert isinstance(again.split, SplitConfig) and again.split.seed == 7
    assert isinstance(again.augmentation, AugmentConfig) and again.augmentation.flip == "vertical"


def test_json_is_plain_and_readable():
    data = json.loads(_full_config().to_json())

    assert data["split"] == {"val_fraction": 0.1, "test_fraction": 0.2, "seed": 7}
    assert data["augmentation"] == {"flip": "vertical", "rotation": 0.05, "zoom": 0.0, "translation": 0.0,
                                    "contrast": 0.0, "brightness": 0.0, "crop": 0.0}
    assert data["fine_tune_at"] == 120


def test_missing_fields_take_their_defaults():
    config = TrainConfig.from_dict({"dataset": "flowers"})

    assert (config.backbone, config.image_size, config.epochs, config.weights) == ("MobileNetV2", 96, 5, "imagenet")
    assert config.fine_tune_at is None and config.parent_run is None and not config.is_fine_tune
    assert config.split == SplitConfig(0.15, 0.15, 42)


def test_unknown_fields_are_refused_by_name():
    with pytest.raises(ValueError, match=r"^The config's content has unknown fields: colour, lr\.$"):
        TrainConfig.from_dict({"dataset": "flowers", "lr": 0.1, "colour": "red"})


def test_missing_dataset_is_refused():
    with pytest.raises(ValueError, match=r"dataset is missing"):
        TrainConfig.from_dict({"backbone": "VGG16"})


@pytest.mark.parametrize("changes, message", [
    ({"image_size": 16}, "MobileNetV2 needs images of at least 32 px (got 16)."),
    ({"backbone": "InceptionV3", "image_size": 64}, "InceptionV3 needs images of at least 75 px (got 64)."),
    ({"epochs": 0}, "The config's epochs must be a whole number from 1 to 1,000 (got 0)."),
    ({"batch_size": 0}, "The config's batch_size must be a whole number from 1 to 4,096 (got 0)."),
    ({"learning_rate": 0.0}, "The config's learning_rate must be a finite number in (0, 1) (got 0.0)."),
    ({"learning_rate": 1.5}, "The config's learning_rate must be a finite number in (0, 1) (got 1.5)."),
    ({"dropout": 1.0}, "The config's dropout must be a finite number in [0, 1) (got 1.0)."),
    ({"dropout": -0.1}, "The config's dropout must be a finite number in [0, 1) (got -0.1)."),
])
def test_validate_explains_what_is_wrong(changes, message):
    with pytest.raises(ValueError) as refused:
        check_config(TrainConfig(dataset="x", **changes))
    assert str(refused.value) == message


def test_unknown_backbone_lists_the_known_ones():
    with pytest.raises(KeyError) as refused:
        check_config(TrainConfig(dataset="x", backbone="AlexNet"))
    message = refused.value.args[0]
    assert message.startswith("Unknown backbone 'AlexNet'. Known: Xception, VGG16,")
    assert "MobileNetV2" in message and "ConvNeXtXLarge" in message


def test_fine_tune_lowers_the_learning_rate_tenfold_and_links_the_parent():
    parent = TrainConfig(dataset="flowers", learning_rate=1e-3, epochs=10, fine_tune_at=None)

    child = parent.fine_tune(parent_run="2026-11-22_141200_mobilenetv2", fine_tune_at=100, epochs=3)

    assert child.learning_rate == pytest.approx(1e-4)
    assert child.parent_run == "2026-11-22_141200_mobilenetv2" and child.is_fine_tune
    assert (child.fine_tune_at, child.epochs) == (100, 3)
    assert (child.dataset, child.backbone, child.image_size, child.split) == \
        (parent.dataset, parent.backbone, parent.image_size, parent.split)
    assert parent.parent_run is None and parent.learning_rate == 1e-3  # the parent config is untouched


def test_fine_tune_keeps_an_explicit_learning_rate():
    child = TrainConfig(dataset="x").fine_tune(parent_run="p", fine_tune_at=0, learning_rate=5e-5)

    assert child.learning_rate == 5e-5
    assert child.epochs == 5
