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


def test_each_line_carries_the_hash_of_the_one_before_and_the_chain_verifies(studio_dirs):
    from tlcore.access import verify_chain

    for target in ("run-1", "run-2", "run-3"):
        record(ALICE, "start", target)
    assert verify_chain().ok and verify_chain().lines == 3

    lines = audit_path().read_text(encoding="utf-8").split("\n")
    lines[1] = lines[1].replace("run-2", "run-X")  # someone edits a line
    audit_path().write_text("\n".join(lines), encoding="utf-8")
    check = verify_chain()
    assert not check.ok and check.broken_at == 3


def test_a_deleted_line_breaks_the_chain(studio_dirs):
    from tlcore.access import verify_chain

    for target in ("run-1", "run-2", "run-3"):
        record(ALICE, "start", target)
    lines = audit_path().read_text(encoding="utf-8").split("\n")
    audit_path().write_text("\n".join(lines[:1] + lines[2:]), encoding="utf-8")
    assert verify_chain().broken_at == 2


def test_an_entry_with_a_unicode_line_separator_stays_one_entry(studio_dirs):
    record(ALICE, "start", "run\u2028with\u2029separators\x85")
    record(ALICE, "cancel", "run-2")
    entries = read_log()
    assert [entry["action"] for entry in entries] == ["cancel", "start"]
    assert entries[1]["target"] == "run\u2028with\u2029separators\x85"


def test_a_refusal_is_audited(studio_dirs):
    import pytest

    from tlcore.access import NotAllowed, require

    with pytest.raises(NotAllowed):
        require(ALICE, "cancel", "bob@example.com", what="run-9")
    refused = read_log()[0]
    assert (refused["action"], refused["target"], refused["attempted"]) == ("refused", "run-9", "cancel")


def test_the_cli_verifies_the_chain(studio_dirs, capsys):
    from tlcore.cli import main

    record(ALICE, "start", "run-1")
    record(ALICE, "start", "run-3")
    assert main(["audit", "--verify"]) == 0 and "intact" in capsys.readouterr().out
    audit_path().write_text(audit_path().read_text().replace("run-1", "run-2"))
    assert main(["audit", "--verify"]) == 1 and "breaks at line 2" in capsys.readouterr().out
