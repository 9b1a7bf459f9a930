"""tlcore.inference.export: a new export replaces the old one only after it passed its check; one export of a run at
a time; the report keeps the last good row."""

import threading

import pytest

from tlcore.inference import export as export_module
from tlcore.inference.export import export_run, read_report


def test_a_failed_re_export_keeps_the_good_export_and_its_report_row(trained_run, monkeypatch):
    good = export_run(trained_run.id, ["keras"])["formats"]["keras"]
    assert "error" not in good, good
    exported = trained_run.path / "exports" / good["path"]
    before = exported.read_bytes()

    check = export_module.check_export

    def disagreeing(*args, **kwargs):  # as if the new file predicted differently from the app
        return {**check(*args, **kwargs), "top1_agreement": 0.5, "parity_passed": False}

    monkeypatch.setattr(export_module, "check_export", disagreeing)
    row = export_run(trained_run.id, ["keras"])["formats"]["keras"]

    assert exported.read_bytes() == before  # the file on disk is still the good one
    assert row["top1_agreement"] == good["top1_agreement"] and row["exported_at"] == good["exported_at"]
    assert "below the 99% required" in row["failed_attempt"]["error"]
    assert read_report(trained_run)["formats"]["keras"] == row
    assert not list((trained_run.path / "exports").glob(".*"))  # no staging or work folder left behind


def test_two_exports_of_one_run_at_once_are_serialised(trained_run):
    rows, errors = [], []

    def export():
        try:
            rows.append(export_run(trained_run.id, ["keras"])["formats"]["keras"])
        except Exception as error:  # noqa: BLE001 - collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=export) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    assert errors == [] and len(rows) == 2
    assert all("error" not in row for row in rows), rows
    assert rows[0]["exported_at"] != rows[1]["exported_at"]
    assert read_report(trained_run)["formats"]["keras"]["exported_at"] == max(r["exported_at"] for r in rows)


@pytest.mark.parametrize("broken", ["save", "load"])
def test_an_export_that_fails_to_write_or_reload_never_replaces_the_previous_one(trained_run, monkeypatch, broken):
    good = export_run(trained_run.id, ["keras"])["formats"]["keras"]
    exported = trained_run.path / "exports" / good["path"]
    before = exported.read_bytes()
    fmt = export_module.FORMATS["keras"]

    def fail(*args, **kwargs):
        raise OSError("simulated failure")

    monkeypatch.setitem(export_module.FORMATS, "keras", export_module.ExportFormat(
        fmt.name, fmt.label, fmt.is_float, fail if broken == "save" else fmt.save,
        fail if broken == "load" else fmt.load, fmt.op_types))
    row = export_run(trained_run.id, ["keras"])["formats"]["keras"]

    assert exported.read_bytes() == before
    assert row["failed_attempt"]["error"] == "OSError: simulated failure"
