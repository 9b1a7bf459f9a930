"""The labeling queue and examples from the browser: files move exactly once, undo puts them back, bad input refused."""

import io
import threading

import numpy as np
import pytest
from PIL import Image

from tlcore.labeling.examples import ExampleRefused, add_examples, added_examples, check_class_name
from tlcore.labeling.queue import (UNLABELED, LabelingRefused, assign, labeling_log, margins, queue_order,
                                   undo_last, unlabeled_files)
from tlcore.datasets.scan import scan_folder


def _png(colour=(200, 10, 10), size=(20, 20)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def own_dataset(studio_dirs):
    root = studio_dirs.data_root / "mine"
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        (root / name / "first.png").write_bytes(_png())
    (root / UNLABELED).mkdir()
    for index in range(5):
        (root / UNLABELED / f"u{index}.png").write_bytes(_png((index * 40, 0, 0)))
    return root


def test_unlabeled_images_are_not_part_of_the_dataset_until_labeled(own_dataset):
    assert len(unlabeled_files("mine")) == 5
    assert len(scan_folder("mine").files) == 2
    entry = assign("mine", f"{UNLABELED}/u0.png", "b", actor="alice")
    assert entry.target == "b/u0.png" and (own_dataset / "b" / "u0.png").is_file()
    assert not (own_dataset / UNLABELED / "u0.png").exists()
    assert len(scan_folder("mine").files) == 3 and len(unlabeled_files("mine")) == 4


def test_a_new_class_is_made_by_labeling_and_undo_returns_the_file(own_dataset):
    assign("mine", f"{UNLABELED}/u1.png", "c", actor="alice")
    assert "c" in scan_folder("mine").class_names
    undone = undo_last("mine", actor="alice")
    assert undone.undone and (own_dataset / UNLABELED / "u1.png").is_file()
    assert not (own_dataset / "c" / "u1.png").exists()
    with pytest.raises(LabelingRefused, match="Nothing of yours"):
        undo_last("mine", actor="alice")


def test_undo_takes_back_only_your_own_last_label(own_dataset):
    assign("mine", f"{UNLABELED}/u1.png", "a", actor="alice")
    assign("mine", f"{UNLABELED}/u2.png", "b", actor="bob")
    undo_last("mine", actor="alice")
    assert (own_dataset / UNLABELED / "u1.png").is_file() and (own_dataset / "b" / "u2.png").is_file()


def test_two_people_labeling_the_same_image_move_it_once(own_dataset):
    outcomes = []

    def label(who, target):
        try:
            outcomes.append(("ok", who, assign("mine", f"{UNLABELED}/u3.png", target, actor=who).target))
        except LabelingRefused as refused:
            outcomes.append(("refused", who, str(refused)))

    threads = [threading.Thread(target=label, args=(who, target)) for who, target in (("alice", "a"), ("bob", "b"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(kind for kind, _, _ in outcomes) == ["ok", "refused"]
    winner = next(each for each in outcomes if each[0] == "ok")
    refusal = next(each for each in outcomes if each[0] == "refused")
    assert f"already labeled by {winner[1]}" in refusal[2]
    assert len(labeling_log("mine")) == 1
    assert sum((own_dataset / name / "u3.png").exists() for name in ("a", "b")) == 1


def test_labeling_refuses_paths_outside_the_queue_and_unsafe_class_names(own_dataset):
    with pytest.raises(LabelingRefused, match="not an image of"):
        assign("mine", "a/first.png", "b", actor="alice")
    with pytest.raises(LabelingRefused, match="not an image of"):
        assign("mine", f"{UNLABELED}/../a/first.png", "b", actor="alice")
    for bad in ("../x", ".hidden", "a/b", "", " a", "x" * 65):
        with pytest.raises(ExampleRefused, match="class name"):
            assign("mine", f"{UNLABELED}/u4.png", bad, actor="alice")
    assert (own_dataset / UNLABELED / "u4.png").is_file()


def test_the_built_in_digits_refuse_labels_and_examples(digits):
    with pytest.raises(ExampleRefused, match="read-only"):
        add_examples(digits.name, "0", [_png()], owner="alice")


def test_examples_are_written_as_png_in_the_class_folder_with_their_owner(own_dataset):
    added = add_examples("mine", "new class", [_png(), _png((0, 0, 255))], owner="alice", prefix="camera")
    assert len(added) == 2 and all(each.path.startswith("new class/camera_") for each in added)
    for each in added:
        with Image.open(own_dataset / each.path) as image:
            assert image.format == "PNG" and image.size == (20, 20)
    assert [each.owner for each in added_examples("mine")] == ["alice", "alice"]
    assert scan_folder("mine").class_counts["new class"] == 2


def test_a_corrupt_capture_refuses_the_whole_batch(own_dataset):
    with pytest.raises(ExampleRefused, match="Not a readable image"):
        add_examples("mine", "a", [_png(), b"\x89PNG\r\n\x1a\n broken"], owner="alice")
    assert sorted(path.name for path in (own_dataset / "a").iterdir()) == ["first.png"]


def test_class_name_rule():
    assert check_class_name("cats") == "cats" and check_class_name("Big dog-2") == "Big dog-2"


def test_margin_order_puts_the_least_confident_first():
    probabilities = np.array([[0.9, 0.05, 0.05], [0.4, 0.35, 0.25], [0.6, 0.3, 0.1]])
    np.testing.assert_allclose(margins(probabilities), [0.85, 0.05, 0.3])
    assert queue_order(3, "margin", probabilities) == [1, 2, 0]
    assert queue_order(3, "name") == [0, 1, 2]
    assert sorted(queue_order(3, "random", seed=1)) == [0, 1, 2]
    assert margins(np.array([[0.7], [0.5]])).tolist() == pytest.approx([0.4, 0.0])
    with pytest.raises(LabelingRefused, match="needs a model"):
        queue_order(3, "margin")


def test_active_learning_curve_labels_each_budget_in_either_order():
    from tlcore.labeling.active import active_learning_curve

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 8)) * 1.5
    labels = np.repeat(np.arange(4), 150)
    features = centres[labels] + rng.normal(size=(600, 8))
    pool, test = np.arange(0, 600, 2), np.arange(1, 600, 2)
    curves = {order: active_learning_curve(features, labels, pool, test, order, [20, 60], seed=1)
              for order in ("margin", "random")}
    assert [point.labeled for point in curves["margin"]] == [20, 60]
    assert all(0.25 < point.accuracy <= 1 for points in curves.values() for point in points)
    with pytest.raises(ValueError, match="Unknown order"):
        active_learning_curve(features, labels, pool, test, "loudest", [20])


def test_cli_lists_the_next_images_in_name_or_random_order_and_asks_for_a_run_for_margin(own_dataset, capsys):
    import json

    from tlcore.cli import main

    assert main(["label", "mine", "--next", "3", "--order", "name", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["waiting"] == 5 and [item["path"] for item in printed["next"]] == [
        f"{UNLABELED}/u0.png", f"{UNLABELED}/u1.png", f"{UNLABELED}/u2.png"]
    assert main(["label", "mine", "--order", "random", "--seed", "3", "--json"]) == 0
    assert sorted(item["path"] for item in json.loads(capsys.readouterr().out)["next"]) == unlabeled_files("mine")
    assert main(["label", "mine"]) == 2
    assert "needs --run" in capsys.readouterr().err
