"""The one cross-process file lock: a second holder waits until the first lets go, and a dead holder frees it."""

import multiprocessing
import threading
import time
from pathlib import Path

from tlcore.storage.file_lock import file_lock


def _hold(path: str, seconds: float, ready, log: str | None = None) -> None:
    with file_lock(Path(path)):
        ready.set()
        time.sleep(seconds)
        if log:
            with open(log, "a") as file:
                file.write("holder lets go\n")


def test_a_second_holder_waits_for_the_first(tmp_path):
    path = tmp_path / "locks" / "x.lock"  # the folder does not exist yet
    log = tmp_path / "order.log"
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold, args=(str(path), 1.0, ready, str(log)))
    holder.start()
    assert ready.wait(10)
    with file_lock(path):
        with open(log, "a") as file:
            file.write("second holder in\n")
    holder.join()
    # The order of what each holder did inside the lock: without the lock, the second writes first.
    assert log.read_text().splitlines() == ["holder lets go", "second holder in"]


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    path = tmp_path / "x.lock"
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold, args=(str(path), 60.0, ready))
    holder.start()
    assert ready.wait(10)
    holder.kill()
    holder.join()
    acquired = threading.Event()

    def take() -> None:
        with file_lock(path):
            acquired.set()

    taker = threading.Thread(target=take, daemon=True)
    taker.start()
    assert acquired.wait(60), "the lock of a killed holder was never freed"  # a bound, not a speed
