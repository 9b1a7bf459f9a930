"""The one cross-process file lock: a second holder waits until the first lets go, and a dead holder frees it."""

import multiprocessing
import time
from pathlib import Path

from tlcore.storage.file_lock import file_lock


def _hold(path: str, seconds: float, ready) -> None:
    with file_lock(Path(path)):
        ready.set()
        time.sleep(seconds)


def test_a_second_holder_waits_for_the_first(tmp_path):
    path = tmp_path / "locks" / "x.lock"  # the folder does not exist yet
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold, args=(str(path), 1.0, ready))
    holder.start()
    assert ready.wait(10)
    started = time.monotonic()
    with file_lock(path):
        waited = time.monotonic() - started
    holder.join()
    assert waited > 0.5


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    path = tmp_path / "x.lock"
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold, args=(str(path), 60.0, ready))
    holder.start()
    assert ready.wait(10)
    holder.kill()
    holder.join()
    started = time.monotonic()
    with file_lock(path):
        assert time.monotonic() - started < 5
