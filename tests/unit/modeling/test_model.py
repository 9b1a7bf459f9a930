"""tlcore.modeling.model and tlcore.backbones.layer_tables: parameter counts from the tables equal what Keras builds, freeze rules.

Building models needs TensorFlow, imported here only inside fixtures and tests (tables need none).
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tlcore.backbones import registry as backbones
from tlcore.backbones.catalog import layer_table
from tlcore.backbones.layer_tables import LayerTable
from tlcore.backbones.registry import REGISTRY
from tlcore.backbones.weights import WeightsUnavailable
from tlcore.config.training import TrainConfig
from tlcore.modeling.model import ParamCounts, count_params, head_units, resolve_weights

REPO_ROOT = Path(__file__).resolve().parents[3]

# A mid-network fine_tune_at for each backbone (index into its base layers).
FINE_TUNE_MIDDLE = {"MobileNetV2": 100, "ResNet50": 120, "VGG16": 11, "EfficientNetB0": 150}


def _config(backbone: str, fine_tune_at, weights: str, image_size: int = 32, **extra) -> TrainConfig:
    return TrainConfig(dataset="unused", backbone=backbone, image_size=image_size, fine_tune_at=fine_tune_at,
                       weights=weights, **extra)


# --- pure table arithmetic -----------------------------------------------------------------------------------------
# The seed labs' tables: the TF "Transfer learning and fine-tuning" tutorial (MobileNetV2 @160, one sigmoid unit,
# fine_tune_at = 100) and VGG16 @224 with its last 5 base layers trainable under GAP + Dense(10).
TUTORIAL_MOBILENET_V2 = ParamCounts(2_259_265, 1_862_721, 396_544)
VGG16_LAST_FIVE = ParamCounts(14_719_818, 7_084_554, 7_635_264)


def test_seed_table_numbers_from_the_layer_tables():
    assert count_params("MobileNetV2", 2, 100) == TUTORIAL_MOBILENET_V2
    assert count_params("VGG16", 10, len(layer_table("VGG16").layers) - 5) == VGG16_LAST_FIVE


def test_frozen_base_leaves_only_the_head_trainable():
    assert count_params("MobileNetV2", 2, None) == ParamCounts(2_259_265, 1_281, 2_257_984)  # 1280 weights + bias
    assert count_params("MobileNetV2", 10, None).trainable == 12_810
    assert count_params("VGG16", 5, None).trainable == 512 * 5 + 5


def test_unfrozen_batchnorm_gamma_and_beta_count_as_trainable():
    # A pretrained base keeps its statistics by running in inference mode: only the moving means and variances
    # stay out of training, as from random weights.
    table = layer_table("MobileNetV2")
    moving_statistics = sum(row.non_trainable for row in table.layers if row.kind == "BatchNormalization")

    assert moving_statistics == 34_112
    assert count_params("MobileNetV2", 3, 0).non_trainable == moving_statistics


def test_fine_tune_at_past_the_last_layer_is_the_same_as_frozen():
    layers = len(layer_table("MobileNetV2").layers)

    assert count_params("MobileNetV2", 4, layers) == count_params("MobileNetV2", 4, 10_000) == \
        count_params("MobileNetV2", 4, None)


def test_head_is_one_sigmoid_unit_for_two_classes():
    assert [head_units(n) for n in (2, 3, 10)] == [1, 3, 10]


def test_counting_needs_no_tensorflow():
    # Pages count parameters on every slider move; importing TensorFlow there would cost ~20 s.
    code = ("import sys; from tlcore.modeling.model import count_params; import tlcore.jobs.scheduler, tlcore.figures, tlcore.cli;"
            "c = count_params('ResNet50', 3, 100); print(c.total, 'tensorflow' in sys.modules, 'keras' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(count_params("ResNet50", 3, 100).total), "False", "False"]


# --- weights argument ----------------------------------------------------------------------------------------------
def test_resolve_weights():
    assert resolve_weights(_config("MobileNetV2", None, "random")) is None
    assert resolve_weights(_config("MobileNetV2", None, "imagenet")) == "imagenet"
    assert resolve_weights(_config("MobileNetV2", None, "/models/my_weights.h5")) == "/models/my_weights.h5"


def test_imagenet_weights_at_a_size_they_cannot_load_are_refused_not_replaced():
    with pytest.raises(WeightsUnavailable) as refused:
        resolve_weights(_config("NASNetMobile", None, "imagenet", image_size=96))

    assert str(refused.value) == ("NASNetMobile's ImageNet weights only load at 224×224; choose that image size "
                                  "or random initialisation.")
    assert resolve_weights(_config("NASNetMobile", None, "imagenet", image_size=224)) == "imagenet"


def _failing_download(monkeypatch):
    """Make the Keras constructor fail the way an offline download does, without touching the network."""
    from tlcore.backbones.registry import Backbone

    def refuse(self, image_size, weights):
        raise OSError("URL fetch failure: [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(Backbone, "build_base", refuse)


def test_failed_imagenet_download_names_the_file_to_upload_and_logs_the_folder(monkeypatch, studio_dirs, caplog):
    from tlcore.modeling.model import build_base

    _failing_download(monkeypatch)
    with pytest.raises(WeightsUnavailable) as refused:
        build_base(_config("MobileNetV2", None, "imagenet", image_size=160))

    message = str(refused.value)
    assert "Could not download ImageNet weights for MobileNetV2 (OSError: URL fetch failure" in message
    assert ("Upload `mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_160_no_top.h5` on the Backbones page (Upload "
            "a weights file), or choose random initialisation.") in message
    assert str(studio_dirs.keras_home) not in message  # the folder is for admins: in the log
    assert str(studio_dirs.keras_home / "models") in caplog.text


def test_a_failure_with_cached_weights_is_not_blamed_on_the_download(monkeypatch, studio_dirs):
    from tlcore.modeling.model import build_base

    cached = studio_dirs.keras_home / "models" / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_160_no_top.h5"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"not really weights")
    _failing_download(monkeypatch)
    with pytest.raises(OSError, match="URL fetch failure"):
        build_base(_config("MobileNetV2", None, "imagenet", image_size=160))


# --- against Keras -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("backbone", list(FINE_TUNE_MIDDLE))
def test_count_params_equals_a_direct_keras_build(backbone):
    from tlcore.modeling.model import build_model, keras_param_counts

    fine_tune_at = FINE_TUNE_MIDDLE[backbone]
    model = build_model(_config(backbone, fine_tune_at, "random"), 2, load_weights=False)

    assert keras_param_counts(model) == count_params(backbone, 2, fine_tune_at)


def test_tutorial_model_with_imagenet_weights_has_the_tutorial_numbers(standin_imagenet):
    # The (stand-in) ImageNet weights really load, offline, as a user's cached download would.
    from tlcore.layers.inference_mode import InferenceModeBase
    from tlcore.modeling.model import build_model, keras_param_counts

    model = build_model(_config("MobileNetV2", 100, "imagenet", image_size=160), 2)

    assert isinstance(model.get_layer("base"), InferenceModeBase)
    assert keras_param_counts(model) == TUTORIAL_MOBILENET_V2
    assert model.output_shape == (None, 1)
    assert model.get_layer("head").get_config()["activation"] == "sigmoid"


def test_vgg16_last_five_layers_with_imagenet_weights_have_the_seed_numbers():
    # VGG16's ImageNet file is md5-checked (a stand-in would be deleted offline): the same model without loading.
    from tlcore.modeling.model import build_model, keras_param_counts

    model = build_model(_config("VGG16", 14, "imagenet", image_size=224), 10, load_weights=False)

    assert keras_param_counts(model) == VGG16_LAST_FIVE
    assert [layer.name for layer in model.layers] == ["image", "preprocess", "base", "pool", "dropout", "head"]


@pytest.fixture(scope="module")
def built_models():
    """One Keras build per (backbone, classes, weights); tests re-apply the freeze, as fine-tuning does to a loaded
    model. "imagenet" builds the wrapped base without loading weights: counts do not depend on their values."""
    from tlcore.modeling.model import build_model

    cache = {}

    def get(backbone: str, classes: int, weights: str = "imagenet"):
        if (backbone, classes, weights) not in cache:
            cache[backbone, classes, weights] = build_model(_config(backbone, None, weights), classes,
                                                            load_weights=False)
        return cache[backbone, classes, weights]

    yield get
    cache.clear()


@pytest.mark.parametrize("backbone", list(FINE_TUNE_MIDDLE))
@pytest.mark.parametrize("classes, weights", [(2, "imagenet"), (10, "imagenet"), (2, "random")])
def test_count_params_equals_keras_for_every_freeze(built_models, backbone, classes, weights):
    from tlcore.modeling.model import base_of, keras_param_counts, set_freeze

    model = built_models(backbone, classes, weights)
    # From frozen to partly unfrozen, then deeper (the order a student fine-tunes in), then frozen again.
    for fine_tune_at in (None, FINE_TUNE_MIDDLE[backbone], 0, 10_000):
        set_freeze(base_of(model), fine_tune_at, weights == "imagenet")

        assert keras_param_counts(model) == count_params(backbone, classes, fine_tune_at), \
            f"fine_tune_at={fine_tune_at}"


def test_set_freeze_trains_every_layer_from_fine_tune_at_and_speeds_up_batchnorm_only_from_scratch(built_models):
    from tlcore.modeling.model import SCRATCH_BATCHNORM_MOMENTUM, base_of, set_freeze

    base = base_of(built_models("MobileNetV2", 2, "random"))
    layers = base.layers
    above = [layer for layer in layers[100:] if layer.weights]
    top_batchnorm = [layer for layer in above if type(layer).__name__ == "BatchNormalization"]

    momentum = [layer.momentum for layer in top_batchnorm]
    set_freeze(base, 100, pretrained=True)
    assert not any(layer.trainable for layer in layers[:100])
    assert top_batchnorm and all(layer.trainable for layer in above)
    assert [layer.momentum for layer in top_batchnorm] == momentum  # left alone: pretrained statistics never move

    set_freeze(base, 100, pretrained=False)
    assert all(layer.trainable for layer in above)
    assert {layer.momentum for layer in top_batchnorm} == {SCRATCH_BATCHNORM_MOMENTUM}

    set_freeze(base, None)
    assert not base.trainable and not any(layer.trainable for layer in layers)


def test_fine_tuning_a_saved_fine_tuned_model_deeper_unfreezes_the_layers_in_between(tmp_path):
    # A second fine-tuning phase: the parent was saved with layers [0, 100) frozen; the child asks for [0, 50).
    from tlcore.layers.loading import load_model
    from tlcore.modeling.model import base_of, build_model, keras_param_counts, set_freeze

    build_model(_config("MobileNetV2", 100, "random"), 3, load_weights=False).save(tmp_path / "parent.keras")
    child = load_model(tmp_path / "parent.keras")

    set_freeze(base_of(child), 50, pretrained=False)

    assert all(layer.trainable for layer in base_of(child).layers[50:100])
    assert keras_param_counts(child) == count_params("MobileNetV2", 3, 50)


def test_model_reads_top_to_bottom(built_models):
    from tlcore.layers.inference_mode import InferenceModeBase
    from tlcore.modeling.model import base_of

    model = built_models("VGG16", 10)
    from_scratch = built_models("VGG16", 2, "random")

    assert [layer.name for layer in model.layers] == ["image", "preprocess", "base", "pool", "dropout", "head"]
    assert [layer.name for layer in from_scratch.layers] == [layer.name for layer in model.layers]
    assert isinstance(model.get_layer("base"), InferenceModeBase)  # pretrained: the base runs in inference mode
    assert from_scratch.get_layer("base") is base_of(from_scratch)  # from scratch: nested as it is, BatchNorm learns
    assert base_of(model).name == "base" and type(base_of(model)).__name__ == "Functional"
    assert model.get_layer("preprocess").mode == "caffe"
    assert model.get_layer("dropout").rate == 0.2
    assert model.output_shape == (None, 10)
    assert model.get_layer("head").get_config()["activation"] == "softmax"


def test_augmentation_sits_before_preprocessing_and_adds_no_parameters():
    from tlcore.config.augmentation import AugmentConfig
    from tlcore.modeling.model import build_model, keras_param_counts

    config = _config("MobileNetV2", None, "random", augment=True,
                     augmentation=AugmentConfig(flip="horizontal", rotation=0.1, zoom=0.0))
    model = build_model(config, 3, load_weights=False)

    assert [layer.name for layer in model.layers][:3] == ["image", "augmentation", "preprocess"]
    assert [type(layer).__name__ for layer in model.get_layer("augmentation").layers] == \
        ["RandomFlip", "RandomRotation"]
    assert keras_param_counts(model) == count_params("MobileNetV2", 3, None)


# --- shipped layer tables ------------------------------------------------------------------------------------------
def test_every_backbone_has_a_shipped_table():
    """Every Keras application and every KerasHub preset ships its table, and no table is left over."""
    from tlcore.backbones.catalog import pretrained_names

    shipped = {path.stem for path in (REPO_ROOT / "tlcore" / "backbones" / "layer_tables_data").glob("*.json")}

    assert shipped == set(pretrained_names())


def test_backbone_without_a_shipped_table_is_measured_once_and_cached(studio_dirs, monkeypatch, tmp_path):
    from tlcore.backbones import layer_tables

    monkeypatch.setattr(layer_tables, "SHIPPED_DIR", tmp_path / "no-tables")
    layer_tables.table_for.cache_clear()
    try:
        table = layer_tables.table_for(REGISTRY["VGG16"])
        cached = layer_tables._cached_table_path(REGISTRY["VGG16"])  # per Keras version (a new Keras measures again)

        assert cached.is_file() and cached.parent == studio_dirs.home / "cache" / "layer_tables"
        assert LayerTable.from_dict(json.loads(cached.read_text())) == table
        assert table.feature_dim == 512 and sum(r.trainable for r in table.layers) == 14_714_688

        layer_tables.table_for.cache_clear()  # a new process: the cached file is read, nothing is built
        monkeypatch.setattr(layer_tables, "measure_layer_table", lambda backbone: pytest.fail("measured again"))
        assert layer_tables.table_for(REGISTRY["VGG16"]) == table
    finally:
        layer_tables.table_for.cache_clear()


# --- runs saved before the base was wrapped -------------------------------------------------------------------------
def _as_saved_before_the_wrapper(model):
    """`model` as TL Studio built it before InferenceModeBase: the base nested directly and called with
    training=False (which fit overrides), its BatchNorm layers frozen to keep their statistics."""
    import keras

    from tlcore.modeling.model import base_of

    base = base_of(model)
    for layer in base.layers:
        if type(layer).__name__ == "BatchNormalization":
            layer.trainable = False
    input_layer, *layers = model.layers
    x = inputs = keras.Input(shape=model.input_shape[1:], name=input_layer.name)
    for layer in layers:
        x = base(x, training=False) if layer is model.get_layer("base") else layer(x)
    return keras.Model(inputs, x, name=model.name)


def test_a_run_saved_before_the_wrapper_loads_predicts_and_fine_tunes_in_inference_mode(trained_run, studio_dirs):
    import numpy as np

    from tlcore.datasets.pipeline import load_arrays
    from tlcore.layers.loading import load_model
    from tlcore.modeling.model import base_of, runs_base_in_inference_mode
    from tlcore.runs.folders import FINISHED, create_run
    from tlcore.worker import run_job

    current = load_model(trained_run.model_path)
    _as_saved_before_the_wrapper(current).save(trained_run.model_path)  # the run folder now holds an old model
    old = load_model(trained_run.model_path)
    images, _ = load_arrays(studio_dirs.data_root / trained_run.config().dataset, trained_run.split().test, 32)

    assert not runs_base_in_inference_mode(old)
    expected = current.predict(images, verbose=0)
    assert expected.std(axis=0).min() > 0.1  # the shared run discriminates (see conftest)
    assert np.allclose(old.predict(images, verbose=0), expected, atol=1e-6)

    child = create_run(trained_run.config().fine_tune(parent_run=trained_run.id, fine_tune_at=100, epochs=1))
    assert run_job(child, wait=False) == FINISHED, child.status().get("error")

    tuned = load_model(child.model_path)
    assert runs_base_in_inference_mode(tuned)
    assert child.status()["trainable_params"] == count_params("MobileNetV2", 3, 100).trainable
    for index, (was, now) in enumerate(zip(base_of(old).layers, base_of(tuned).layers)):
        if type(was).__name__ != "BatchNormalization":
            continue
        assert np.array_equal(np.asarray(now.moving_mean), np.asarray(was.moving_mean)), was.name
        assert np.array_equal(np.asarray(now.moving_variance), np.asarray(was.moving_variance)), was.name
        assert np.array_equal(np.asarray(now.gamma), np.asarray(was.gamma)) == (index < 100), was.name
