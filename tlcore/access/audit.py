"""The audit log: one JSON line per thing someone did (started, cancelled, deleted, signed in, …), never rewritten.

`$TLSTUDIO_HOME/audit.jsonl`. Lines are appended whole under a file lock (O_APPEND, one write, fsync), so two
server threads or a CLI call at the same time never interleave; a damaged line is skipped when read, not fatal.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path
from typing import Any

from tlcore.access.users import User
from tlcore.storage.paths import studio_home

__all__ = ["audit_path", "record", "read_log"]


def audit_path() -> Path:
    return studio_home() / "audit.jsonl"


def record(user: User, action: str, target: str = "", **details: Any) -> dict:
    """Append one line: when, who (id and role), what action, on what, and any details (JSON-serialisable)."""
    entry = {"at": time.time(), "user": user.id, "role": user.role, "action": action, "target": target, **details}
    line = (json.dumps(entry, default=str, ensure_ascii=False) + "\n").encode("utf-8")
    path = audit_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        os.write(descriptor, line)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)  # closing releases the lock
    return entry


def read_log(limit: int | None = None, user_id: str | None = None) -> list[dict]:
    """Entries newest first (optionally only one user's, at most `limit`); unreadable lines are skipped."""
    try:
        lines = audit_path().read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return []
    entries = []
    for line in reversed(lines):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and (user_id is None or entry.get("user") == user_id):
            entries.append(entry)
            if limit is not None and len(entries) >= limit:
                break
    return entries
