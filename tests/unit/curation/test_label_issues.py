"""Label issues: files moved into a wrong class folder are ranked first (a floor on precision and recall)."""

import os
from pathlib import Path

import numpy as np
import pytest

from tlcore.curation import out_of_sample_probabilities, rank_label_issues
from tlcore.datasets import scan_folder
from tlcore.datasets.images import load_array

CLASSES = [str(n) for n in range(10)]
PER_CLASS = 40
MOVED = 20  # 5 % of 400
MIN_PRECISION_AT_K = 0.7  # bench/label_issues.py measures 0.89 at 5 % damage on all 1,797 digits (pixel features)


@pytest.fixture
def damaged(digits, studio_dirs):
    """400 digits, 20 of them moved into a wrong class folder (seeded): (dataset name, moved paths now)."""
    target = studio_dirs.data_root / "damaged"
    for name in CLASSES:
        (target / name).mkdir(parents=True)
        for image in sorted((digits / name).glob("*.png"))[:PER_CLASS]:
            os.link(image, target / name / image.name)
    files = sorted(str(p.relative_to(target)) for p in target.glob("*/*.png"))
    rng = np.random.default_rng(0)
    moved = {}  # path now → the class it came from
    for index in rng.choice(len(files), MOVED, replace=False):
        label = files[index].split("/")[0]
        wrong = str(rng.choice([name for name in CLASSES if name != label]))
        new = f"{wrong}/{Path(files[index]).name}"
        os.rename(target / files[index], target / new)
        moved[new] = label
    return "damaged", moved


def test_moved_files_are_ranked_first(damaged):
    name, moved = damaged
    scan = scan_folder(name)
    paths = [path for path, _ in scan.files]
    labels = np.asarray([label for _, label in scan.files])
    features = np.stack([load_array(scan.root / path, 8)[..., 0].ravel() for path in paths]).astype(np.float32)

    probabilities = out_of_sample_probabilities(features, labels, len(scan.class_names))
    issues = rank_label_issues(paths, labels, probabilities, scan.class_names)

    hits = [issue for issue in issues[:MOVED] if issue.path in moved]
    assert len(hits) / MOVED >= MIN_PRECISION_AT_K, [issue.path for issue in issues[:MOVED]]
    assert len(issues) == len(paths) and issues[0].flagged
    assert all(issue.suggested != issue.given and 0 < issue.score <= 1 for issue in hits)
    back_home = sum(issue.suggested == moved[issue.path] for issue in hits)  # the class it was taken from
    assert back_home >= 0.8 * len(hits), [(issue.path, issue.suggested, moved[issue.path]) for issue in hits]


def test_out_of_sample_probabilities_refuse_a_class_of_one():
    features = np.random.default_rng(0).normal(size=(5, 3))
    with pytest.raises(ValueError, match="at least 2 images"):
        out_of_sample_probabilities(features, np.array([0, 0, 1, 1, 2]), 3)


def test_probabilities_rows_sum_to_one_and_keep_absent_classes():
    rng = np.random.default_rng(0)
    features = np.concatenate([rng.normal(0, 1, (10, 4)), rng.normal(5, 1, (10, 4))])
    probabilities = out_of_sample_probabilities(features, np.array([0] * 10 + [2] * 10), 3)
    assert probabilities.shape == (20, 3)
    assert np.allclose(probabilities.sum(axis=1), 1) and (probabilities[:, 1] == 0).all()
    assert (probabilities[:10, 0] > 0.5).all() and (probabilities[10:, 2] > 0.5).all()


@pytest.mark.parametrize("run_is_good", [True, False], ids=["a run that learned", "a run left at chance"])
def test_a_runs_held_out_predictions_are_used_unless_far_worse_than_cross_validation(monkeypatch, run_is_good):
    """A run's held-out predictions replace the cross-validated ones for its test files, unless they match the given
    labels more than HELD_OUT_MARGIN less often (a run at chance would bury the moved files among random scores)."""
    from tlcore.curation import EmbedConfig
    from tlcore.curation import label_issues as module
    from tlcore.curation.embeddings import Embeddings

    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 40)
    features = np.eye(3)[labels] * 3 + rng.normal(scale=0.5, size=(120, 3))  # classes a regression tells apart
    paths = [f"{label}/{index}.png" for index, label in enumerate(labels)]
    embeddings = Embeddings("root", ["0", "1", "2"], paths, labels, ["train"] * 120, features.astype(np.float32))
    test_rows = list(range(0, 120, 4))
    answers = np.eye(3)[labels] * 0.9 + 0.1 / 3 if run_is_good else np.eye(3)[(labels + 1) % 3] * 0.9 + 0.1 / 3
    monkeypatch.setattr(module, "base_config_for", lambda config: EmbedConfig("root", run=None))
    monkeypatch.setattr("tlcore.curation.embeddings.compute_embeddings", lambda config, report: embeddings)
    monkeypatch.setattr(module, "_held_out_rows", lambda *args: {row: answers[row] for row in test_rows})

    found = module.label_issue_report(EmbedConfig("root", run="some-run"))

    used = found.sources[module.SOURCE_HELD_OUT]
    assert used == (len(test_rows) if run_is_good else 0)
    assert found.sources[module.SOURCE_CROSS_VALIDATED] == 120 - used
    assert ("set aside" in found.describe()) is not run_is_good
