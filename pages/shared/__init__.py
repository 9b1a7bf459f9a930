"""Widgets several pages use: navigation, the current dataset, picking a run, the job and task banner, the LR
finder and external models; user text made safe for Markdown."""

from pages.shared.dataset import (
           augmentation_config,
           current_dataset,
           dataset_label,
           dataset_settings,
           load_scan,
           set_dataset,
           split_config,
)
from pages.shared.monitor import get_task, job_monitor, task_monitor
from pages.shared.navigation import VIA_APP, run_through_app
from pages.shared.runs import pick_run, remember_run
from pages.shared.user_text import escape_markdown, inline_code

__all__ = ["augmentation_config", "current_dataset", "dataset_label", "dataset_settings", "escape_markdown",
           "get_task", "inline_code", "job_monitor", "load_scan", "pick_run", "remember_run", "run_through_app",
           "set_dataset", "split_config", "task_monitor", "VIA_APP"]
