"""Hostile inputs a shared server meets (issue 31): what a user, a crash or a hand edit can put in the files the app
reads, in the URL, or in names. Each must end in a clear one-line message or a "damaged" state: no traceback, no
stopped queue, nothing lost. Tests parametrize over these lists (tests/unit/runs/test_hostile_inputs.py and
tests/pages/test_hostile_pages.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Hostile", "STATUS_FILES", "CONFIG_FILES", "OWNER_FILES", "TASK_FILES", "INJECTIONS", "LONG_ID",
           "ALL_INPUTS", "FROM_THE_ISSUE"]

NOT_JSON = object()  # marker: write `text` verbatim instead of JSON


@dataclass(frozen=True)
class Hostile:
    name: str
    content: Any  # a JSON value, or the raw text when `raw` is set
    raw: str | None = None
    field: str | None = None  # the field the "damaged" reason must name


def _status(name, content, field=None):
    return Hostile(f"status:{name}", content, field=field)


STATUS_FILES = [
    _status("pid text", {"state": "running", "pid": "abc"}, "pid"),
    _status("pid 1e20", {"state": "running", "pid": 1e20}, "pid"),
    _status("pid huge int", {"state": "running", "pid": 10**20}, "pid"),
    _status("pid negative", {"state": "running", "pid": -5}, "pid"),
    _status("pid bool", {"state": "running", "pid": True}, "pid"),
    _status("queued_at yesterday", {"state": "queued", "queued_at": "yesterday"}, "queued_at"),
    _status("queued_at NaN", {"state": "queued", "queued_at": float("nan")}, "queued_at"),
    _status("queued_at infinity", {"state": "queued", "queued_at": float("inf")}, "queued_at"),
    _status("dispatched_at x", {"state": "queued", "dispatched_at": "x"}, "dispatched_at"),
    _status("epochs text", {"state": "running", "pid": 1, "epochs": "2"}, "epochs"),
    _status("epoch list", {"state": "running", "pid": 1, "epoch": [1]}, "epoch"),
    _status("batches zero-division bait", {"state": "finished", "batches": "0"}, "batches"),
    _status("state number", {"state": 5}, "state"),
    _status("state unknown word", {"state": "exploded"}, "state"),
    _status("state null", {"state": None}, "state"),
    _status("devices object", {"state": "running", "pid": 1, "devices": {"a": 1}}, "devices"),
    _status("resources list", {"state": "queued", "resources": [1, 2]}, "resources"),
    _status("resources gpus text", {"state": "queued", "resources": {"gpus": "all"}}, "resources"),
    _status("waiting_process text", {"state": "queued", "waiting_process": "me"}, "waiting_process"),
    _status("step fraction text", {"state": "running", "pid": 1, "phase": "x",
                                   "step": {"phase": "x", "fraction": "half"}}, "step"),
    _status("eta text", {"state": "running", "pid": 1, "eta_seconds": "soon"}, "eta_seconds"),
    _status("val_accuracy 7", {"state": "finished", "val_accuracy": 7}, "val_accuracy"),
    _status("error object", {"state": "failed", "error": {"why": 1}}, "error"),
    _status("ray_job_id number", {"state": "running", "ray_job_id": 12}, "ray_job_id"),
    _status("first_epoch null with progress", {"state": "running", "pid": 1, "first_epoch": "one"}, "first_epoch"),
    Hostile("status:a list", [1, 2, 3]),
    Hostile("status:a string", "running"),
    Hostile("status:null", None),
    Hostile("status:empty file", None, raw=""),
    Hostile("status:cut off", None, raw='{"state": "runn'),
    Hostile("status:deeply nested", None, raw="[" * 100_000),
    Hostile("status:not utf-8", None, raw="\udcff"),
]
# a running status that is well-formed but names no process: must not hold the slot forever
RUNNING_WITHOUT_PROCESS = {"state": "running"}


def _config(name, content, field=None):
    return Hostile(f"config:{name}", content, field=field)


CONFIG_FILES = [
    _config("epochs two", {"dataset": "d", "epochs": "two"}, "epochs"),
    _config("image_size text", {"dataset": "d", "image_size": "32"}, "image_size"),
    _config("dataset list", {"dataset": ["a"]}, "dataset"),
    _config("dataset number", {"dataset": 5}, "dataset"),
    _config("null", None),
    _config("list", [1, 2]),
    _config("split with unknown key", {"dataset": "d", "split": {"val": 1}}, "split"),
    _config("split fractions sum to 1", {"dataset": "d", "split": {"val_fraction": 0.5, "test_fraction": 0.5}},
            "split"),
    _config("image_size 100000", {"dataset": "d", "image_size": 100000}, "image_size"),
    _config("hidden_units 1e9", {"dataset": "d", "hidden_units": 1000000000}, "hidden_units"),
    _config("batch_size 1e6", {"dataset": "d", "batch_size": 1000000}, "batch_size"),
    _config("epochs 1e6", {"dataset": "d", "epochs": 1000000}, "epochs"),
    _config("epochs bool", {"dataset": "d", "epochs": True}, "epochs"),
    _config("learning_rate NaN", {"dataset": "d", "learning_rate": float("nan")}, "learning_rate"),
    _config("dropout text", {"dataset": "d", "dropout": "0.2"}, "dropout"),
    _config("augmentation string", {"dataset": "d", "augmentation": "lots"}, "augmentation"),
    _config("augmentation flip unknown", {"dataset": "d", "augmentation": {"flip": "sideways"}}, "augmentation"),
    _config("gradual_unfreezing list", {"dataset": "d", "gradual_unfreezing": [3]}, "gradual_unfreezing"),
    _config("gradual stages 0", {"dataset": "d", "gradual_unfreezing": {"stages": 0}}, "gradual_unfreezing"),
    _config("small_cnn text", {"dataset": "d", "small_cnn": "big"}, "small_cnn"),
    _config("missing dataset", {"backbone": "VGG16"}, "dataset"),
    _config("empty dataset", {"dataset": ""}, "dataset"),
    _config("unknown field", {"dataset": "d", "rm -rf": 1}, "rm -rf"),
    _config("backbone object", {"dataset": "d", "backbone": {"x": 1}}, "backbone"),
    _config("parent_run number", {"dataset": "d", "parent_run": 3}, "parent_run"),
    _config("optimizer unknown", {"dataset": "d", "optimizer": "magic"}, "optimizer"),
    _config("NUL in dataset", {"dataset": "a\x00b"}, "dataset"),
    Hostile("config:cut off", None, raw='{"dataset": "d", "epo'),
    Hostile("config:empty file", None, raw=""),
]

OWNER_FILES = [
    Hostile("owner:list", [1]),
    Hostile("owner:number", {"owner": 5}),
    Hostile("owner:huge", {"owner": "x" * 10_000}),
    Hostile("owner:cut off", None, raw='{"owner": "al'),
]

TASK_FILES = [
    Hostile("task:other target", {"kind": "sleep", "target": "os:system", "params": {}}),
    Hostile("task:unknown kind", {"kind": "rm", "target": "tlcore.jobs.tasks:sleep_task", "params": {}}),
    Hostile("task:params list", {"kind": "sleep", "target": "tlcore.jobs.tasks:sleep_task", "params": [1]}),
    Hostile("task:list", [1]),
]

# Strings that would render as markup if a page passed them to Markdown: bold, a live link, a remote image,
# Streamlit's colour directive, KaTeX, HTML, a javascript: link.
INJECTIONS = [
    "**B** [L](http://evil.example/) ![I](http://evil.example/i.png) :red[R] $$K$$",
    "[click](javascript:alert(1))",
    "<img src=x onerror=alert(1)>",
    "<b>bold</b><a href='http://evil.example'>a</a>",
    "$\\frac{1}{2}$",
    "![](http://evil.example/pixel.png)",
    "https://evil.example/bare",
]
LONG_ID = "r" * 5000

ALL_INPUTS = STATUS_FILES + CONFIG_FILES + OWNER_FILES + TASK_FILES
assert len(ALL_INPUTS) + len(INJECTIONS) + 2 >= 60, "issue 31 asks for a list of at least 60 hostile inputs"

_HOSTILE = "tests/unit/hostile/test_hostile_inputs.py::"
_PAGES = "tests/pages/test_hostile_pages.py::"
# The 26 inputs issue 31 found mishandled: each names the entry above that holds it (or the input itself) and the test
# that feeds it to the app (tests/unit/hostile/test_hostile_list.py checks both exist).
FROM_THE_ISSUE: dict[str, tuple[str, str]] = {
    "status pid 'abc'": ("status:pid text", _HOSTILE + "test_a_damaged_status_is_shown_as_damaged_and_the_queue_goes_on"),
    "status pid 1e20": ("status:pid 1e20", _HOSTILE + "test_a_damaged_status_is_shown_as_damaged_and_the_queue_goes_on"),
    "status queued_at 'yesterday'": ("status:queued_at yesterday",
                                     _HOSTILE + "test_a_damaged_status_is_shown_as_damaged_and_the_queue_goes_on"),
    "status dispatched_at 'x'": ("status:dispatched_at x",
                                 _HOSTILE + "test_a_damaged_status_is_shown_as_damaged_and_the_queue_goes_on"),
    "status epochs '2'": ("status:epochs text", _HOSTILE + "test_a_damaged_status_is_shown_as_damaged_and_the_queue_goes_on"),
    "config dataset 5 (Home)": ("config:dataset number",
                                _HOSTILE + "test_a_damaged_config_is_refused_in_one_line_naming_the_field"),
    "running status with no start time": ("RUNNING_WITHOUT_PROCESS",
                                          _HOSTILE + "test_a_running_status_without_a_process_does_not_hold_the_slot"),
    "config epochs 'two'": ("config:epochs two", _HOSTILE + "test_a_damaged_config_is_refused_in_one_line_naming_the_field"),
    "config image_size '32'": ("config:image_size text",
                               _HOSTILE + "test_a_damaged_config_is_refused_in_one_line_naming_the_field"),
    "config dataset ['a']": ("config:dataset list", _HOSTILE + "test_a_damaged_config_is_refused_in_one_line_naming_the_field"),
    "config null": ("config:null", _HOSTILE + "test_a_damaged_config_is_refused_in_one_line_naming_the_field"),
    "config [1, 2]": ("config:list", _HOSTILE + "test_a_damaged_config_is_refused_in_one_line_naming_the_field"),
    "config split {'val': 1}": ("config:split with unknown key",
                                _HOSTILE + "test_a_damaged_config_is_refused_in_one_line_naming_the_field"),
    "config image_size 100000": ("config:image_size 100000",
                                 _HOSTILE + "test_a_damaged_config_is_refused_in_one_line_naming_the_field"),
    "config hidden_units 1e9": ("config:hidden_units 1e9",
                                _HOSTILE + "test_a_damaged_config_is_refused_in_one_line_naming_the_field"),
    "/train?run=<markup>": ("INJECTIONS[0]", _PAGES + "test_injection_in_the_url_is_shown_as_text"),
    "/demo?run=<markup>": ("INJECTIONS[0]", "tests/e2e/test_hostile_states_browser.py::"
                                            "test_an_injection_in_a_demo_link_shows_as_plain_text"),
    "/finetune?job=<markup>": ("INJECTIONS[0]", _PAGES + "test_injection_in_the_url_is_shown_as_text"),
    "class-folder names on Evaluate and Demo": ("INJECTIONS[0]", "tests/pages/test_hostile_class_names.py::"
                                                                 "test_demo_shows_class_and_dataset_names_as_text"),
    "class and file names on the Dataset thumbnails": (
        "INJECTIONS[0]", _PAGES + "test_class_and_file_names_render_as_text_on_the_dataset_page"),
    "javascript: links in names": ("INJECTIONS[1]", _PAGES + "test_class_and_file_names_render_as_text_on_the_dataset_page"),
    "HTML in a Plotly chart label": ("INJECTIONS[3]", "tests/unit/figures/test_chart_labels_plain.py::"
                                                      "test_confusion_matrix_labels_and_hover_are_plain_but_clicks_keep_the_real_name"),
    "5,000-character ?run=": ("LONG_ID", _PAGES + "test_a_5000_character_run_id_gets_a_clear_message"),
    "tlcore resume <5,000 characters>": ("LONG_ID", _HOSTILE + "test_a_5000_character_run_id_gets_one_line"),
    "disk full while training": ("disk full", "tests/unit/hostile/test_disk_full_state.py::"
                                              "test_a_run_that_fills_the_disk_is_failed_with_disk_full_and_leaves_no_partial_file"),
    "disk full on Start training": ("disk full", "tests/pages/test_train_disk_full.py::"
                                                 "test_start_training_on_a_full_disk_says_disk_full"),
}
