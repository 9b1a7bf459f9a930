"""tlcore.modeling.codegen: the "Show me the code" script is the same training as the app's.

The script runs as a program on the split it is given (split.json beside it) and the app trains the same config
through `tlcore.worker.run_job`; the two saved models must match layer by layer (type, name, trainable, weight shapes,
every setting; the app's model in its portable form, TL Studio's layers replaced by Keras's own) and their first epoch
must give the same loss, within a stated tolerance. The script is plain Keras: no TL Studio class in it or in its model.
"""

import ast

import importlib.util
import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tlcore.config.augmentation import AugmentConfig
from tlcore.config.training import TrainConfig
from tlcore.modeling.model import config_param_counts

# Same seed, same construction order, same data order: measured, the first-epoch losses and the weights after it are
# bit-identical (difference 0). A little room is left for a CPU that sums in another order.
FIRST_EPOCH_LOSS_RELATIVE_TOLERANCE = 1e-4
TRAINED_WEIGHTS_TOLERANCE = 1e-3
EVERY_AUGMENTATION = AugmentConfig(flip="horizontal", rotation=0.05, zoom=0.1, translation=0.1, contrast=0.1,
                                   brightness=0.1, crop=0.1)
APP_WRAPS_A_PRETRAINED_BASE = importlib.util.find_spec("tlcore.layers.inference_mode") is not None


def _layer_rows(model) -> list[tuple]:
    """Every layer, nested ones included, as (type, name, trainable, weight shapes, settings).

    Names lose a trailing `_<n>`: Keras numbers auto-named layers per process (random_flip_3), and the two models
    are built in different processes. Containers (models) are described by the layers inside them."""
    import keras

    rows = []
    for layer in model._flatten_layers(include_self=False, recursive=True):
        settings = {} if isinstance(layer, keras.Model) else \
            {key: value for key, value in layer.get_config().items() if key not in ("name", "base")}
        rows.append((type(layer).__name__, re.sub(r"_\d+$", "", layer.name), layer.trainable,
                     [tuple(weight.shape) for weight in layer.weights] if not isinstance(layer, keras.Model) else [],
                     json.dumps(settings, sort_keys=True, default=str)))
    return rows


def _first_epoch(history_csv: Path) -> dict[str, float]:
    header, first, *_ = history_csv.read_text().splitlines()
    return {name: float(value) for name, value in zip(header.split(","), first.split(",")) if value}


def _script_and_app(config: TrainConfig, folder: Path, data_dir: Path):
    """Write the script beside the split the app will use, run it, then train the same config in the app."""
    from tlcore.modeling.codegen import write_script
    from tlcore.runs.folders import FINISHED, create_run
    from tlcore.training.fit import prepare_split
    from tlcore.worker import run_job

    split = prepare_split(config)[1]
    script = write_script(folder, config, data_dir, split)
    # The script runs in its own process while this one trains the app's run: the two share nothing but the
    # (read-only) images, and the second core would otherwise idle through the script's TensorFlow start-up.
    program = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, cwd=folder, env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "2",
                                                           "COLUMNS": "200", "HOME": str(folder)})
    try:
        run = create_run(config)
        with pytest.MonkeyPatch.context() as patch:
            # The script decodes with Pillow; the app's TensorFlow decoding differs by up to NATIVE_TOLERANCE (±1
            # level), which a 1-epoch run from random weights amplifies past the bit-identical check. So the app
            # decodes with Pillow here too (tests/unit/datasets/test_decode.py checks the native pixels).
            patch.setenv("TLSTUDIO_NATIVE_DECODE", "0")
            assert run_job(run, wait=False) == FINISHED, run.status().get("error")
        stdout, stderr = program.communicate(timeout=600)
    finally:
        if program.poll() is None:
            program.kill()
            program.wait()
    assert program.returncode == 0, stderr[-3000:]
    assert run.split().to_dict() == json.loads((folder / "split.json").read_text())  # the same files, everywhere
    return stdout, run


def _without_preprocessing(rows: list[tuple]) -> list[tuple]:
    """The script preprocesses with the lab's `preprocess_input` (Keras operations, not layers); the app with its own
    layer. That they compute the same is checked by test_the_scripts_preprocessing_computes_what_the_app_computes."""
    return [row for row in rows if not row[1].startswith("preprocess")]


def _assert_same_training(config: TrainConfig, class_count: int, stdout: str, folder: Path, run) -> None:
    import keras

    from tlcore.inference.portable import nonstandard_layer_classes, portable_model
    from tlcore.layers.loading import load_model

    script_model = keras.saving.load_model(folder / "model.keras")  # plain Keras: loads without tlcore's classes
    assert nonstandard_layer_classes(script_model) == []
    app_model = portable_model(load_model(run.model_path))
    app_rows, script_rows = _without_preprocessing(_layer_rows(app_model)), _without_preprocessing(
        _layer_rows(script_model))
    assert len(app_rows) == len(script_rows)
    for app_row, script_row in zip(app_rows, script_rows):
        assert app_row == script_row
    assert [layer.name for layer in script_model.layers if not layer.name.startswith("preprocess")] == \
        [layer.name for layer in app_model.layers if not layer.name.startswith("preprocess")]
    counts = config_param_counts(config, class_count)
    shown = {name: int(number.replace(",", "")) for name, number in
             re.findall(r"(Total|Trainable|Non-trainable) params: ([\d,]+)", stdout)}
    assert shown == {"Total": counts.total, "Trainable": counts.trainable, "Non-trainable": counts.non_trainable}
    app_epoch, script_epoch = _first_epoch(run.path / "history.csv"), _first_epoch(folder / "history.csv")
    for metric in ("loss", "val_loss"):
        assert script_epoch[metric] == pytest.approx(app_epoch[metric], rel=FIRST_EPOCH_LOSS_RELATIVE_TOLERANCE), \
            (metric, script_epoch[metric], app_epoch[metric])
    difference = max(float(np.abs(app - script).max())
                     for app, script in zip(app_model.get_weights(), script_model.get_weights()))
    assert difference < TRAINED_WEIGHTS_TOLERANCE  # same initial weights, same batches, same augmentation draws


def test_the_script_trains_what_the_app_trains(tiny_dataset, studio_dirs, tmp_path):
    """Every augmentation layer, partial freeze from random weights (BatchNorm momentum), max pooling, a hidden layer,
    label smoothing (one-hot labels), AdamW with cosine decay, class weights and early stopping."""
    dataset = tiny_dataset("code", classes=("0", "1", "2"), per_class=30)
    config = TrainConfig(dataset=dataset, backbone="MobileNetV2", image_size=32, epochs=1, batch_size=16,
                         weights="random", fine_tune_at=100, augment=True, augmentation=EVERY_AUGMENTATION,
                         pooling="max", hidden_units=16, label_smoothing=0.1, optimizer="adamw", lr_schedule="cosine",
                         class_weights=True, early_stopping_patience=1)

    stdout, run = _script_and_app(config, tmp_path / "script", studio_dirs.data_root / dataset)

    _assert_same_training(config, 3, stdout, tmp_path / "script", run)
    assert '"augmentation"' in (tmp_path / "script" / "train.py").read_text()
    assert "'accuracy'" in stdout.splitlines()[-1]  # measured on the test split at the end


@pytest.fixture
def lab_backbone(trained_run):
    """A custom backbone cut from a run's MobileNetV2 at block_5_add (4×4×32 at 32 px)."""
    from tlcore.backbones import custom

    return custom.create_custom("lab", trained_run.model_path, "block_5_add", source=f"run {trained_run.id}")


@pytest.mark.parametrize("weights", [
    "random",
    pytest.param("imagenet", marks=pytest.mark.skipif(
        not APP_WRAPS_A_PRETRAINED_BASE, reason="the app wraps a pretrained base in InferenceModeBase only once "
                                                "tlcore.layers.inference_mode exists (issue 11, item 1)")),
], ids=["fresh-layers", "own-weights"])
def test_a_custom_backbone_script_loads_its_base_and_trains_the_same(lab_backbone, tiny_dataset, studio_dirs,
                                                                     tmp_path, weights):
    dataset = tiny_dataset("pair", classes=("3", "8"), per_class=20)
    config = TrainConfig(dataset=dataset, backbone=lab_backbone.name, image_size=32, epochs=1, batch_size=8,
                         weights=weights, fine_tune_at=0)

    stdout, run = _script_and_app(config, tmp_path / "script", studio_dirs.data_root / dataset)

    script_text = (tmp_path / "script" / "train.py").read_text()
    assert f"keras.saving.load_model({str(lab_backbone.saved_base)!r}, compile=False)" in script_text
    assert "keras.applications.custom" not in script_text
    _assert_same_training(config, 2, stdout, tmp_path / "script", run)


@pytest.mark.parametrize("mode, module", [("tf", "mobilenet_v2"), ("caffe", "vgg16"), ("torch", "densenet"),
                                          ("tf", None), ("caffe", None), ("torch", None), ("scale01", None),
                                          ("none", None)])
def test_the_scripts_preprocessing_computes_what_the_app_computes(mode, module, tmp_path):
    """The script's preprocessing lines, in a model saved and loaded back (safe mode, plain Keras), give what the
    app's ImagePreprocess gives, and add no weights (the parameter counts stay the app's)."""
    import keras

    from tlcore.layers.preprocess import ImagePreprocess
    from tlcore.modeling.codegen import preprocess_lines

    inputs = keras.Input((8, 8, 3))
    namespace = {"keras": keras, "x": inputs}
    exec("\n".join(preprocess_lines(mode, module)), namespace)
    model = keras.Model(inputs, namespace["x"])
    images = np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 3)).astype("float32")
    expected = np.asarray(ImagePreprocess(mode)(images))
    np.testing.assert_allclose(np.asarray(model(images)), expected, rtol=1e-6, atol=1e-5)
    assert model.count_params() == 0
    path = tmp_path / "preprocess.keras"
    model.save(path)
    np.testing.assert_allclose(np.asarray(keras.saving.load_model(path)(images)), expected, rtol=1e-6, atol=1e-5)


def test_the_scripts_base_call_keeps_batchnorm_in_inference_mode_while_its_weights_train():
    """The script's lines around `base_model(x, training=False)`: during `fit` with every base layer unfrozen,
    BatchNorm keeps its moving statistics and Dropout stays off (as TL Studio's InferenceModeBase), while gamma, beta
    and the kernels train. Without the line that sets `base_model.call`, Keras 3 moves the statistics."""
    import keras

    from tlcore.modeling.codegen import base_call_lines

    base_input = keras.Input((4,))
    base_model = keras.Model(base_input, keras.layers.Dropout(0.9)(keras.layers.BatchNormalization()(
        keras.layers.Dense(4)(base_input))))
    base_model.trainable = True
    inputs = keras.Input((4,))
    namespace = {"keras": keras, "base_model": base_model, "x": inputs}
    exec("\n".join(base_call_lines()), namespace)
    model = keras.Model(inputs, keras.layers.Dense(1)(namespace["x"]))
    model.compile("sgd", "mse")
    batchnorm = base_model.layers[2]
    before = [np.array(weight) for weight in batchnorm.weights]  # gamma, beta, moving mean, moving variance
    data = np.random.default_rng(1).uniform(0, 5, (64, 4)).astype("float32")
    model.fit(data, data[:, :1], epochs=1, batch_size=16, verbose=0)
    after = [np.array(weight) for weight in batchnorm.weights]
    assert not np.allclose(before[0], after[0]) and not np.allclose(before[1], after[1])  # gamma and beta train
    np.testing.assert_array_equal(before[2], after[2])
    np.testing.assert_array_equal(before[3], after[3])
    np.testing.assert_allclose(np.asarray(model(data, training=True)), np.asarray(model(data, training=False)),
                               rtol=1e-5)  # Dropout(0.9) inside the base is off


def _tlstudio_class_names() -> set[str]:
    """Every class TL Studio defines for its models (tlcore/layers/*.py)."""
    import tlcore.layers

    names = set()
    for path in Path(tlcore.layers.__file__).parent.glob("*.py"):
        names |= {node.name for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.ClassDef)}
    return names


@pytest.mark.parametrize("config", [
    TrainConfig(dataset="d", backbone="MobileNetV2", image_size=32, fine_tune_at=100, augment=True),
    TrainConfig(dataset="d", backbone="VGG16", image_size=32),
    TrainConfig(dataset="d", backbone="DenseNet121", image_size=32, fine_tune_at=300),
    TrainConfig(dataset="d", backbone="EfficientNetB0", image_size=32),
    TrainConfig(dataset="d", backbone="MobileNetV2", image_size=32, weights="random"),
    TrainConfig(dataset="d", backbone="SmallCNN", image_size=32, weights="random"),
], ids=["mobilenet_v2-fine-tuned", "vgg16-caffe", "densenet-torch", "efficientnet-none", "random", "small-cnn"])
def test_the_script_is_plain_keras(config):
    """No TL Studio class is defined, copied or used in the script: Keras's own layers, the lab's preprocess_input."""
    from tlcore.modeling.codegen import keras_script

    script = keras_script(config, "/data/d", 3, earlier=[replace(config, fine_tune_at=None)]
                          if config.fine_tune_at is not None else ())

    tree = ast.parse(script)
    assert not [node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)} | {
        node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    assert not used & _tlstudio_class_names()
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in node.names} | {node.module.split(".")[0] for node in ast.walk(tree)
                                            if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= {"json", "pathlib", "keras", "numpy", "tensorflow", "PIL", "tensorboard", "Path", "Image"}
    assert "register_keras_serializable" not in script and "tlcore" not in script


def test_every_augmentation_setting_reaches_the_script():
    from tlcore.modeling.codegen import keras_script

    config = TrainConfig(dataset="d", image_size=40, weights="random", augment=True,
                         augmentation=AugmentConfig("vertical", 0.15, 0.2, 0.25, 0.3, 0.35, 0.25))

    script = keras_script(config, "/data/d", 4)

    for line in ('keras.layers.RandomFlip("vertical")', "keras.layers.RandomRotation(0.15)",
                 "keras.layers.RandomZoom(0.2)", "keras.layers.RandomTranslation(0.25, 0.25)",
                 "keras.layers.RandomContrast(0.3, value_range=(0, 255))",
                 "keras.layers.RandomBrightness(0.35, value_range=(0, 255))",
                 "keras.layers.RandomCrop(30, 30)", "keras.layers.Resizing(IMAGE_SIZE, IMAGE_SIZE)"):
        assert line in script
    compile(script, "train.py", "exec")
    assert "RandomFlip" not in keras_script(TrainConfig(dataset="d", augment=False), "/data/d", 4)


def test_the_script_and_its_split_come_as_one_zip(tiny_dataset, studio_dirs):
    import io
    import zipfile

    from tlcore.modeling.codegen import script_zip
    from tlcore.training.fit import prepare_split

    config = TrainConfig(dataset=tiny_dataset("zipped", classes=("0", "1"), per_class=10), image_size=32)
    split = prepare_split(config)[1]

    with zipfile.ZipFile(io.BytesIO(script_zip(config, studio_dirs.data_root / "zipped", split))) as bundle:
        assert sorted(bundle.namelist()) == ["split.json", "train.py"]
        assert json.loads(bundle.read("split.json")) == split.to_dict()
        assert "DATA_DIR = Path(" in bundle.read("train.py").decode()
