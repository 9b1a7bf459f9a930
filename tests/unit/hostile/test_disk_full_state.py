"""A full disk is a state (issue 31, item 3): on a real small file system a run whose model save fills the disk is
marked failed with "disk full: N MB free, needs about M MB", its half-written model is removed, and the CLI says
it in one line."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from disk_full import small_filesystem, write_until_full  # noqa: E402

from tlcore import cli, worker  # noqa: E402
from tlcore.config import TrainConfig  # noqa: E402
from tlcore.runs.folders import create_run  # noqa: E402


def test_a_run_that_fills_the_disk_is_failed_with_disk_full_and_leaves_no_partial_file(tmp_path, monkeypatch,
                                                                                          capsys):
    with small_filesystem(tmp_path / "small", megabytes=3) as small:
        monkeypatch.setenv("TLSTUDIO_RUNS_DIR", str(small))
        run = create_run(TrainConfig(dataset="d"))

        def saves_a_model_too_big(run_):
            write_until_full(run_.path / ".model.tmp.keras")  # what save_model_atomic writes before renaming

        monkeypatch.setattr(worker, "train_run", saves_a_model_too_big)
        state = worker.run_job(run, wait=False)

        status = run.status()
        assert state == "failed" and status["state"] == "failed"
        assert status["error"].startswith("disk full: ") and "MB free, needs about" in status["error"]
        assert not list(run.path.glob(".*.tmp.keras"))
        printed = capsys.readouterr().out
        assert "Traceback" not in printed

        assert cli.main(["runs"]) == 0
        line = [text for text in capsys.readouterr().out.splitlines() if run.id in text]
        assert len(line) == 1 and "disk full" in line[0]

