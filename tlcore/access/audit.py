"""The audit log: one JSON line per thing someone did (started, cancelled, deleted, signed in, was refused, …).

`$TLSTUDIO_HOME/audit.jsonl`. Lines are appended whole under a file lock (O_APPEND, one write, fsync), so two
server threads or a CLI call at the same time never interleave. Each line carries `prev`, the SHA-256 of the line
before it (a hash chain): editing, deleting or reordering a line breaks the chain from there on, which
`verify_chain` (the Audit page, `python -m tlcore audit --verify`) reports with the line number. Lines are split on
"\\n" only: a U+2028 inside a value is text, not a line break. A damaged line is skipped when read, never fatal.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tlcore.access.users import User
from tlcore.storage.paths import studio_home

__all__ = ["audit_path", "record", "read_log", "ChainCheck", "verify_chain", "GENESIS"]

GENESIS = "0" * 64  # the `prev` of the first line
_TAIL_BYTES = 1 << 16


def audit_path() -> Path:
    return studio_home() / "audit.jsonl"


def record(user: User, action: str, target: str = "", **details: Any) -> dict:
    """Append one line: when, who (id and role), what action, on what, any details, and the previous line's hash."""
    entry = {"at": time.time(), "user": user.id, "role": user.role, "action": action, "target": target, **details}
    path = audit_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        entry["prev"] = _hash(_last_line(descriptor))
        line = (json.dumps(entry, default=str, ensure_ascii=False) + "\n").encode("utf-8")
        os.write(descriptor, line)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)  # closing releases the lock
    return entry


def _last_line(descriptor: int) -> bytes | None:
    """The last complete line of the open log (without its newline), None when the log is empty."""
    size = os.fstat(descriptor).st_size
    if size == 0:
        return None
    start = max(0, size - _TAIL_BYTES)
    data = os.pread(descriptor, size - start, start)
    while start > 0 and data.rstrip(b"\n").count(b"\n") == 0:  # a line longer than the tail read: read more
        start = max(0, start - _TAIL_BYTES)
        data = os.pread(descriptor, size - start, start)
    return data.rstrip(b"\n").rsplit(b"\n", 1)[-1]


def _hash(line: bytes | None) -> str:
    return GENESIS if line is None else hashlib.sha256(line).hexdigest()


def _lines() -> list[bytes]:
    try:
        data = audit_path().read_bytes()
    except FileNotFoundError:
        return []
    return [line for line in data.split(b"\n") if line]  # "\n" only: U+2028 and friends stay inside their line


def read_log(limit: int | None = None, user_id: str | None = None) -> list[dict]:
    """Entries newest first (optionally only one user's, at most `limit`); unreadable lines are skipped."""
    entries = []
    for line in reversed(_lines()):
        try:
            entry = json.loads(line.decode("utf-8", errors="replace"))
        except (ValueError, RecursionError):
            continue
        if isinstance(entry, dict) and (user_id is None or entry.get("user") == user_id):
            entries.append(_typed(entry))
            if limit is not None and len(entries) >= limit:
                break
    return entries


def _typed(entry: dict) -> dict:
    """An entry whose who/what/when have their types (a hand-written line may hold anything): `at` a time or None,
    user, role, action and target text."""
    at = entry.get("at")
    ok_time = isinstance(at, (int, float)) and not isinstance(at, bool) and 0 <= at < 1e11
    return {**entry, "at": at if ok_time else None,
            **{key: str(entry.get(key, "")) for key in ("user", "role", "action", "target")}}


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    lines: int
    message: str
    broken_at: int | None = None  # 1-based line number where the chain first breaks


def verify_chain() -> ChainCheck:
    """Check every line's `prev` against the hash of the line before it.

    Lines written before the chain existed (no `prev` at all, at the start of the log) are counted as unchained.
    """
    lines = _lines()
    previous: bytes | None = None
    unchained = 0
    for number, line in enumerate(lines, start=1):
        try:
            entry = json.loads(line.decode("utf-8", errors="strict"))
        except (ValueError, RecursionError):
            return ChainCheck(False, len(lines), f"line {number} is not a JSON entry: the log was edited or "
                                                 "damaged there.", number)
        claimed = entry.get("prev") if isinstance(entry, dict) else None
        if claimed is None and previous is None or claimed is None and unchained == number - 1:
            unchained += 1  # from before the chain was introduced
        elif claimed != _hash(previous if number > 1 else None):
            return ChainCheck(False, len(lines), f"the chain breaks at line {number}: the line before it was "
                                                 "changed, removed or inserted.", number)
        previous = line
    note = f" ({unchained} older line(s) from before the chain)" if unchained else ""
    return ChainCheck(True, len(lines), f"{len(lines)} line(s), hash chain intact{note}.")
