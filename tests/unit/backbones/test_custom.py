"""Your own model as a backbone: cut a trained run's model, train a new run on the cut base, count its parameters."""

import json

import numpy as np
import pytest

from tlcore import cli
from tlcore.backbones import catalog, registry, weights
from tlcore.backbones import custom as custom_backbones
from tlcore.backbones.catalog import layer_table
from tlcore.layers.loading import BadModelFile, load_model
from tlcore.modeling.model import count_params

CUT_AT = "block_5_add"  # MobileNetV2: 4×4×32 at 32 px, about a fifth of the base


@pytest.fixture
def lab_backbone(trained_run):
    return custom_backbones.create_custom("lab", trained_run.model_path, CUT_AT, source=f"run {trained_run.id}")


def test_cut_points_are_the_runs_base_layers_with_image_shaped_outputs(trained_run):
    model = load_model(trained_run.model_path)

    points = custom_backbones.cut_points(model)

    assert [point.name for point in points][:2] == ["Conv1", "bn_Conv1"]
    assert points[-1].name == "out_relu" and points[-1].output_shape == (None, 1, 1, 1280)
    cut = next(point for point in points if point.name == CUT_AT)
    assert cut.output_shape == (None, 4, 4, 32)
    assert cut.label.startswith(f"{CUT_AT} (Add, 4×4×32, ")
    assert custom_backbones.suggested_preprocess(model) == "tf"  # the run's own preprocessing goes with the base


def test_a_cut_backbone_is_a_registry_entry_with_its_own_weights(lab_backbone, trained_run, studio_dirs):
    entry = catalog.get("custom-lab")

    assert entry == lab_backbone and "custom-lab" in catalog.all_names() and "custom-lab" not in registry.names()
    assert (entry.family, entry.preprocess, entry.default_size, entry.cut_at) == ("Custom", "tf", 32, CUT_AT)
    assert (studio_dirs.home / "backbones" / "lab" / "base.keras").is_file()
    state = weights.status(entry, 32, probe_network=True)
    assert (state.label, state.cached) == ("own weights", True)
    assert "ImageNet" not in state.advice and "own trained weights" in state.advice
    table = layer_table("custom-lab")
    assert table.layers[-1].name == CUT_AT and table.feature_dim == 32
    rows = {row["name"]: row for row in weights.registry_rows()}
    assert rows["custom-lab"]["weights"] == "own weights" and rows["custom-lab"]["source"] == f"run {trained_run.id}"


def test_train_a_new_run_on_the_cut_base_and_counts_match_keras(lab_backbone, trained_run, make_config):
    from tlcore.layers.loading import load_model
    from tlcore.modeling.model import base_of, keras_param_counts, set_freeze
    from tlcore.runs.folders import FINISHED, create_run
    from tlcore.worker import run_job

    run = create_run(make_config(trained_run.config().dataset, backbone="custom-lab", weights="imagenet"))
    assert run_job(run, wait=False) == FINISHED, run.status().get("error")

    model = load_model(run.model_path)
    assert keras_param_counts(model) == count_params("custom-lab", 3, None)
    for fine_tune_at in (0, 10, 40):
        set_freeze(base_of(model), fine_tune_at, pretrained=True)
        assert keras_param_counts(model) == count_params("custom-lab", 3, fine_tune_at)
    # The frozen base kept the first run's trained weights: its own, not ImageNet, not random.
    first = base_of(load_model(trained_run.model_path)).get_layer("Conv1").get_weights()[0]
    assert np.array_equal(base_of(model).get_layer("Conv1").get_weights()[0], first)


def test_random_weights_and_another_size_rebuild_the_same_layers(lab_backbone):
    own = lab_backbone.build_base(32, "imagenet")
    fresh = lab_backbone.build_base(64, None)

    assert [layer.name for layer in fresh.layers[1:]] == [layer.name for layer in own.layers[1:]]
    assert fresh.output.shape[1:] == (8, 8, 32) and fresh.count_params() == own.count_params()
    assert not np.array_equal(fresh.get_layer("Conv1").get_weights()[0], own.get_layer("Conv1").get_weights()[0])


def test_summary_cli_counts_a_custom_backbone(lab_backbone, capsys):
    assert cli.main(["summary", "--backbone", "custom-lab", "--classes", "3", "--fine-tune-at", "10", "--json"]) == 0

    result = json.loads(capsys.readouterr().out)
    expected = count_params("custom-lab", 3, 10)
    assert (result["image_size"], result["total"], result["trainable"]) == (32, expected.total, expected.trainable)


def test_bad_names_layers_and_duplicates_are_refused(lab_backbone, trained_run):
    with pytest.raises(ValueError, match="already exists"):
        custom_backbones.create_custom("lab", trained_run.model_path, CUT_AT, source="again")
    with pytest.raises(ValueError, match="not a usable name"):
        custom_backbones.create_custom("Lab Base!", trained_run.model_path, CUT_AT, source="x")
    with pytest.raises(ValueError, match="Cannot cut at 'head'"):
        custom_backbones.create_custom("lab2", trained_run.model_path, "head", source="x")
    assert custom_backbones.custom_names() == ["custom-lab"]


def test_corrupt_and_unsafe_model_files_get_a_clear_message(tmp_path):
    import keras

    with pytest.raises(BadModelFile, match="`broken.keras` is not a Keras model file"):
        custom_backbones.save_model_upload("broken.keras", b"not a zip file")
    inputs = keras.Input((8, 8, 3))
    unsafe = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    unsafe.save(tmp_path / "unsafe.keras")
    with pytest.raises(BadModelFile, match="refused by Keras safe mode: it contains Python code"):
        custom_backbones.save_model_upload("unsafe.keras", (tmp_path / "unsafe.keras").read_bytes())
    assert not list((custom_backbones.custom_root() / ".uploads").glob("*.keras"))  # nothing refused is kept
