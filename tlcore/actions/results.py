"""Changing what a run says about itself (marked best) as a signed-in user: owner checked, audited."""

from __future__ import annotations

from tlcore import evaluation
from tlcore.access import User, record, require
from tlcore.runs import Run

__all__ = ["mark_best", "unmark_best"]


def mark_best(user: User, run: Run) -> None:
    """Mark the run best for its dataset (unmarking the others); only its owner or an admin may."""
    require(user, "mark_best", run.owner, what=run.id)
    evaluation.mark_best(run)
    record(user, "mark_best", run.id, owner=run.owner)


def unmark_best(user: User, run: Run) -> None:
    require(user, "mark_best", run.owner, what=run.id)
    evaluation.unmark_best(run)
    record(user, "unmark_best", run.id, owner=run.owner)
