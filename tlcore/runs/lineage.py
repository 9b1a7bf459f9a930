"""A run's lineage: the runs it continues (a fine-tuning run's parent, its parent's parent …).

A fine-tuning run is a job of its own that starts from its parent's model.keras; to write out or name everything it
trained, walk `parent_run` back to the first phase.
"""

from __future__ import annotations

from tlcore.config.training import TrainConfig
from tlcore.runs.folders import Run, get_run

__all__ = ["MAX_LINEAGE", "lineage_configs"]

MAX_LINEAGE = 64  # a longer chain of parents is a loop in hand-edited config files


def lineage_configs(run: Run | str) -> list[TrainConfig]:
    """The configs of the runs `run` continues, first phase first (empty for a first phase). Stops at a parent that
    is no longer on this server: the chain then starts with a fine-tuning config, which the code export says."""
    run = get_run(run) if isinstance(run, str) else run
    chain: list[TrainConfig] = []
    parent_id = run.config().parent_run
    seen = {run.id}
    while parent_id and parent_id not in seen and len(chain) < MAX_LINEAGE:
        seen.add(parent_id)
        try:
            parent = get_run(parent_id).config()
        except (KeyError, OSError, ValueError):
            break
        chain.append(parent)
        parent_id = parent.parent_run
    return chain[::-1]
