"""Predict page's export section with a stored report (no TensorFlow): each format's runtime, latency with its spread,
throughput; stale exports with a one-click re-export; a near-chance run flagged; the quantization-aware row; client
snippets; the deployment bundle download."""

import json

from page_helpers import by_label, make_run, texts

CLASSES = ["ant", "bee", "cat"]


def _row(fmt: str, label: str, runtime: str, **changes) -> dict:
    return {"format": fmt, "label": label, "runtime": runtime, "path": f"{fmt}/model.onnx",
            "download": f"{fmt}/model.onnx", "size_bytes": 2_000_000, "test_accuracy": 0.9, "top1_agreement": 1.0,
            "max_probability_difference": 1e-6, "parity_required": 0.99, "parity_passed": True, "latency_ms": 1.5,
            "latency_p10_ms": 1.25, "latency_p90_ms": 2.0, "latency_repeats": 30, "throughput_images_per_s": 640.0,
            **changes}


def _exported_run(threshold_now: float):
    from tlcore.storage.atomic import write_json_atomic

    run = make_run(state="finished", class_names=CLASSES, model=b"not opened by these tests")
    exports = run.path / "exports"
    (exports / "onnx").mkdir(parents=True)
    (exports / "onnx" / "model.onnx").write_bytes(b"x" * 100)
    (exports / "onnx" / "client.py").write_text("import onnxruntime  # the generated client\n")
    (exports / "labels.txt").write_text("ant\nbee\ncat\n")
    (exports / "bundle.zip").write_bytes(b"PK")
    write_json_atomic(exports / "report.json", {
        "formats": {
            "onnx": _row("onnx", "ONNX", "onnxruntime"),
            "tflite-int8": _row("tflite-int8", "TFLite int8 (calibrated)", "ai-edge-litert", parity_required=0.97,
                                test_accuracy=0.85, representative_images=100, path="tflite-int8/model.tflite",
                                download="tflite-int8/model.tflite"),
            "tflite-int8-qat": {"format": "tflite-int8-qat", "label": "TFLite int8, quantization-aware",
                                "unavailable": "Quantization-aware fine-tuning is not available: Keras 3.",
                                "reason": "int8 test accuracy is 5.0% below float32"}},
        "checked_on": "test", "images": 30, "app_model_latency_ms": 2.5, "temperature": 1.0, "threshold": 0.8,
        "target_accuracy": 0.95, "warning": "test accuracy 34.0% is within 2% of chance (33.3%)"})
    held_out = {"split": "test", "ece_before": 0.1, "ece_after": 0.05, "accuracy": 0.9, "coverage": 0.8}
    write_json_atomic(run.path / "eval" / "calibration.json", {  # the record tlcore.evaluation writes, in short
        "temperature": 1.0, "fitted_on": "val", "validation": {"images": 30}, "held_out": held_out,
        "reject": {"threshold": threshold_now, "target_accuracy": 0.95, "met": True, "coverage": 0.8,
                   "accuracy": 0.95, "held_out": held_out}})
    return run


def _task_params(studio, kind):
    tasks = [json.loads(path.read_text()) for path in (studio.home / "tasks").glob("*/task.json")]
    return [task["params"] for task in tasks if task["kind"] == kind]


def test_the_export_table_shows_runtimes_spread_throughput_and_flags(open_page, studio):
    _exported_run(threshold_now=0.8)

    at = open_page("pages/predict.py")

    table = at.table[-1].value
    assert table.index.tolist() == ["ONNX", "TFLite int8 (calibrated)", "TFLite int8, quantization-aware"]
    assert table["runtime"].tolist()[:2] == ["onnxruntime", "ai-edge-litert"]
    assert table.loc["ONNX", "latency"] == "1.50 ms/image (p10–p90 1.25–2.00)"
    assert table.loc["ONNX", "throughput"] == "640 img/s"
    assert table.loc["ONNX", "parity"] == "passed (≥ 99 % top-1 agreement)"
    assert table.loc["TFLite int8 (calibrated)", "parity"] == ("passed (≥ 97 % top-1 agreement); calibrated on 100 "
                                                                "training images")
    assert table.loc["TFLite int8, quantization-aware", "parity"] == "not available (see below)"
    assert any("quantization-aware" in text and "Keras 3" in text for text in texts(at.info))
    assert any("within 2% of chance" in text for text in texts(at.error))
    assert not any("stale" in text for text in texts(at.warning))
    assert [code.value.strip() for code in at.code] == ["import onnxruntime  # the generated client"]
    assert "Deployment bundle" in [button.label for button in at.get("download_button")]


def test_stale_exports_are_said_and_re_exported_in_one_click(open_page, studio):
    run = _exported_run(threshold_now=0.6)  # evaluate --target-accuracy … changed the threshold after the export

    at = open_page("pages/predict.py")

    assert any('stale' in text and '"not sure" threshold 0.8 → 0.6' in text for text in texts(at.warning))
    at.button(key="export_again").click().run()
    assert _task_params(studio, "export") == [{"run": run.id, "formats": ["onnx", "tflite-int8"]}]
