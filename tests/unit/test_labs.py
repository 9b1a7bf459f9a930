"""docs/labs.md, followed through tlcore: each lab's steps as the app takes them, and the numbers the walk promises.

The TensorFlow tutorial's parameter table (MobileNetV2), the VGG16 sign-language project (pre-split folders, the last
five layers trainable), and the small-CNN transfer (a Small CNN trained on one dataset, cut after its convolutions and
transferred to another, then ResNet50 with gradual unfreezing). The built-in digits stand in for the labs' datasets.
"""

import re
from pathlib import Path

import numpy as np

from tlcore.backbones import catalog, freeze_blocks
from tlcore.config import TrainConfig
from tlcore.modeling.model import count_params

LABS = Path(__file__).resolve().parents[2] / "docs" / "labs.md"


def _promised(number: str) -> None:
    """A number the test asserts must be the one docs/labs.md tells the student to expect."""
    assert number in LABS.read_text(encoding="utf-8"), f"docs/labs.md does not show {number}"


def test_lab1_tensorflow_tutorial_parameter_table():
    frozen = count_params("MobileNetV2", 2, None, image_size=160)  # step 3: the whole base frozen
    tuned = count_params("MobileNetV2", 2, 100, image_size=160)  # step 5: fine-tune from layer 100

    assert (frozen.total, frozen.trainable, frozen.non_trainable) == (2_259_265, 1_281, 2_257_984)
    assert (tuned.total, tuned.trainable, tuned.non_trainable) == (2_259_265, 1_862_721, 396_544)
    assert freeze_blocks.layer_count("MobileNetV2") == 154 and freeze_blocks.layer_name("MobileNetV2", 100) == \
        "block_11_expand_relu"
    for number in ("2,259,265", "1,862,721", "396,544", "2,257,984", "1,281", "block_11_expand_relu"):
        _promised(number)


def test_lab2_vgg16_pre_split_folders_and_the_last_five_layers_trainable(digits, studio_dirs):
    from tlcore.config import SplitConfig
    from tlcore.datasets import make_split, scan_folder

    root = studio_dirs.data_root / "sign-digits"  # train/ valid/ test/, each with the class folders, as the project
    for part, images in (("train", slice(0, 6)), ("valid", slice(6, 8)), ("test", slice(8, 10))):
        for label in range(10):
            (root / part / str(label)).mkdir(parents=True)
            for image in sorted((digits / str(label)).glob("*.png"))[images]:
                (root / part / str(label) / image.name).write_bytes(image.read_bytes())
    scan = scan_folder("sign-digits")
    split = make_split(scan, SplitConfig())
    assert scan.presplit and (len(split.train), len(split.val), len(split.test)) == (60, 20, 20)  # used as given

    table = catalog.layer_table("VGG16")
    fine_tune_at = len(table.layers) - 5
    trainable = [row.name for row in table.layers[fine_tune_at:]]
    assert (len(table.layers), fine_tune_at) == (19, 14)
    assert trainable == ["block4_pool", "block5_conv1", "block5_conv2", "block5_conv3", "block5_pool"]
    assert freeze_blocks.fine_tune_at_for_block("VGG16", "block5") == 15  # by block: block5 alone is 4 layers
    counts = count_params("VGG16", 10, fine_tune_at, image_size=224)
    frozen = count_params("VGG16", 10, None, image_size=224)
    assert (counts.total, counts.trainable, counts.non_trainable) == (14_719_818, 7_084_554, 7_635_264)
    assert (frozen.trainable, frozen.non_trainable) == (5_130, 14_714_688)
    for number in ("14,719,818", "7,084,554", "7,635,264", "5,130", "14,714,688", "14"):
        _promised(number)


def test_lab3_small_cnn_transfer_then_resnet50_gradual_unfreezing(tiny_dataset, make_config):
    from tlcore.backbones import custom
    from tlcore.layers.loading import load_model
    from tlcore.modeling.model import base_of, build_model, keras_param_counts
    from tlcore.runs.folders import FINISHED, create_run
    from tlcore.training.unfreezing import stage_fine_tune_at
    from tlcore.worker import run_job

    # Step 1: the Small CNN (the lab's three 5×5 convolutions, Dense 128, softmax) on a 5-class dataset at 32 px.
    assert count_params("SmallCNN", 5, 0, pooling="flatten", hidden_units=128, image_size=32).total == 521_541
    first = create_run(make_config(tiny_dataset("flowers", ("0", "1", "2", "3", "4"), 6), backbone="SmallCNN",
                                   fine_tune_at=0, pooling="flatten", hidden_units=128))
    assert run_job(first, wait=False) == FINISHED, first.status().get("error")
    assert keras_param_counts(load_model(first.model_path)).total == 521_541

    # Step 2: one button: the run becomes a backbone, cut after its convolutions; a 10-class dataset trains on it.
    backbone = custom.create_from_run("flowers-cnn", first.model_path, f"run {first.id}")
    assert backbone.cut_at == "block3_pool"
    config = TrainConfig(dataset="cifar", backbone=backbone.name, image_size=32, weights="imagenet",
                         pooling="flatten", hidden_units=128)
    counts = count_params(backbone.name, 10, None, pooling="flatten", hidden_units=128, image_size=32)
    assert (counts.total, counts.trainable, counts.non_trainable) == (522_186, 263_562, 258_624)
    transferred = build_model(config, 10)
    assert keras_param_counts(transferred) == counts
    trained = base_of(load_model(first.model_path)).get_layer("block3_conv").get_weights()[0]
    assert np.array_equal(base_of(transferred).get_layer("block3_conv").get_weights()[0], trained)  # carried over

    # Step 3: ResNet50, ImageNet, frozen; then gradual unfreezing one block per stage from the top.
    assert count_params("ResNet50", 10, None).trainable == 20_490
    stages = [stage_fine_tune_at("ResNet50", stage, 1) for stage in (1, 2, 3)]
    assert stages == [143, 81, 39]
    assert [count_params("ResNet50", 10, at).trainable for at in stages] == [14_996_490, 22_105_098, 23_328_266]
    for number in ("521,541", "522,186", "263,562", "258,624", "block3_pool", "20,490", "14,996,490", "22,105,098",
                   "23,328,266", "23,608,202"):
        _promised(number)
    assert re.search(r"143.*81.*39", LABS.read_text(encoding="utf-8"), re.S)
