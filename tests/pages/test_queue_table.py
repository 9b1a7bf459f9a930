"""The Train page with a pretend inventory of two GPUs: which are free, how many a run asks for (stored with the
queued run), and the queue table under a waiting job's banner (owner, needs, position). No worker is started."""

from page_helpers import by_label, make_run, texts

from tlcore.jobs.inventory import FAKE_GPUS_ENV
from tlcore.runs.folders import get_run


def test_the_train_page_shows_free_gpus_and_queues_a_run_asking_for_two(open_page, studio, monkeypatch):
    monkeypatch.setenv(FAKE_GPUS_ENV, "2")
    make_run(state="running", pid=None, devices=["0"], resources={"gpus": 1, "lane": "training"})  # holds GPU 0
    at = open_page("pages/train.py")
    by_label(at.radio, "Starting weights").set_value("random").run()  # no cached ImageNet weights offline
    assert any("GPUs free now: 1 of 2 (0, 1)" in text for text in texts(at.caption))
    by_label(at.number_input, "GPUs for this run").set_value(2).run()
    assert any("Only 1 free now: the run waits its turn for 2." in text for text in texts(at.caption))

    by_label(at.button, "Start training").click().run()

    assert not at.exception and not at.error
    run = get_run(at.query_params["run"])
    assert run.status()["resources"] == {"gpus": 2, "lane": "training"} and run.state == "queued"
    assert any("position 1" in text for text in texts(at.info))
    (table,) = [frame.value for frame in at.dataframe if "Needs" in frame.value.columns]
    row = table[table["Job"] == run.id].iloc[0]
    assert (row["Owner"], row["Needs"], row["State"], row["Position"]) == ("local", "2 GPUs", "queued", 1)


def test_on_a_cpu_box_the_page_asks_for_no_gpus(open_page, studio, monkeypatch):
    monkeypatch.setenv(FAKE_GPUS_ENV, "0")
    at = open_page("pages/train.py")
    assert not [widget for widget in at.number_input if widget.label == "GPUs for this run"]
