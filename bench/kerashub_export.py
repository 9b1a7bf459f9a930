"""Which export formats convert for a KerasHub-based model: a tiny random ViT / DINOv2 / CLIP-vision config at 32 px,
built by tlcore.modeling.build_model, saved and reloaded by each of tlcore.inference.export.FORMATS, its outputs
compared with Keras's. Prints one line per backbone and format. Run: .venv/bin/python bench/kerashub_export.py"""

import sys
import tempfile
import time
import traceback
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tlcore.backbones import kerashub  # noqa: E402
from tlcore.config.training import TrainConfig  # noqa: E402
from tlcore.inference import export  # noqa: E402
from tlcore.modeling.model import build_model  # noqa: E402

TINY = {
    "DINOv2-S14": dict(patch_size=8, num_layers=2, hidden_dim=16, num_heads=2, intermediate_dim=32,
                       position_embedding_shape=(32, 32, 3)),
    "ViT-B16": dict(patch_size=8, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32),
    "CLIP-B16-vision": dict(patch_size=8, hidden_dim=16, num_layers=2, num_heads=2, intermediate_dim=32),
}


def main() -> None:
    images = np.random.default_rng(0).integers(0, 255, (8, 32, 32, 3)).astype("float32")
    for name, architecture in TINY.items():
        entry = replace(kerashub.KERASHUB[name], name=f"{name}-tiny", architecture=tuple(architecture.items()),
                        patch_size=8, default_size=32, min_size=8, fixed_weights_size=None)
        kerashub.KERASHUB[entry.name] = entry
        model = build_model(TrainConfig(dataset="x", backbone=entry.name, image_size=32, weights="random"), 3)
        reference = model.predict(images, verbose=0)
        with tempfile.TemporaryDirectory() as folder:
            context = export.ExportContext(Path(folder), lambda: images)
            for fmt in export.FORMATS.values():
                started = time.process_time()
                target = Path(folder) / fmt.name
                target.mkdir()
                try:
                    outputs = np.asarray(fmt.load(fmt.save(model, target, context))(images))
                    agree = float(np.mean(outputs.argmax(1) == reference.argmax(1)))
                    result = f"converts; top-1 agreement {agree:.2f}, max |diff| {np.abs(outputs - reference).max():.1e}"
                except Exception as error:  # noqa: BLE001 - the point is to record what fails
                    result = f"FAILS: {type(error).__name__}: {str(error).splitlines()[0][:160] if str(error) else ''}"
                    traceback.print_exc(limit=1, file=sys.stderr)
                print(f"{name:16} {fmt.name:12} {result}  ({time.process_time() - started:.1f} s CPU)", flush=True)


if __name__ == "__main__":
    main()
