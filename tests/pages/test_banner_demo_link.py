"""The job banner (pages/shared/monitor.py) links every finished run that has a model to its Demo page."""

from page_helpers import make_run, texts


def _demo_links(at) -> list[tuple[str, str]]:
    return [(link.value, link.proto.query_string) for link in at.get("page_link") if link.proto.page.endswith("demo")]


def test_a_finished_run_links_to_its_demo(open_page):
    run = make_run(state="finished", test_accuracy=0.9, model=b"a saved model")

    at = open_page("pages/train.py", query_params={"run": run.id})

    assert "Finished: test accuracy 90.0%" in texts(at.success)
    assert _demo_links(at) == [("Open the demo of this model", f"run={run.id}")]


def test_no_demo_link_before_a_run_has_finished_or_without_a_model(open_page):
    failed = make_run(state="failed", error="crashed", model=b"a saved model")
    finished_without_model = make_run(state="finished", test_accuracy=0.9)

    assert _demo_links(open_page("pages/train.py", query_params={"run": failed.id})) == []
    assert _demo_links(open_page("pages/train.py", query_params={"run": finished_without_model.id})) == []
