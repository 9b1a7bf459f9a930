"""The instant model: cosine class prototypes inside TL Studio's own model, a run like any other."""

import numpy as np
import pytest

from tlcore.labeling import instant
from tlcore.labeling.instant import (InstantConfig, PrototypeFit, build_instant_run, cross_validated_accuracy,
                                     fit_prototypes, head_weights, instant_summary, normalised_prototypes,
                                     prototype_logits)


def _clusters(seed=0, classes=3, per_class=20, width=16):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(classes, width)) * 3
    features = np.concatenate([centre + rng.normal(size=(per_class, width)) for centre in centres])
    labels = np.repeat(np.arange(classes), per_class)
    return features.astype(np.float32), labels


def test_prototypes_are_unit_mean_directions_of_the_centred_features():
    features, labels = _clusters()
    centre = features.mean(axis=0)
    prototypes = normalised_prototypes(features, labels, 3, centre)
    np.testing.assert_allclose(np.linalg.norm(prototypes, axis=1), 1.0, rtol=1e-6)
    directions = features[labels == 0] - centre
    mean0 = (directions / np.linalg.norm(directions, axis=1, keepdims=True)).mean(axis=0)
    np.testing.assert_allclose(prototypes[0], mean0 / np.linalg.norm(mean0), rtol=1e-5)


def test_the_dense_head_computes_the_centred_cosine_prototype_classifier_multiclass_and_binary():
    """argmax over classes of features · kernel + bias equals argmax of the cosine of the centred features to each
    prototype, for the softmax head and the binary sigmoid head."""
    for classes in (2, 4):
        features, labels = _clusters(seed=classes, classes=classes)
        fit = fit_prototypes(features, labels, classes)
        kernel, bias = head_weights(fit)
        unit = features - fit.centre
        unit /= np.linalg.norm(unit, axis=1, keepdims=True)
        cosine_choice = (unit @ fit.prototypes.T).argmax(axis=1)
        logits = features @ kernel + bias
        head_choice = (logits[:, 0] > 0).astype(int) if classes == 2 else logits.argmax(axis=1)
        np.testing.assert_array_equal(head_choice, cosine_choice)
        assert (cosine_choice == labels).mean() > 0.9  # the clusters are separable: the check means something


def test_fitted_scale_lowers_the_log_loss():
    features, labels = _clusters()
    fit = fit_prototypes(features, labels, 3)

    def loss(scale):
        logits = prototype_logits(features, PrototypeFit(fit.prototypes, fit.centre, scale))
        logits -= logits.max(axis=1, keepdims=True)
        return -(logits[np.arange(len(labels)), labels] - np.log(np.exp(logits).sum(axis=1))).mean()

    assert loss(fit.scale) <= min(loss(fit.scale / 4), loss(fit.scale * 4), loss(1.0)) + 1e-9


def test_cross_validation_separates_clusters_from_noise():
    features, labels = _clusters()
    good = cross_validated_accuracy(features, labels)
    noise = cross_validated_accuracy(np.random.default_rng(1).normal(size=features.shape), labels)
    assert good["prototype"] > 0.9 and good["knn"] > 0.9
    assert noise["prototype"] < 0.6
    assert good["folds"] == 5


def test_cross_validation_says_why_when_a_class_has_one_image():
    features, labels = _clusters(per_class=1)
    result = cross_validated_accuracy(features, labels)
    assert result["prototype"] is None and "2 images" in result["message"]


def test_config_refuses_unknown_fields_and_a_missing_dataset():
    with pytest.raises(ValueError, match="Unknown"):
        InstantConfig.from_dict({"dataset": "d", "epochs": 3})
    with pytest.raises(ValueError, match="dataset"):
        InstantConfig.from_dict({"backbone": "MobileNetV2"})


def test_instant_run_on_standin_weights_is_a_finished_run_that_discriminates(tiny_dataset, standin_imagenet,
                                                                             capsys):
    """A real run folder: model.keras whose predictions equal the prototype rule, evaluated like a trained run; a
    second build (through the CLI) reads every feature from the per-image cache."""
    import json

    from tlcore.cli import main

    from tlcore.datasets.pipeline import load_arrays
    from tlcore.layers.loading import load_model
    from tlcore.runs.folders import FINISHED
    from tlcore.training.feature_cache import feature_extractor

    dataset = tiny_dataset("tiny3", classes=("0", "1", "2"), per_class=40)
    config = InstantConfig(dataset=dataset, backbone="MobileNetV2", image_size=32, weights="imagenet")
    run = build_instant_run(config)

    assert run.state == FINISHED
    summary = instant_summary(run)
    assert summary["kind"] == "instant"
    print("instant model:", summary["cross_validated"], summary["held_out"], summary["held_out_accuracy"])
    # chance is 1/3; measured 14 of 18 test images right (0.78), cross-validated 0.8 on the 66 training images
    assert summary["held_out_accuracy"] >= 0.66
    assert summary["cross_validated"]["prototype"] >= 0.66
    evaluation = run.evaluation(summary["held_out"]) or run.evaluation("validation")
    assert evaluation["accuracy"] == summary["held_out_accuracy"]

    model = load_model(run.model_path)
    split = run.split()
    images, labels = load_arrays(run_dataset_root(run), split.test, 32)
    probabilities = model.predict(images, verbose=0)
    assert len(set(probabilities.argmax(axis=1).tolist())) == 3  # outputs vary: every class is answered
    features = feature_extractor(model).predict(images, verbose=0)
    kernel, bias = model.get_layer("head").get_weights()
    np.testing.assert_array_equal(probabilities.argmax(axis=1), (features @ kernel + bias).argmax(axis=1))

    store = instant._FeatureStore(instant._base_identity(config.train_config()))
    cached = len(store.features)
    assert cached == len(split.train)
    capsys.readouterr()
    assert main(["instant", dataset, "--image-size", "32", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["run"] != run.id and printed["kind"] == "instant"
    assert printed["held_out_accuracy"] == summary["held_out_accuracy"]
    assert len(printed["per_class"]) == 3
    assert len(instant._FeatureStore(instant._base_identity(config.train_config())).features) == cached

    # it exports like any run: each format in its own runtime agrees with the app on every test image
    from tlcore.inference import export_run

    exported = export_run(run.id, ["keras", "tflite-f32", "onnx"])
    for name in ("keras", "tflite-f32", "onnx"):
        row = exported["formats"][name]
        assert row["parity_passed"] and row["top1_agreement"] == 1.0, (name, row)
        assert row["test_accuracy"] == pytest.approx(summary["held_out_accuracy"]), (name, row)

    # the labeling queue ordered by this model: least confident first, its guesses named
    unlabeled = run_dataset_root(run) / "_unlabeled"
    unlabeled.mkdir()
    for relative, _ in split.test[:6]:
        (unlabeled / relative.replace("/", "_")).write_bytes((run_dataset_root(run) / relative).read_bytes())
    assert main(["label", dataset, "--run", run.id, "--next", "6", "--json"]) == 0
    queue = json.loads(capsys.readouterr().out)["next"]
    assert len(queue) == 6 and [item["margin"] for item in queue] == sorted(item["margin"] for item in queue)
    assert all(item["guesses"][0][0] in ("0", "1", "2") for item in queue)


def run_dataset_root(run):
    from tlcore.datasets.scan import scan_folder

    return scan_folder(run.config().dataset).root
