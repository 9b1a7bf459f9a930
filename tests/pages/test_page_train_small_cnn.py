"""Train page, Small CNN: its shape form, live counts that follow the shape, random weights only, and Start queuing a
run that carries the shape (no worker process is spawned)."""

from page_helpers import by_label, metric_value

from tlcore.config.small_cnn import SmallCNNConfig
from tlcore.jobs import scheduler as jobs
from tlcore.modeling.model import count_params
from tlcore.runs.folders import get_run


def _pick_small_cnn(open_page):
    at = open_page("pages/train.py")
    by_label(at.selectbox, "Backbone").set_value("SmallCNN").run()
    by_label(at.number_input, "Image size (px)").set_value(32).run()
    assert not at.exception
    return at


def test_the_shape_form_counts_live_offers_a_notebook_and_refuses_a_shape_without_pixels(open_page):
    """One page open walks the form (each step asserted as before; one test, so the page starts once)."""
    at = _pick_small_cnn(open_page)

    # the lab's default shape: counts live, trains from scratch only, the form downloads as a notebook
    assert by_label(at.radio, "Starting weights").options == ["Random initialisation (no pretrained weights)"]
    expected = count_params("SmallCNN", 10, 0, pooling="flatten", hidden_units=128, image_size=32)
    assert metric_value(at, "Total parameters") == f"{expected.total:,}" == "522,186"
    assert metric_value(at, "Trainable") == "522,186"  # from scratch: every layer trains (the slider starts at 0)
    assert "Download notebook (.ipynb)" in [button.proto.label for button in at.get("download_button")]

    # changing the shape changes the backbone and its counts
    by_label(at.number_input, "Convolution blocks").set_value(2).run()
    by_label(at.selectbox, "Padding").set_value("valid").run()
    by_label(at.number_input, "Dense units").set_value(64).run()
    name = SmallCNNConfig(blocks=2, padding="valid").backbone_name()
    assert not at.exception and any(name in caption.value for caption in at.caption)
    assert at.session_state[f"freeze_index_{name}"] == 0  # the new shape got its own freeze slider, at 0
    expected = count_params(name, 10, 0, pooling="flatten", hidden_units=64, image_size=32)
    assert metric_value(at, "Total parameters") == f"{expected.total:,}"

    # a shape that leaves no pixel says so and cannot start
    by_label(at.number_input, "Convolution blocks").set_value(8).run()
    assert not at.exception
    assert any("needs images of at least" in error.value for error in at.error), [e.value for e in at.error]
    assert by_label(at.button, "Start training").disabled


def test_start_queues_a_run_with_the_shape(open_page, monkeypatch):
    started = []
    monkeypatch.setattr(jobs, "start_worker", started.append)
    at = _pick_small_cnn(open_page)
    by_label(at.number_input, "Kernel size").set_value(3).run()

    by_label(at.button, "Start training").click().run()

    assert not at.exception and not at.error
    config = get_run(at.query_params["run"]).config()
    shape = SmallCNNConfig(kernel_size=3)
    assert (config.backbone, config.small_cnn, config.weights, config.fine_tune_at) == (
        shape.backbone_name(), shape, "random", 0)
    assert (config.pooling, config.hidden_units) == ("flatten", 128)


def test_one_button_makes_a_finished_runs_model_a_backbone_cut_after_its_convolutions(open_page, tmp_path):
    from page_helpers import make_run

    from tlcore.config.training import TrainConfig
    from tlcore.modeling.model import build_model

    shape = SmallCNNConfig(blocks=2, filters=4)
    config = TrainConfig(dataset="sample-digits", backbone=shape.backbone_name(), small_cnn=shape, image_size=32,
                         weights="random", fine_tune_at=0, pooling="flatten", hidden_units=8)
    build_model(config, 10).save(tmp_path / "model.keras")
    run = make_run(config, model=(tmp_path / "model.keras").read_bytes(), class_names=list("0123456789"))
    at = open_page("pages/backbones.py", timeout=60)
    assert at.selectbox(key="custom_run").value == run.id

    at.button(key="custom_from_run").click().run()

    assert not at.exception
    assert any("cut after `block2_pool`" in s.value for s in at.success), [e.value for e in at.error]
    from tlcore.backbones import catalog

    name = next(n for n in catalog.all_names() if n.startswith("custom-"))
    assert catalog.get(name).cut_at == "block2_pool" and catalog.get(name).source == f"run {run.id}"


def test_a_finished_run_offers_a_notebook(open_page):
    from page_helpers import make_run

    from tlcore.config.training import TrainConfig
    from tlcore.datasets import make_split, scan_folder
    from tlcore.storage.atomic import write_json_atomic

    config = TrainConfig(dataset="sample-digits", backbone="SmallCNN", small_cnn=SmallCNNConfig(), weights="random")
    run = make_run(config, class_names=list("0123456789"))
    write_json_atomic(run.path / "split.json", make_split(scan_folder("sample-digits"), config.split).to_dict())
    at = open_page("pages/train.py", query_params={"run": run.id})
    labels = [button.proto.label for button in at.get("download_button")]
    assert f"Download run {run.id} as a notebook (.ipynb)" in labels



def test_the_head_widgets_show_the_small_cnns_head_as_it_is_and_augmentation_is_set_here(open_page, monkeypatch):
    """The Small CNN's head is Flatten + its Dense layer: the Head widgets say so (disabled), not "Global average /
    0"; flip and rotation (the tutorial's 0.2) are set on this page and reach the queued run's config."""
    monkeypatch.setattr(jobs, "start_worker", [].append)
    at = _pick_small_cnn(open_page)
    pooling = at.selectbox(key="head_pooling_flatten")  # the Head's; the shape form has a "Pooling" too
    hidden = by_label(at.number_input, "Hidden dense units", prefix=True)
    assert (pooling.value, pooling.disabled, hidden.value, hidden.disabled) == ("flatten", True, 128, True)

    by_label(at.toggle, "Data augmentation", prefix=True).set_value(True).run()
    at.slider(key="train_aug_rotation").set_value(0.2).run()
    at.selectbox(key="train_aug_flip").set_value("horizontal").run()
    by_label(at.button, "Start training").click().run()

    assert not at.exception and not at.error
    config = get_run(at.query_params["run"]).config()
    assert (config.augment, config.augmentation.flip, config.augmentation.rotation) == (True, "horizontal", 0.2)
    assert (config.pooling, config.hidden_units) == ("flatten", 128)
