"""The audit log appends whole JSON lines, reads newest first and survives a damaged line."""

import json
import threading

from tlcore.access import MEMBER, User, audit_path, read_log, record

ALICE = User("alice@example.com", role=MEMBER)


def test_lines_are_appended_and_read_newest_first(studio_dirs):
    record(ALICE, "start", "run-1", backbone="MobileNetV2")
    record(ALICE, "cancel", "run-1")
    entries = read_log()
    assert [entry["action"] for entry in entries] == ["cancel", "start"]
    assert entries[1]["user"] == "alice@example.com" and entries[1]["backbone"] == "MobileNetV2"
    assert entries[0]["at"] >= entries[1]["at"]


def test_concurrent_writers_never_interleave_and_a_bad_line_is_skipped(studio_dirs):
    threads = [threading.Thread(target=lambda n=n: [record(ALICE, "start", f"run-{n}-{i}") for i in range(25)])
               for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with open(audit_path(), "a") as log:
        log.write("{not json\n")
    lines = audit_path().read_text().splitlines()
    assert sum(1 for line in lines[:-1] if json.loads(line)["action"] == "start") == 100
    assert len(read_log()) == 100 and len(read_log(limit=5)) == 5
