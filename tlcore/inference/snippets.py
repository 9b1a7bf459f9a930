"""Client code for each export, generated from its metadata.json: what a deployer copies to get the app's answers.

Every Python snippet is a script run from the export's folder: `python client.py image.png` prints one JSON line
{"label", "probabilities", "not_sure"}. It reads metadata.json for the input (size, range, channel order, layout)
and the "not sure" threshold, so the code never disagrees with the file it sits beside. The ONNX export also gets
a browser version for onnxruntime-web. The tests run the Python snippets as written, in a subprocess.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SNIPPET_FILES", "python_snippet", "javascript_snippet", "snippets_for", "readme"]

# format → (file name, language, pip/npm line)
SNIPPET_FILES: dict[str, tuple[str, str, str]] = {
    "keras": ("client.py", "python", "pip install keras tensorflow pillow numpy"),
    "savedmodel": ("client.py", "python", "pip install tensorflow pillow numpy"),
    "tflite-f32": ("client.py", "python", "pip install ai-edge-litert pillow numpy"),
    "tflite-f16": ("client.py", "python", "pip install ai-edge-litert pillow numpy"),
    "tflite-int8": ("client.py", "python", "pip install ai-edge-litert pillow numpy"),
    "onnx": ("client.py", "python", "pip install onnxruntime pillow numpy"),
    "openvino": ("client.py", "python", "pip install openvino pillow numpy"),
}
JS_FILE = "client.html"

_PREPARE = '''import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
META = json.loads((HERE / "metadata.json").read_text())


def prepare(path):
    """The image as metadata.json says this model takes it: size, range, channel order, layout, dtype."""
    spec = META["input"]
    size = spec["shape"][1:3] if spec["layout"] == "NHWC" else spec["shape"][2:4]
    image = Image.open(path).convert("RGB").resize((size[1], size[0]), Image.BILINEAR)
    x = np.asarray(image, dtype=np.float32)
    if spec["channel_order"] == "BGR":
        x = x[..., ::-1]
    low, high = spec["range"]
    x = low + x * ((high - low) / 255.0)
    if spec["layout"] == "NCHW":
        x = x.transpose(2, 0, 1)
    return np.ascontiguousarray(x[None].astype(spec["dtype"]))


def answer(outputs):
    """Calibrated probabilities per class (one sigmoid unit means P(second class)), and the "not sure" rule."""
    p = np.asarray(outputs, dtype=np.float64).reshape(-1)
    if p.size == 1:
        p = np.array([1.0 - p[0], p[0]])
    best = int(p.argmax())
    threshold = META.get("threshold")
    return {"label": META["class_names"][best], "probabilities": p.tolist(),
            "not_sure": bool(threshold is not None and p[best] < threshold)}
'''

_RUN = {
    "keras": '''import keras  # no TL Studio needed: the file holds Keras's own layers only

model = keras.models.load_model(HERE / "model.keras")


def predict(path):
    return answer(model.predict(prepare(path), verbose=0)[0])
''',
    "savedmodel": '''import tensorflow as tf

model = tf.saved_model.load(str(HERE / "savedmodel"))


def predict(path):
    return answer(model.serve(tf.constant(prepare(path))).numpy()[0])
''',
    "tflite": '''from ai_edge_litert.interpreter import Interpreter

interpreter = Interpreter(model_path=str(HERE / "model.tflite"))
interpreter.allocate_tensors()
INPUT = interpreter.get_input_details()[0]["index"]
OUTPUT = interpreter.get_output_details()[0]["index"]


def predict(path):
    interpreter.set_tensor(INPUT, prepare(path))
    interpreter.invoke()
    return answer(interpreter.get_tensor(OUTPUT)[0])
''',
    "onnx": '''import onnxruntime

session = onnxruntime.InferenceSession(str(HERE / "model.onnx"), providers=["CPUExecutionProvider"])
INPUT = session.get_inputs()[0].name


def predict(path):
    return answer(session.run(None, {INPUT: prepare(path)})[0][0])
''',
    "openvino": '''import openvino

# f32 as exported: CPUs with bfloat16 support would otherwise run it in bfloat16 (other answers on a few images)
model = openvino.Core().compile_model(str(HERE / "model.xml"), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})


def predict(path):
    return answer(model(prepare(path))[0][0])
''',
}

_MAIN = '''

if __name__ == "__main__":
    for image_path in sys.argv[1:]:
        print(json.dumps({"image": image_path, **predict(image_path)}))
'''


def python_snippet(fmt: str) -> str:
    """The client script for one export format (a key of SNIPPET_FILES)."""
    runtime = "tflite" if fmt.startswith("tflite") else fmt
    if runtime not in _RUN:
        raise ValueError(f"No client snippet for format {fmt}.")
    header = f'"""Classify images with this {fmt} export: python {SNIPPET_FILES[fmt][0]} IMAGE [IMAGE ...]"""\n'
    return header + _PREPARE + "\n" + _RUN[runtime] + _MAIN


def javascript_snippet(metadata: dict[str, Any]) -> str:
    """A page that runs model.onnx in the browser with onnxruntime-web, prepared as metadata.json says."""
    spec = metadata["input"]
    size = spec["shape"][1]
    low, high = spec["range"]
    return f'''<!doctype html>
<!-- Serve this folder over HTTP (python -m http.server) and open client.html: model.onnx runs in the browser. -->
<script src="https://cdn.jsdelivr.net/npm/onnxruntime-web/dist/ort.min.js"></script>
<input type="file" id="file" accept="image/*"><pre id="out"></pre>
<script>
const META = {{classNames: {list(metadata["class_names"])!r}, threshold: {_js(metadata.get("threshold"))},
  size: {size}, low: {low}, high: {high}, bgr: {_js(spec.get("channel_order") == "BGR")}}};
const session = ort.InferenceSession.create("model.onnx");
document.getElementById("file").onchange = async (event) => {{
  const bitmap = await createImageBitmap(event.target.files[0]);
  const canvas = new OffscreenCanvas(META.size, META.size);
  const context = canvas.getContext("2d");
  context.drawImage(bitmap, 0, 0, META.size, META.size);  // resized as the model expects
  const rgba = context.getImageData(0, 0, META.size, META.size).data;
  const pixels = new Float32Array(META.size * META.size * 3);  // NHWC, float32
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {{
    const rgb = META.bgr ? [rgba[i + 2], rgba[i + 1], rgba[i]] : [rgba[i], rgba[i + 1], rgba[i + 2]];
    for (let c = 0; c < 3; c++) pixels[j + c] = META.low + rgb[c] * (META.high - META.low) / 255;
  }}
  const model = await session;
  const input = new ort.Tensor("float32", pixels, [1, META.size, META.size, 3]);
  const outputs = await model.run({{[model.inputNames[0]]: input}});
  let p = Array.from(outputs[model.outputNames[0]].data);
  if (p.length === 1) p = [1 - p[0], p[0]];  // one sigmoid unit: P(second class)
  const best = p.indexOf(Math.max(...p));
  const notSure = META.threshold !== null && p[best] < META.threshold;
  document.getElementById("out").textContent = (notSure ? "not sure" : META.classNames[best]) +
    "\\n" + META.classNames.map((name, k) => `${{name}}: ${{(100 * p[k]).toFixed(1)}} %`).join("\\n");
}};
</script>
'''


def _js(value) -> str:
    return "null" if value is None else ("true" if value is True else "false" if value is False else repr(value))


def snippets_for(fmt: str, metadata: dict[str, Any]) -> dict[str, str]:
    """File name → text of every client snippet an export folder gets."""
    if fmt not in SNIPPET_FILES:
        return {}
    files = {SNIPPET_FILES[fmt][0]: python_snippet(fmt)}
    if fmt == "onnx":
        files[JS_FILE] = javascript_snippet(metadata)
    return files


def readme(run_id: str, metadata: dict[str, Any], formats: list[str]) -> str:
    """exports/README.md: what each folder holds, the input a client must send, and each client snippet."""
    spec = metadata["input"]
    lines = [f"# Exports of run {run_id}", "",
             f"Input: {spec['layout']} {spec['dtype']} tensor of shape {spec['shape']} (batch first), "
             f"{spec['channel_order']} pixels in the range {spec['range'][0]}–{spec['range'][1]}, resized "
             f"({spec.get('resize', 'bilinear')}) to {spec['shape'][1]}×{spec['shape'][2]}. The model rescales "
             "them itself; do not normalise.",
             f"Output: {metadata['output']}.",
             f"Classes (labels.txt): {', '.join(metadata['class_names'])}."]
    if metadata.get("threshold") is not None:
        lines.append(f"Answer \"not sure\" when the top probability is below {metadata['threshold']:.4f} "
                     f"(temperature {metadata['temperature']:.4g} is applied inside the model).")
    lines += ["", "Each folder also holds `metadata.json`, `labels.txt` and the model card; `report.json` holds the "
              "parity check of each file in its own runtime.", ""]
    for fmt in formats:
        if fmt not in SNIPPET_FILES:
            continue
        name, language, install = SNIPPET_FILES[fmt]
        lines += [f"## {fmt}", "", f"`{install}`, then from `{fmt}/`: `python {name} image.png`", "",
                  f"```{language}", python_snippet(fmt).rstrip(), "```", ""]
        if fmt == "onnx":
            lines += ["In a browser (onnxruntime-web): serve `onnx/` over HTTP and open `client.html`:", "",
                      "```html", javascript_snippet(metadata).rstrip(), "```", ""]
    return "\n".join(lines)
