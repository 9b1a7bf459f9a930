"""The Train page on a Ray cluster offers the cluster's GPUs, not the web server's (issue 31, item 8): none on a
CPU-only cluster (said, and the run asks for a CPU node), up to the largest node's on a GPU cluster, and a warning
when the head cannot be read. Ray's node records and its job submission are faked: no cluster, no worker."""

import pytest
from page_helpers import by_label, texts

from tlcore.jobs import inventory, ray_backend
from tlcore.runs.folders import get_run

GPU_REQUEST = "GPUs for this run"


@pytest.fixture
def ray_cluster(studio, monkeypatch):
    """`ray_cluster(nodes)`: the app sends jobs to a Ray head whose nodes are these (None: unreachable). The web
    server itself has two GPUs, which must not be offered."""
    submitted = []

    def point_at(nodes):
        def list_nodes(address):
            if nodes is None:
                raise ConnectionError(f"Failed to connect to {address}")
            return nodes
        monkeypatch.setattr(ray_backend, "_list_nodes", list_nodes)
        monkeypatch.setattr(ray_backend, "_cluster_cache", {})
        return submitted

    monkeypatch.setenv(ray_backend.RAY_ADDRESS_ENV, "http://127.0.0.1:8265")
    monkeypatch.setenv(inventory.FAKE_GPUS_ENV, "2")
    monkeypatch.setattr(ray_backend, "submit_to_ray",
                        lambda run, resources: submitted.append(resources) or f"tlstudio-{run.id}-fake")
    return point_at


def _gpu_inputs(at):
    return [widget for widget in at.number_input if widget.label == GPU_REQUEST]


def _random_weights(at):
    by_label(at.radio, "Starting weights").set_value("random").run()  # no cached ImageNet weights offline


def test_a_cpu_only_cluster_is_said_and_the_run_asks_for_no_gpu(open_page, ray_cluster):
    submitted = ray_cluster([{"state": "ALIVE", "resources_total": {"CPU": 4.0}}])
    at = open_page("pages/train.py")
    _random_weights(at)

    assert not _gpu_inputs(at)
    assert "The Ray cluster has no GPU (1 node): runs train on a CPU node." in texts(at.info)

    by_label(at.button, "Start training").click().run()

    assert not at.exception and not at.error
    run = get_run(at.query_params["run"])
    assert run.status()["resources"] == {"gpus": 0, "lane": "training"}
    assert [needs.gpus for needs in submitted] == [0]


def test_a_gpu_cluster_offers_up_to_its_largest_node(open_page, ray_cluster):
    submitted = ray_cluster([{"state": "ALIVE", "resources_total": {"GPU": 2.0}},
                             {"state": "ALIVE", "resources_total": {"GPU": 4.0}}])
    at = open_page("pages/train.py")
    _random_weights(at)

    (request,) = _gpu_inputs(at)
    assert (request.value, request.max) == (1, 4)
    assert any("6 GPUs on 2 nodes; one run can use at most 4" in text for text in texts(at.caption))
    request.set_value(4).run()
    by_label(at.button, "Start training").click().run()

    assert not at.exception and not at.error
    assert get_run(at.query_params["run"]).status()["resources"]["gpus"] == 4
    assert [needs.gpus for needs in submitted] == [4]


def test_an_unreachable_head_is_said_and_the_request_starts_at_no_gpu(open_page, ray_cluster):
    ray_cluster(None)
    at = open_page("pages/train.py")

    assert any("GPUs cannot be read now" in text for text in texts(at.warning))
    (request,) = _gpu_inputs(at)
    assert request.value == 0
