"""Helpers for the page tests: find widgets by label, read metrics, write run folders by hand (no training)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

# --- finding things on a page ------------------------------------------------------------------------------------

def by_label(widgets, label: str, *, prefix: bool = False):
    """The one widget whose label is `label` (or starts with it): pages give their widgets labels, not keys."""
    found = [w for w in widgets if (w.label.startswith(label) if prefix else w.label == label)]
    assert len(found) == 1, f"expected one widget labelled {label!r}, found {[w.label for w in widgets]}"
    return found[0]


def metric_value(at: AppTest, label: str) -> str:
    return by_label(at.metric, label).value


def texts(elements) -> list[str]:
    return [element.value for element in elements]


def uploads_held(at: AppTest) -> list[str]:
    """Names of the uploaded files anything in the session still holds (widget values and the page's own keys)."""
    from streamlit.runtime.uploaded_file_manager import UploadedFile

    state = at.session_state._state._state  # every key, widget states under their ids included
    held = []
    for key in list(state._keys()):
        try:
            value = state[key]
        except KeyError:
            continue
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(item, UploadedFile):
                held.append(item.name)
    return held


# --- run folders written by hand (no training) ---------------------------------------------------------------------

def make_run(config=None, *, state: str = "finished", class_names: list[str] | None = None, model: bytes | None = None,
             history: list[dict] | None = None, evaluation: dict | None = None, **status):
    """A run folder as the worker would leave it, via tlcore.runs.folders; `model` bytes are written as model.keras."""
    from tlcore.config.training import TrainConfig
    from tlcore.runs.folders import create_run

    run = create_run(config or TrainConfig(dataset="sample-digits", weights="random"))
    run.update_status(state=state, **status)
    if class_names is not None:
        from tlcore.storage.atomic import write_json_atomic

        write_json_atomic(run.path / "classes.json", class_names)
    if model is not None:
        run.model_path.write_bytes(model)
    if history is not None:
        run.write_history(history)
    if evaluation is not None:
        run.write_evaluation("test", evaluation)
    return run
