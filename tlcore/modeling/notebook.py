"""A Jupyter notebook that reproduces a run top to bottom in plain Keras: one step per cell, each with why.

Every phase of the run is written out (its parent runs' phases first: the frozen phase, fine-tuning, each stage of
gradual unfreezing). The cells are the "Show me the code" script's sections (`codegen.script_sections`: the same layers, seed, settings
and construction order), with the run's split written into the notebook itself so it runs anywhere the dataset folder
is, and the plots the labs draw: a 3×3 grid of augmented training images, the learning curves and the confusion
matrix (plotly, which TL Studio already needs). The last cell writes `notebook_results.json` (parameter counts and
test metrics), which `tests/unit/modeling/test_notebook.py` compares with the app's run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from tlcore.config.training import TrainConfig
from tlcore.datasets.split import Split
from tlcore.modeling.codegen import SPLIT_FILE_NAME, Phase, phase_plan, script_sections

__all__ = ["RESULTS_FILE", "notebook", "notebook_bytes"]

RESULTS_FILE = "notebook_results.json"

# Why each script section is there, in the order codegen writes them (header, data, inputs, base, freeze, head,
# compile, fit of the first phase; then one section per later phase, then save and measure).
_EXPLANATIONS = (
    "**Settings.** The run's image size, batch size, epochs and seed. The seed makes the initial weights, the "
    "shuffling, the augmentation and dropout the same as in TL Studio.",
    "**1. Data.** The run's exact train / validation / test files, decoded as TL Studio decodes them. The split "
    "is embedded in this notebook, so it does not depend on a new random split.",
    "**2. Inputs and augmentation.** Augmentation is a layer of the model: active while training, a no-op when "
    "predicting.",
    "**3. The base.** Raw 0–255 pixels scaled as the base was trained (the lab's `preprocess_input`), then the "
    "feature extractor without its ImageNet classifier, built as the app builds it.",
    "**4. Freezing.** Which base layers train. Compile again after every change to `trainable`.",
    "**5. The head.** The base called in inference mode (the lab's `base_model(x, training=False)`; one line before "
    "it keeps that true during `fit` in Keras 3), pooling, dropout and the classifier; "
    "`model.summary()` shows the parameter counts the Train page showed.",
    "**6. Compile.** Optimizer, learning rate and loss, as set on the form.",
    "**7. Train.** `fit` with the run's epochs and callbacks.",
)
_SAVE_EXPLANATION = "**8. Save and measure** the model on the held-out images."

_AUGMENTATION_GRID = '''# The labs' 3×3 grid: nine training images as the model sees them while training.
import plotly.express as px

images, _ = next(iter(train_ds.unbatch().batch(9)))
shown = augmentation(images, training=True) if "augmentation" in globals() else images
px.imshow(np.clip(np.asarray(shown), 0, 255).astype("uint8"), facet_col=0, facet_col_wrap=3,
          title="Training images" + (" (augmented)" if "augmentation" in globals() else " (no augmentation)")).show()'''

_LEARNING_CURVES = '''# Learning curves: loss and accuracy per epoch, training and validation.
import plotly.graph_objects as go
from plotly.subplots import make_subplots

curves = make_subplots(rows=1, cols=2, subplot_titles=("loss", "accuracy"))
for column, metric in enumerate(("loss", "accuracy"), start=1):
    for prefix in ("", "val_"):
        if prefix + metric in history.history:
            values = history.history[prefix + metric]
            curves.add_trace(go.Scatter(x=list(range(1, len(values) + 1)), y=values, name=prefix + metric),
                             row=1, col=column)
curves.update_xaxes(title="epoch").show()'''

_CONFUSION_MATRIX = '''# Confusion matrix on the held-out images (rows: true class, columns: predicted class).
probabilities = model.predict(test_ds, verbose=0)
predicted = (probabilities[:, 0] > 0.5).astype(int) if probabilities.shape[1] == 1 else probabilities.argmax(axis=1)
held_out = SPLIT["test"] or SPLIT["val"]
true = np.asarray([label for _, label in held_out])
matrix = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=int)
np.add.at(matrix, (true, predicted), 1)
px.imshow(matrix, text_auto=True, x=SPLIT["class_names"], y=SPLIT["class_names"],
          labels=dict(x="predicted", y="true"), title="Confusion matrix").show()'''

_RESULTS = f'''# The numbers to compare with the app's run (its Train page counts and its Evaluate page).
trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
non_trainable = int(sum(np.prod(w.shape) for w in model.non_trainable_weights))
results = {{"total": trainable + non_trainable, "trainable": trainable, "non_trainable": non_trainable,
           "test_accuracy": float((predicted == true).mean()), "epochs": len(losses),
           "loss": [float(value) for value in losses]}}
(HERE / "{RESULTS_FILE}").write_text(json.dumps(results, indent=1))
results'''


def _code(source: str):
    import nbformat

    return nbformat.v4.new_code_cell(source)


def _markdown(text: str):
    import nbformat

    return nbformat.v4.new_markdown_cell(text)


def notebook(config: TrainConfig, data_dir: Path | str, split: Split, earlier: Sequence[TrainConfig] = ()):
    """The notebook (an `nbformat` NotebookNode) reproducing `config` on `split` of the folder `data_dir`, after the
    phases of `earlier` (the run's parent runs' configs, first phase first: `runs.lineage_configs`)."""
    import nbformat

    sections = script_sections(config, data_dir, len(split.class_names), here="Path.cwd()", earlier=earlier)
    phases = phase_plan(config, earlier)
    header = re.sub(r'\A""".*?"""\s*', "", sections[0], flags=re.S)  # the script's docstring is the title cell
    header = header.replace(f'json.loads((HERE / "{SPLIT_FILE_NAME}").read_text())', "json.loads(SPLIT_JSON)")
    total_epochs = sum(phase.config.epochs for phase in phases)
    in_phases = (f" in {len(phases)} phases ({', '.join(_phase_name(phase) for phase in phases)})"
                 if len(phases) > 1 else "")
    title = (f"# {config.backbone} on `{config.dataset}`: a TL Studio run in plain Keras\n\n"
             f"{len(split.class_names)} classes; {len(split.train)} training, {len(split.val)} validation and "
             f"{len(split.test)} test images; {total_epochs} epochs at {config.image_size} px{in_phases}. Run the "
             "cells top to bottom (needs TensorFlow with Keras 3, NumPy, Pillow and plotly). The dataset folder is "
             f"`{data_dir}`: change `DATA_DIR` below if it lives elsewhere on your machine.")
    notes = [line.removeprefix("Not written out: ") for line in sections[0].splitlines()
             if line.startswith("Not written out: ")]
    if notes:
        title += "\n\n**Not in this notebook:** " + " ".join(notes)
    cells = [_markdown(title),
             _markdown("**The split.** The run's own train / validation / test files ([path, class index] each)."),
             _code(f"SPLIT_JSON = {json.dumps(json.dumps(split.to_dict()))}"),
             _markdown(_EXPLANATIONS[0]), _code(header)]
    fixed = len(_EXPLANATIONS)
    for explanation, section in zip(_EXPLANATIONS[1:], sections[1:fixed]):
        cells += [_markdown(explanation), _code(section)]
        if explanation.startswith("**2."):
            cells += [_markdown("**Look at the data.** Nine training images, augmented as in training."),
                      _code(_AUGMENTATION_GRID)]
    for number, (phase, section) in enumerate(zip(phases[1:], sections[fixed:-1]), start=2):
        cells += [_markdown(f"**Phase {number}: {_phase_name(phase)}.** Unfreeze, compile again at this phase's "
                            "learning rate, and train on; the epochs continue from the phase before."),
                  _code(section)]
    cells += [_markdown(_SAVE_EXPLANATION), _code(sections[-1]),
              _markdown("**Learning curves.**"), _code(_LEARNING_CURVES),
              _markdown("**Confusion matrix.**"), _code(_CONFUSION_MATRIX),
              _markdown("**Results.** Parameter counts and test accuracy, to compare with TL Studio's run."),
              _code(_RESULTS)]
    book = nbformat.v4.new_notebook(cells=cells)
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    book.metadata["language_info"] = {"name": "python"}
    return book


def _phase_name(phase: Phase) -> str:
    config = phase.config
    if config.fine_tune_at is None:
        return "frozen base"
    if phase.stage:
        return f"gradual stage {phase.stage} from layer {config.fine_tune_at}"
    return f"fine-tune from layer {config.fine_tune_at}" if config.is_fine_tune else \
        f"layers from {config.fine_tune_at} trainable"


def notebook_bytes(config: TrainConfig, data_dir: Path | str, split: Split,
                   earlier: Sequence[TrainConfig] = ()) -> bytes:
    """The notebook as `.ipynb` bytes, for a download button."""
    import nbformat

    return nbformat.writes(notebook(config, data_dir, split, earlier)).encode("utf-8")
