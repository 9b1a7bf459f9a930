"""The order waiting jobs start in: round-robin across owners, first come first served within one owner.

So a ten-run sweep by one user does not starve another user's single run: each round gives every owner with a job
waiting one start, an owner who already has jobs running counts those as rounds already taken, and in a round the
owner served longest ago goes first (that is what makes it round-robin when one job ends and the next is chosen).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Sequence

__all__ = ["Waiting", "fair_order"]


@dataclass(frozen=True)
class Waiting:
    key: str  # the job's folder (unique)
    owner: str
    queued_at: float


def fair_order(waiting: Sequence[Waiting], running_per_owner: Counter | dict | None = None,
               last_start: dict[str, float] | None = None) -> list[Waiting]:
    """`waiting` in start order: an owner's k-th waiting job comes in round k + (their running jobs); within a round
    the owner whose last job started longest ago (`last_start`, never = first) goes first, then by queue time."""
    running = Counter(running_per_owner or {})
    last_start = last_start or {}
    seen: Counter = Counter()
    ranked = []
    for job in sorted(waiting, key=lambda job: (job.queued_at, job.key)):
        ranked.append((seen[job.owner] + running[job.owner], last_start.get(job.owner, 0.0), job.queued_at, job.key,
                       job))
        seen[job.owner] += 1
    return [job for *_, job in sorted(ranked, key=lambda item: item[:4])]
