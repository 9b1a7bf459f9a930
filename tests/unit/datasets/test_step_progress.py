"""Long steps of a training job report progress every few seconds: checking every image, computing features."""

import itertools

import pytest


@pytest.fixture
def clock(monkeypatch):
    """time.monotonic of the throttle advancing 0.5 s per call: a report is due every 4th image."""
    from tlcore.datasets import health

    ticks = itertools.count()
    monkeypatch.setattr(health.time, "monotonic", lambda: next(ticks) * 0.5)


def test_checking_every_image_reports_a_fraction_and_a_count_every_two_seconds(tiny_dataset, clock):
    from tlcore.datasets.health import find_bad_files
    from tlcore.datasets.scan import scan_folder

    scan = scan_folder(tiny_dataset("many", per_class=40))
    reports = []

    assert find_bad_files(scan, lambda fraction, message: reports.append((fraction, message))) == []

    assert 15 <= len(reports) <= 25  # 80 images, one report per 2 s of the fake clock, not one per image
    fractions = [fraction for fraction, _ in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and 0 < fractions[1] < 0.5
    assert reports[-1][1] == "checking images 80/80"


def test_a_training_job_shows_both_steps_in_its_progress(tiny_dataset, make_config, monkeypatch):
    from tlcore.datasets import health
    from tlcore.runs.folders import FINISHED, Run, create_run
    from tlcore.runs.progress import job_progress
    from tlcore.training import feature_cache
    from tlcore.worker import run_job

    monkeypatch.setattr(health, "PROGRESS_EVERY_S", 0.0)  # every image and every batch reports
    monkeypatch.setattr(feature_cache, "_FEATURE_BATCH_PIXELS", 0)  # features in batches of 8: several per split
    monkeypatch.setattr(feature_cache, "_FEATURE_BATCH_MIN", 8)
    shown = []
    update = Run.update_status

    def recording(self, **changes):
        status = update(self, **changes)
        if "step" in changes:
            shown.append(job_progress(status))
        return status

    monkeypatch.setattr(Run, "update_status", recording)
    run = create_run(make_config(tiny_dataset("job", per_class=40), batch_size=8))
    assert run_job(run, wait=False) == FINISHED, run.status().get("error")

    checking = [p for p in shown if p.text.startswith("loading data · checking images")]
    computing = [p for p in shown if p.text.startswith("computing features · computing features")]
    assert len(checking) >= 10 and len([p for p in computing if p.fraction < 1]) >= 3, [p.text for p in shown]
    assert 0 < checking[len(checking) // 2].fraction < 1 and computing[-1].fraction == 1.0
    assert any(p.text.endswith("computing features 8/56 images") for p in computing)
