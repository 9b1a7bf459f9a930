"""Export a run's model as .keras, SavedModel, TFLite (float32 / float16 / int8), ONNX and OpenVINO IR, each checked.

Each file is checked in the runtime people deploy it on (`tlcore.inference.runtimes`): onnxruntime for ONNX, the
OpenVINO runtime for IR, the LiteRT interpreter for TFLite; Keras and TensorFlow only for `.keras` and SavedModel.
The `.keras` export holds Keras's own layers only (`tlcore.inference.portable`), so it loads without TL Studio.

Every format is written from the serving model (`tlcore.inference.serving`: the trained layers without augmentation,
run in inference mode), so a run trained with augmentation serves what the app predicts. Every export is reloaded
from disk and run on the test split next to the in-app model: file size, test accuracy, single-image latency, top-1
agreement with the app (≥ 99 % required for float formats; int8 is reported as it is), and the op types of the
exported graph, none of which may augment. A calibrated run's exports divide the logits by its temperature before
the activation (`serving_model(model, temperature)`), so they give the calibrated probabilities the app shows and
parity is checked against those. Results live in the run folder: `exports/<format>/` (the model, labels.txt,
metadata.json with the temperature and "not sure" threshold, and the model card), `exports/report.json`, and
`exports/model_card.md` / `.json`.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from tlcore.datasets.pipeline import load_arrays
from tlcore.inference.calibrated import NOT_SURE, Confidence
from tlcore.inference.bundle import BUNDLE_FILE, write_bundle
from tlcore.inference.calibrated import stored_confidence
from tlcore.inference.model_card import JSON_FILE, MARKDOWN_FILE, write_model_card
from tlcore.inference.portable import portable_model
from tlcore.inference.predictor import Predictor, compiled_call, probabilities_2d
from tlcore.inference.runtimes import (
    LATENCY_REPEATS,
    THROUGHPUT_BATCH,
    RuntimeUnavailable,
    client_input,
    latency_stats,
    litert_runner,
    onnx_runner,
    openvino_runner,
    runtime_versions,
    throughput,
)
from tlcore.inference.snippets import readme, snippets_for
from tlcore.inference.serving import (
    augmentation_ops,
    export_saved_model,
    layer_types,
    saved_model_op_types,
    serving_model,
    tflite_op_types,
)
from tlcore.layers.loading import load_model
from tlcore.runs.folders import Run, get_run
from tlcore.runs.trained import open_trained_run
from tlcore.storage.atomic import read_json, write_json_atomic, write_text_atomic
from tlcore.storage.file_lock import file_lock

if TYPE_CHECKING:
    import keras


__all__ = [
    "FLOAT_PARITY_REQUIRED", "REPRESENTATIVE_IMAGES", "representative_items", "LATENCY_CALLS", "Runner",
    "ExportUnavailable",
    "ExportFormat", "ExportContext", "tflite_interpreter", "FORMATS", "METADATA_FILE", "exports_dir", "read_report",
    "labels_text", "export_metadata", "size_bytes", "single_image_latency_ms", "check_export", "export_run",
    "export_task", "INT8_PARITY_REQUIRED", "QAT_TRIGGER_DROP", "QAT_UNAVAILABLE", "CHANCE_MARGIN", "staleness",
    "chance_warning", "bundle_run", "BUNDLE_FILE",
]

FLOAT_PARITY_REQUIRED = 0.99
INT8_PARITY_REQUIRED = 0.97  # int8 rounds every activation; below this its answers are not the app's
QAT_TRIGGER_DROP = 0.01  # int8 test accuracy this far below float32 → quantization-aware fine-tuning is offered
CHANCE_MARGIN = 0.02  # test accuracy within this of chance: parity then proves nothing, the report says so
# Checked 2026-12-07: tensorflow-model-optimization 0.8 takes only tf-keras (Keras 2) models; TL Studio's models are
# Keras 3 (tensorflow/model-optimization issues 1119 and 1270: quantize_model rejects Keras 3 models).
QAT_UNAVAILABLE = ("Quantization-aware fine-tuning is not available: TensorFlow Model Optimization (0.8) supports "
                   "only tf-keras (Keras 2) models, and this run's model is Keras 3 (tensorflow/model-optimization "
                   "issues 1119, 1270). Use the float16 or float32 file where the int8 accuracy drop matters.")
METADATA_FILE = "metadata.json"  # beside every exported model: what goes in, what comes out, when to say "not sure"
# int8 calibration: up to this many training images, balanced by class (`representative_items`). Measured on the test
# module's runs: binary (83 % accurate, many images near p = 0.5, 108 test images): 100 random training images →
# 96.3 % top-1 agreement with the app (4 flipped); 100 or 150 balanced → 97.2 %; all 196 balanced → 98.1 %.
# 3-class (95.0 %, 161 test images): 100, 150 or 200 balanced → 98.1 %, int8 accuracy 95.7 %; all 293 → 98.8 % but
# 93.8 % accurate, 1.2 points below float32. 200 met both targets on both runs.
REPRESENTATIVE_IMAGES = 200
LATENCY_CALLS = 20

Runner = Callable[[np.ndarray], np.ndarray]  # float32 (n, h, w, 3) raw RGB → model outputs


class ExportUnavailable(RuntimeError):
    """This server cannot produce or run a format (e.g. no TFLite interpreter); the message says why."""


@dataclass(frozen=True)
class ExportFormat:
    name: str  # the CLI's --format value and the folder under exports/
    label: str
    is_float: bool
    save: Callable[["keras.Model", Path, "ExportContext"], Path]  # writes into the folder, returns the artifact
    load: Callable[[Path], Runner]
    op_types: Callable[[Path], list[str]]  # what the reloaded file runs: layer classes (.keras) or graph op types
    runtime: str = "keras"  # the package that runs it in the parity check (a key of runtimes.runtime_versions)


@dataclass
class ExportContext:
    """What several formats share: a SavedModel to convert from, training images to calibrate int8."""

    exports: Path
    calibration_images: Callable[[], np.ndarray]
    _saved_model: Path | None = None
    work: Path | None = None  # this export's own scratch folder (a concurrent export has another)

    def saved_model(self, model: "keras.Model") -> Path:
        """The serving model's SavedModel, written once: the SavedModel format and every TFLite file come from it."""
        if self._saved_model is None or not self._saved_model.exists():
            self._saved_model = (self.work or self.exports / ".work") / "savedmodel"
            shutil.rmtree(self._saved_model, ignore_errors=True)
            export_saved_model(model, self._saved_model)
        return self._saved_model


# --- the formats ---------------------------------------------------------------------------------------------------
def _save_keras(model, folder: Path, context: ExportContext) -> Path:
    path = folder / "model.keras"
    model.save(path)
    return path


def _load_keras(path: Path) -> Runner:
    import keras

    # Keras's own loader, as a user without TL Studio would open it (the file holds standard layers only).
    return compiled_call(keras.models.load_model(path))


def _keras_layer_types(path: Path) -> list[str]:
    return layer_types(load_model(path))


def _save_savedmodel(model, folder: Path, context: ExportContext) -> Path:
    source = context.saved_model(model)
    shutil.copytree(source, folder / "savedmodel")
    return folder / "savedmodel"


def _load_savedmodel(path: Path) -> Runner:
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))  # kept by the closure: its variables die with it
    return lambda images: loaded.serve(tf.constant(images, dtype=tf.float32)).numpy()


def _tflite_op_types(path: Path) -> list[str]:
    return tflite_op_types(tflite_interpreter(path))


def _tflite_saver(quantisation: str):
    def save(model, folder: Path, context: ExportContext) -> Path:
        import tensorflow as tf

        converter = tf.lite.TFLiteConverter.from_saved_model(str(context.saved_model(model)))
        if quantisation == "float16":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.target_spec.supported_types = [tf.float16]
        elif quantisation == "int8":
            # Weights and activations in int8, calibrated on training images; input and output stay float32 so
            # the file takes the same raw RGB pixels as every other export.
            images = context.calibration_images()
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.representative_dataset = lambda: ([image[None]] for image in images)
        path = folder / "model.tflite"
        path.write_bytes(converter.convert())
        return path

    return save


def tflite_interpreter(path: Path):
    """The LiteRT interpreter when installed, else TensorFlow's own (deprecated in TF 2.21 but still shipped)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            import tensorflow as tf

            Interpreter = tf.lite.Interpreter
        except AttributeError as error:
            raise ExportUnavailable("No TFLite interpreter on this server: tf.lite.Interpreter is gone from this "
                                    "TensorFlow and the ai_edge_litert package is not installed.") from error
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated.*")
        return Interpreter(model_path=str(path))


def _load_tflite(path: Path) -> Runner:
    try:
        return litert_runner(path)
    except RuntimeUnavailable as error:
        raise ExportUnavailable(str(error)) from error


def _require(*modules: str) -> None:
    """Refuse a format whose converter or runtime is missing here, naming what to install."""
    import importlib.util

    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        raise ExportUnavailable(f"This server cannot make this format: {', '.join(missing)} not installed "
                                "(pip install -r requirements-export.txt).")


def _input_signature(model):
    import keras

    return [keras.InputSpec(shape=(None, *model.input_shape[1:]), dtype="float32", name="image")]


def _save_onnx(model, folder: Path, context: ExportContext) -> Path:
    """Keras 3's own ONNX export (tf2onnx under it), from the serving model: preprocessing in, augmentation out."""
    _require("tf2onnx", "onnx", "onnxruntime")
    path = folder / "model.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.export(str(path), format="onnx", input_signature=_input_signature(model), verbose=False)
    return path


def _save_openvino(model, folder: Path, context: ExportContext) -> Path:
    """Keras 3's own OpenVINO export (openvino.convert_model of the serving function): model.xml + model.bin."""
    _require("openvino")
    path = folder / "model.xml"
    model.export(str(path), format="openvino", input_signature=_input_signature(model), verbose=False)
    return path


def _load_onnx(path: Path) -> Runner:
    try:
        return onnx_runner(path)
    except RuntimeUnavailable as error:
        raise ExportUnavailable(str(error)) from error


def _load_openvino(path: Path) -> Runner:
    try:
        return openvino_runner(path)
    except RuntimeUnavailable as error:
        raise ExportUnavailable(str(error)) from error


def _onnx_op_types(path: Path) -> list[str]:
    import onnx

    graph = onnx.load(str(path)).graph
    return sorted({node.op_type for node in graph.node})


def _openvino_op_types(path: Path) -> list[str]:
    import openvino

    return sorted({op.get_type_name() for op in openvino.Core().read_model(str(path)).get_ops()})


FORMATS: dict[str, ExportFormat] = {fmt.name: fmt for fmt in (
    ExportFormat("keras", "Keras (.keras)", True, _save_keras, _load_keras, _keras_layer_types),
    ExportFormat("savedmodel", "TensorFlow SavedModel", True, _save_savedmodel, _load_savedmodel,
                 saved_model_op_types, "tensorflow"),
    ExportFormat("tflite-f32", "TFLite float32", True, _tflite_saver("float32"), _load_tflite, _tflite_op_types,
                 "ai-edge-litert"),
    ExportFormat("tflite-f16", "TFLite float16 weights", True, _tflite_saver("float16"), _load_tflite,
                 _tflite_op_types, "ai-edge-litert"),
    ExportFormat("tflite-int8", "TFLite int8 (calibrated)", False, _tflite_saver("int8"), _load_tflite,
                 _tflite_op_types, "ai-edge-litert"),
    ExportFormat("onnx", "ONNX", True, _save_onnx, _load_onnx, _onnx_op_types, "onnxruntime"),
    ExportFormat("openvino", "OpenVINO IR", True, _save_openvino, _load_openvino, _openvino_op_types, "openvino"),
)}


# --- running and checking ------------------------------------------------------------------------------------------
def exports_dir(run: "Run") -> Path:
    return run.path / "exports"


def read_report(run: "Run") -> dict[str, Any]:
    return read_json(exports_dir(run) / "report.json", default={"formats": {}})


def labels_text(class_names: list[str]) -> str:
    return "".join(f"{name}\n" for name in class_names)


def export_metadata(class_names: list[str], image_size: int, confidence: Confidence) -> dict[str, Any]:
    """How to use an exported model as the app does: its input, its outputs, and the "not sure" rule."""
    return {
        "class_names": list(class_names),
        "input": {"shape": [None, image_size, image_size, 3], "dtype": "float32", "layout": "NHWC",
                  "channel_order": "RGB", "range": [0, 255], "resize": "bilinear",
                  "pixels": "raw RGB values 0-255 (the model rescales them itself)"},
        "output": ("one calibrated probability P(class 1) per image (one sigmoid unit)" if len(class_names) == 2
                   else "one calibrated probability per class (softmax)"),
        "temperature": confidence.temperature,
        "temperature_applied_in_model": True,
        "threshold": confidence.threshold,
        "target_accuracy": confidence.target_accuracy,
        "not_sure_rule": None if confidence.threshold is None else (
            f"answer '{NOT_SURE}' when the top class's probability is below the threshold"),
    }


def representative_items(train: list[tuple[str, int]], limit: int, seed: int = 0) -> list[tuple[str, int]]:
    """Up to `limit` training items for int8 calibration, taken round-robin over the classes in a seeded order.

    Balanced, so a rare class's activations still set the int8 ranges; all of them when the split is smaller.
    """
    rng = np.random.default_rng(seed)
    by_class: dict[int, list[tuple[str, int]]] = {}
    for item in train:
        by_class.setdefault(int(item[1]), []).append(item)
    queues = [[items[i] for i in rng.permutation(len(items))] for _, items in sorted(by_class.items())]
    chosen: list[tuple[str, int]] = []
    for rank in range(max(map(len, queues), default=0)):
        chosen.extend(queue[rank] for queue in queues if rank < len(queue))
    return chosen[:limit]


def size_bytes(path: Path) -> int:
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _in_batches(runner: Runner, images: np.ndarray, batch: int = 32) -> np.ndarray:
    return np.concatenate([runner(images[i:i + batch]) for i in range(0, len(images), batch)])


def single_image_latency_ms(runner: Runner, image: np.ndarray, calls: int = LATENCY_CALLS) -> float:
    """Median wall time of one-image calls after warm-up (the first calls trace or allocate)."""
    batch = image[None].astype(np.float32)
    for _ in range(3):
        runner(batch)
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        runner(batch)
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000)


def check_export(runner: Runner, images: np.ndarray, labels: np.ndarray, reference: np.ndarray,
                 is_float: bool, metadata: dict[str, Any] | None = None,
                 latency_repeats: int = LATENCY_REPEATS) -> dict[str, Any]:
    """Test accuracy, agreement with the in-app model's probabilities, latency and throughput on the same images.

    The images go in as `metadata` tells a client to send them (`runtimes.client_input`); without metadata, as the
    raw float32 RGB the app itself takes. `latency_repeats` one-image calls give the latency median and spread
    (tests ask for a few: the spread is a bench figure, bench/export_runtimes.py).
    """
    fed = client_input(images, metadata) if metadata is not None else images.astype(np.float32)
    probabilities = probabilities_2d(_in_batches(runner, fed))
    predicted = probabilities.argmax(axis=1)
    agreement = float(np.mean(predicted == reference.argmax(axis=1))) if len(images) else 1.0
    required = FLOAT_PARITY_REQUIRED if is_float else INT8_PARITY_REQUIRED
    row = {
        "test_accuracy": float(np.mean(predicted == labels)) if len(images) else None,
        "top1_agreement": agreement,
        "max_probability_difference": float(np.abs(probabilities - reference).max()) if len(images) else 0.0,
        "parity_required": required,
        "parity_passed": agreement >= required,
        "latency_ms": None,
    }
    if len(images):
        row.update(latency_stats(runner, fed[:1], latency_repeats))
        batch = np.resize(fed, (THROUGHPUT_BATCH, *fed.shape[1:])) if len(fed) < THROUGHPUT_BATCH else \
            fed[:THROUGHPUT_BATCH]
        row.update(throughput_images_per_s=throughput(runner, batch, _throughput_repeats(latency_repeats)),
                   throughput_batch=THROUGHPUT_BATCH)
    return row


def _throughput_repeats(latency_repeats: int) -> int:
    """Batch calls for the throughput median: 5 at the default latency repeats, fewer when those are cut."""
    return max(1, min(5, latency_repeats // 6))


def chance_warning(reference: np.ndarray, labels: np.ndarray) -> str | None:
    """Why parity on this run proves little, or None: one answer for every image, or accuracy near chance.

    Chance is the better of guessing uniformly and always answering the most common test class.
    """
    if not len(labels):
        return None
    predicted = reference.argmax(axis=1)
    if len(set(predicted.tolist())) == 1:
        return ("the model gives the same answer for every test image, so every export agrees with it trivially; "
                "retrain before deploying")
    accuracy = float(np.mean(predicted == labels))
    chance = max(1 / reference.shape[1], float(np.bincount(labels).max() / len(labels)))
    if accuracy <= chance + CHANCE_MARGIN:
        return (f"test accuracy {accuracy:.1%} is within {CHANCE_MARGIN:.0%} of chance ({chance:.1%}): agreement "
                "with such a model proves little; retrain before deploying")
    return None


def staleness(run: "Run", report: dict[str, Any] | None = None) -> str | None:
    """Why some exports no longer match the run's calibration (temperature or "not sure" threshold), or None.

    `evaluate --target-accuracy` or a new calibration rewrites eval/calibration.json; exports keep what they were
    made with (the temperature is inside each file), so they are re-exported, not patched. Each row records the
    calibration it was made with (older rows: the report's), so re-exporting one format leaves the others stale.
    """
    report = read_report(run) if report is None else report
    rows = [row for row in report.get("formats", {}).values() if "path" in row]
    current = stored_confidence(run)
    changes: list[str] = []
    for row in rows:
        for change in _calibration_changes({key: row.get(key, report.get(key)) for key in
                                            ("temperature", "threshold", "target_accuracy")}, current):
            if change not in changes:
                changes.append(change)
    return "; ".join(changes) or None


def _calibration_changes(made_with: dict[str, Any], current: Confidence) -> list[str]:
    changes = []
    temperature = made_with.get("temperature") or 1.0
    if not np.isclose(temperature, current.temperature, rtol=1e-6):
        changes.append(f"temperature {temperature:.3g} → {current.temperature:.3g}")
    old, new = made_with.get("threshold"), current.threshold
    if (old is None) != (new is None) or (old is not None and not np.isclose(old, new, rtol=1e-6)):
        changes.append(f"\"not sure\" threshold {_maybe(old)} → {_maybe(new)}")
    if made_with.get("target_accuracy") != current.target_accuracy:
        changes.append(f"target {_maybe(made_with.get('target_accuracy'), percent=True)} → "
                       f"{_maybe(current.target_accuracy, percent=True)}")
    return changes


def _maybe(value: float | None, percent: bool = False) -> str:
    return "none" if value is None else (f"{value:.0%}" if percent else f"{value:.3g}")


def _zip_folder(folder: Path, name: str) -> Path:
    """A folder export (SavedModel) as one downloadable zip, with labels.txt beside it."""
    archive = folder / name
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path != archive:
                bundle.write(path, path.relative_to(folder))
    return archive


def _replace_folder(staging: Path, target: Path) -> None:
    """Swap a fully written folder into place, so exports/<format>/ is never half-written."""
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def export_run(run_id: str, formats: list[str] | None = None,
               report: Callable[[float, str], None] | None = None, *,
               latency_repeats: int = LATENCY_REPEATS) -> dict[str, Any]:
    """Write the chosen formats (default: all) into the run's exports/ folder, check each, update report.json.

    `latency_repeats`: one-image calls timed per format (and for the app's model); the median and p10–p90 come from
    them.
    """

    report = report or (lambda fraction, message: None)
    formats = list(formats or FORMATS)
    unknown = [name for name in formats if name not in FORMATS]
    if unknown:
        raise ValueError(f"Unknown export format {', '.join(unknown)}; choose from {', '.join(FORMATS)}.")
    trained = open_trained_run(run_id, "export")
    run, split, config, root = trained.run, trained.split, trained.config, trained.root
    report(0.02, "loading the model and the test split")
    predictor = Predictor(run.model_path, split.class_names, config.image_size, run=run)  # calibrated, as in the app
    confidence = predictor.confidence
    checked_on, test_items = split.held_out
    images, labels = load_arrays(root, test_items, config.image_size)
    reference = predictor.probabilities(images) if len(images) else np.zeros((0, len(split.class_names)))

    def calibration_images() -> np.ndarray:
        chosen = representative_items(split.train, REPRESENTATIVE_IMAGES)
        return load_arrays(root, chosen, config.image_size)[0].astype(np.float32)

    exports = exports_dir(run)
    exports.mkdir(exist_ok=True)
    # Keras's own layers only, so the .keras export loads without TL Studio and every converter knows each layer.
    serving = portable_model(serving_model(predictor.model, confidence.temperature))
    # One export of a run at a time: a second waits, then updates the same report. The lock file sits beside
    # exports/, which holds only exports.
    with file_lock(exports.parent / ".exports.lock"):
        write_text_atomic(exports / "labels.txt", labels_text(split.class_names))
        metadata = export_metadata(split.class_names, config.image_size, confidence)
        write_json_atomic(exports / METADATA_FILE, metadata)
        work = Path(tempfile.mkdtemp(prefix=".work-", dir=exports))
        context = ExportContext(exports, calibration_images, work=work)
        results = read_report(run)
        results.update(run=run.id, class_names=split.class_names, image_size=config.image_size,
                       checked_on=checked_on, images=int(len(images)), temperature=confidence.temperature,
                       threshold=confidence.threshold, target_accuracy=confidence.target_accuracy,
                       app_test_accuracy=float(np.mean(reference.argmax(axis=1) == labels)) if len(images) else None,
                       warning=chance_warning(reference, labels), runtimes=runtime_versions(),
                       representative_images=len(representative_items(split.train, REPRESENTATIVE_IMAGES)))
        if len(images):
            app_runner = predictor.probabilities
            results.update({f"app_model_{key}": value
                            for key, value in latency_stats(app_runner, images[:1].astype(np.float32),
                                                            latency_repeats).items()})
            batch = np.resize(images, (THROUGHPUT_BATCH, *images.shape[1:])).astype(np.float32)
            results["app_model_throughput_images_per_s"] = throughput(app_runner, batch,
                                                                      _throughput_repeats(latency_repeats))
        try:
            for step, name in enumerate(formats):
                fmt = FORMATS[name]
                report(0.05 + 0.9 * step / len(formats),
                       f"{fmt.label}: writing and checking ({step + 1}/{len(formats)})")
                row = _export_one(fmt, serving, exports, context, images, labels, reference, split.class_names,
                                  metadata, latency_repeats)
                if name == "tflite-int8" and "error" not in row:
                    row["representative_images"] = results["representative_images"]
                results["formats"][name] = _kept_row(results["formats"].get(name), row)
                _offer_qat(results["formats"])
                write_json_atomic(exports / "report.json", results)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        report(0.97, "writing the model card and the client snippets")
        _add_model_card(run, [results["formats"][name] for name in formats])
        exported = [name for name in FORMATS if "path" in results["formats"].get(name, {})]
        write_text_atomic(exports / "README.md", readme(run.id, metadata, exported))
        if exported:
            write_bundle(exports, results, exported, staleness(run, results))
    report(1.0, "done")
    return results


def _offer_qat(rows: dict[str, Any]) -> None:
    """When int8 loses more than QAT_TRIGGER_DROP of float32's test accuracy, a second row says what QAT can do here."""
    int8, float32 = rows.get("tflite-int8", {}), rows.get("tflite-f32", {})
    if int8.get("test_accuracy") is None or float32.get("test_accuracy") is None:
        return
    drop = float32["test_accuracy"] - int8["test_accuracy"]
    int8["accuracy_drop_from_float32"] = drop
    if drop > QAT_TRIGGER_DROP:
        rows["tflite-int8-qat"] = {"format": "tflite-int8-qat", "label": "TFLite int8, quantization-aware",
                                   "exported_at": time.time(), "unavailable": QAT_UNAVAILABLE,
                                   "reason": f"int8 test accuracy is {drop:.1%} below float32"}
    else:
        rows.pop("tflite-int8-qat", None)


def _kept_row(previous: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """A failed export never replaces a good one: the previous row stays, with the failed attempt beside it."""
    if "error" not in new or previous is None or "error" in previous:
        return new
    return {**{k: v for k, v in previous.items() if k != "failed_attempt"},
            "failed_attempt": {"exported_at": new["exported_at"], "error": new["error"]}}


def _add_model_card(run: Run, rows: list[dict[str, Any]]) -> None:
    """The card, written once every format's parity is known, into exports/ and each exported bundle."""
    write_model_card(run)
    exports = exports_dir(run)
    for row in rows:
        if "path" not in row:
            continue
        folder = exports / row["format"]
        for name in (MARKDOWN_FILE, JSON_FILE):
            shutil.copyfile(exports / name, folder / name)
        if row["download"].endswith(".zip"):  # a folder export's one download holds the card too
            _rezip(folder, folder / Path(row["download"]).name)


def _rezip(folder: Path, archive: Path) -> None:
    """Rebuild a bundle's zip beside it and swap it in, so a download never reads a half-written zip."""
    partial = folder.parent / f".{folder.name}.{archive.name}.partial"
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path != archive:
                bundle.write(path, path.relative_to(folder))
    partial.replace(archive)


def _export_one(fmt: ExportFormat, serving: "keras.Model", exports: Path, context: ExportContext, images, labels,
                reference, class_names: list[str], metadata: dict[str, Any],
                latency_repeats: int = LATENCY_REPEATS) -> dict[str, Any]:
    """Write the format into a staging folder of its own, check it there, and only then swap it into place."""
    staging = Path(tempfile.mkdtemp(prefix=f".{fmt.name}.staging-", dir=exports))
    row: dict[str, Any] = {"format": fmt.name, "label": fmt.label, "exported_at": time.time(),
                           **{key: metadata[key] for key in ("temperature", "threshold", "target_accuracy")}}
    try:
        artifact = fmt.save(serving, staging, context)
        write_text_atomic(staging / "labels.txt", labels_text(class_names))
        write_text_atomic(staging / METADATA_FILE, json.dumps(metadata, indent=2))
        for file_name, text in snippets_for(fmt.name, metadata).items():  # client code beside the file it runs
            write_text_atomic(staging / file_name, text)
        weights = artifact.with_suffix(".bin") if artifact.suffix == ".xml" else None  # OpenVINO: xml + bin
        several_files = artifact.is_dir() or weights is not None
        download = _zip_folder(staging, f"{fmt.name}.zip") if several_files else artifact
        row["size_bytes"] = size_bytes(artifact) + (size_bytes(weights) if weights else 0)
        row["runtime"] = fmt.runtime
        row.update(check_export(fmt.load(artifact), images, labels, reference, fmt.is_float, metadata,
                                latency_repeats))
        row["op_types"] = fmt.op_types(artifact)
        row["augmentation_ops"] = augmentation_ops(row["op_types"])
        if row["augmentation_ops"]:  # serving_model cuts augmentation out; this says so if a format put it back
            row["error"] = f"the exported graph augments its input: {', '.join(row['augmentation_ops'])}"
        elif row["parity_passed"] is False and fmt.is_float:
            row["error"] = (f"its top-1 agreement with the app, {row['top1_agreement']:.1%}, is below the "
                            f"{row['parity_required']:.0%} required")
        if "error" not in row:
            target = exports / fmt.name
            _replace_folder(staging, target)
            row.update(path=str((target / artifact.name).relative_to(exports)),
                       download=f"{fmt.name}/{download.name}")
    except ExportUnavailable as error:
        row["error"] = str(error)
    except Exception as error:  # noqa: BLE001 - one failing format must not lose the others' results
        row["error"] = f"{type(error).__name__}: {error}"
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return row


def bundle_run(run_id: str, formats: list[str] | None = None) -> Path:
    """exports/bundle.zip of a run's checked exports (default: all of them), rebuilt now; returns its path."""
    run = get_run(run_id)
    exports = exports_dir(run)
    report = read_report(run)
    with file_lock(exports.parent / ".exports.lock"):
        return write_bundle(exports, report, formats, staleness(run, report))


def export_task(params: dict[str, Any], report: Callable[[float, str], None]) -> dict[str, Any]:
    """Task entry point (kind "export"): params {"run": id, "formats": [...]}."""
    return export_run(params["run"], params.get("formats"), report)
