"""Per-user limits on a shared server, off unless an admin sets them (environment variables):

`TLSTUDIO_QUOTA_JOBS`: queued or running jobs one user may have at once; `TLSTUDIO_QUOTA_DISK_GB`: disk one user's
runs and tasks may take. A refused submit says which limit was reached and how to get under it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from tlcore.access.users import ADMIN, User

__all__ = ["Quotas", "QuotaExceeded", "current_quotas", "check_quota"]


class QuotaExceeded(PermissionError):
    """A submit would go over the user's job or disk quota."""


@dataclass(frozen=True)
class Quotas:
    jobs: int | None = None  # None: no limit
    disk_bytes: int | None = None

    @property
    def enabled(self) -> bool:
        return self.jobs is not None or self.disk_bytes is not None


def current_quotas() -> Quotas:
    """The quotas from the environment; unset, empty or 0 means no limit; a value that is not a number is refused."""
    return Quotas(jobs=_positive("TLSTUDIO_QUOTA_JOBS", int),
                  disk_bytes=_as_bytes(_positive("TLSTUDIO_QUOTA_DISK_GB", float)))


def check_quota(user: User, active_jobs: int, used_bytes: int, quotas: Quotas | None = None, adding: int = 1) -> None:
    """Refuse `adding` new jobs (a sweep adds one per run) when they would take the user over their quota of active
    jobs, or when the user is at their disk quota. Admins are not limited.

    Raises:
        QuotaExceeded: naming the limit, the user's figure and how to free it.
    """
    quotas = quotas or current_quotas()
    if user.role == ADMIN:
        return
    if quotas.jobs is not None and active_jobs + adding > quotas.jobs:
        asked = f"; this would add {adding}" if adding > 1 else ""
        raise QuotaExceeded(f"Job quota reached: {user.id} has {active_jobs} queued or running job(s){asked}, the "
                            f"limit is {quotas.jobs} (the job quota the server's admin set). Wait for one to finish or "
                            "cancel one.")
    if quotas.disk_bytes is not None and used_bytes >= quotas.disk_bytes:
        raise QuotaExceeded(f"Disk quota reached: {user.id}'s runs and tasks take {used_bytes / 1e9:.2f} GB, the "
                            f"limit is {quotas.disk_bytes / 1e9:.2f} GB (the disk quota the server's admin set). Delete runs or "
                            "exports you no longer need (Storage page or `python -m tlcore delete RUN`), then ask "
                            "an admin to empty the trash.")


def _positive(variable: str, kind: type) -> float | int | None:
    text = os.environ.get(variable, "").strip()
    if not text:
        return None
    try:
        value = kind(text)
    except ValueError as error:
        raise ValueError(f"{variable}={text!r} is not a number.") from error
    return value if value > 0 else None


def _as_bytes(gigabytes: float | None) -> int | None:
    return None if gigabytes is None else int(gigabytes * 1e9)
