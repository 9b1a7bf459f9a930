"""Train page, issue 5: freeze by block or index (kept in sync), counts for every head, training options, the device,
"Show me the code" and the TensorBoard command. No worker process is spawned."""

from page_helpers import by_label, make_run, metric_value, texts

from tlcore.backbones import freeze_blocks as freeze
from tlcore.config.training import TrainConfig
from tlcore.jobs import scheduler as jobs
from tlcore.modeling.model import config_param_counts
from tlcore.runs.folders import get_run

BLOCK = "Train from block"
FREEZE = "Freeze base layers below index"


def _shown_counts(at) -> tuple[str, str, str]:
    return metric_value(at, "Total parameters"), metric_value(at, "Trainable"), metric_value(at, "Non-trainable")


def _expected(**changes) -> tuple[str, str, str]:
    config = TrainConfig(dataset="sample-digits", image_size=96, **changes)
    counts = config_param_counts(config, 10)
    return f"{counts.total:,}", f"{counts.trainable:,}", f"{counts.non_trainable:,}"


def _code(at) -> str:
    return "\n".join(texts(at.code))


def test_choosing_a_block_moves_the_index_and_the_counts(open_page):
    at = open_page("pages/train.py")
    assert by_label(at.selectbox, BLOCK).value == "(whole base frozen)"

    by_label(at.selectbox, BLOCK).set_value("block_13").run()

    at_index = freeze.fine_tune_at_for_block("MobileNetV2", "block_13")
    assert by_label(at.slider, FREEZE, prefix=True).value == at_index == 116
    assert _shown_counts(at) == _expected(fine_tune_at=116)
    assert any("from layer 116" in text and "block `block_13`" in text for text in texts(at.caption))
    assert "for layer in base_model.layers[:116]:" in _code(at)


def test_moving_the_index_selects_the_block_holding_it(open_page):
    at = open_page("pages/train.py")

    by_label(at.slider, FREEZE, prefix=True).set_value(120).run()
    assert by_label(at.selectbox, BLOCK).value == "block_13"

    by_label(at.slider, FREEZE, prefix=True).set_value(0).run()
    assert by_label(at.selectbox, BLOCK).value == "stem"

    by_label(at.slider, FREEZE, prefix=True).set_value(154).run()
    assert by_label(at.selectbox, BLOCK).value == "(whole base frozen)"
    assert "base_model.trainable = False" in _code(at)


def test_counts_follow_every_head_option(open_page):
    at = open_page("pages/train.py")
    by_label(at.selectbox, BLOCK).set_value("block_16").run()

    by_label(at.selectbox, "Pooling").set_value("flatten").run()
    assert _shown_counts(at) == _expected(fine_tune_at=143, pooling="flatten")

    by_label(at.number_input, "Hidden dense units (0 = none)").set_value(64).run()
    assert _shown_counts(at) == _expected(fine_tune_at=143, pooling="flatten", hidden_units=64)
    code = _code(at)
    assert 'keras.layers.Flatten(name="pool")(x)' in code
    assert 'keras.layers.Dense(64, activation="relu", name="hidden")(x)' in code


def test_the_strip_colours_frozen_and_trainable_blocks(open_page):
    at = open_page("pages/train.py")
    by_label(at.selectbox, BLOCK).set_value("block_15").run()

    import json

    strip = json.loads(at.get("plotly_chart")[0].proto.spec)
    bars = {trace["name"]: trace for trace in strip["data"]}
    assert [row[0] for row in bars["trainable"]["customdata"]] == ["block_15", "block_16", "top"]
    assert [row[0] for row in bars["frozen"]["customdata"]][-1] == "block_14"


def test_device_is_shown_and_gpu_switches_explain_why_they_are_off(open_page):
    at = open_page("pages/train.py")

    assert any("Device:** CPU" in text for text in texts(at.markdown))
    for label in ("Mixed precision (float16 compute)", "XLA compilation"):
        assert by_label(at.toggle, label).disabled
    assert any("needs a GPU" in text for text in texts(at.caption))


def test_class_weights_are_shown_when_switched_on(open_page):
    at = open_page("pages/train.py")

    by_label(at.toggle, "Class weights from the imbalance (scikit-learn 'balanced')").set_value(True).run()

    assert any(text.startswith("Weights (from the whole folder") and "`0` " in text for text in texts(at.caption))


def test_start_stores_the_head_and_training_options(open_page, monkeypatch):
    monkeypatch.setattr(jobs, "start_worker", lambda run: None)
    at = open_page("pages/train.py")
    by_label(at.radio, "Starting weights").set_value("random").run()
    by_label(at.selectbox, BLOCK).set_value("block_14").run()
    by_label(at.selectbox, "Pooling").set_value("max").run()
    by_label(at.slider, "Label smoothing").set_value(0.1).run()
    by_label(at.selectbox, "Optimizer").set_value("sgd").run()
    by_label(at.selectbox, "Learning-rate schedule").set_value("cosine").run()
    by_label(at.number_input, "Early-stopping patience (0 = off)").set_value(3).run()

    by_label(at.button, "Start training").click().run()

    run = get_run(at.query_params["run"])
    config = run.config()
    assert (config.fine_tune_at, config.pooling, config.label_smoothing, config.optimizer, config.lr_schedule,
            config.early_stopping_patience) == (125, "max", 0.1, "sgd", "cosine", 3)
    assert f"tensorboard --logdir {run.path / 'tensorboard'}" in _code(at)


def test_tensorboard_command_for_the_run_in_the_url(open_page):
    run = make_run(state="finished", test_accuracy=0.9)

    at = open_page("pages/train.py", query_params={"run": run.id})

    assert f"tensorboard --logdir {run.path / 'tensorboard'}" in _code(at)
