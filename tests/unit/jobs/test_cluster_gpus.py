"""With Ray, the GPUs a run may ask for are the cluster's, not the web server's (issue 31, item 8): a CPU-only
cluster gets CPU runs by default (a 1-GPU request would pend in Ray's queue forever while the page says "queued"), and
a request above the largest node is refused when submitted. No cluster here: Ray's node records are faked."""

import pytest

from tlcore.jobs import inventory, ray_backend, scheduler
from tlcore.jobs.ray_backend import ClusterGpus, gpus_of_nodes

CPU_NODE = {"state": "ALIVE", "resources_total": {"CPU": 8.0, "memory": 1e10}}


def _node(gpus, state="ALIVE"):
    return {"state": state, "resources_total": {"CPU": 16.0, "GPU": gpus}}


@pytest.fixture
def cluster(monkeypatch):
    """Point the app at a Ray head whose nodes are `cluster.nodes` (None: the head cannot be reached)."""
    class FakeCluster:
        nodes = [CPU_NODE]
        reads = 0
        submitted: list = []

    def list_nodes(address):
        FakeCluster.reads += 1
        if FakeCluster.nodes is None:
            raise ConnectionError(f"Failed to connect to {address}")
        return FakeCluster.nodes

    def submit_to_ray(run, resources):
        FakeCluster.submitted.append(resources)
        return f"tlstudio-{run.id}-fake"

    monkeypatch.setenv(ray_backend.RAY_ADDRESS_ENV, "http://127.0.0.1:8265")
    monkeypatch.setattr(ray_backend, "_list_nodes", list_nodes)
    monkeypatch.setattr(ray_backend, "_cluster_cache", {})
    monkeypatch.setattr(ray_backend, "submit_to_ray", submit_to_ray)
    monkeypatch.setenv(inventory.FAKE_GPUS_ENV, "2")  # the web server itself has GPUs: they must not count
    FakeCluster.submitted = []
    return FakeCluster


def test_the_gpus_of_alive_nodes_count_and_one_run_fits_on_the_largest_node():
    gpus = gpus_of_nodes([_node(2.0), _node(4.0), _node(8.0, state="DEAD"), CPU_NODE])
    assert gpus == ClusterGpus((2, 4, 0))
    assert (gpus.total, gpus.largest_node) == (6, 4)
    assert gpus.describe() == "The Ray cluster has 6 GPUs on 3 nodes; one run can use at most 4 (the most on one node)."


def test_a_cpu_only_cluster_has_no_gpu_and_says_so():
    gpus = gpus_of_nodes([CPU_NODE, {"resources_total": {"CPU": 2.0, "GPU": 0.0}}])
    assert (gpus.total, gpus.largest_node) == (0, 0)
    assert gpus.describe() == "The Ray cluster has no GPU (2 nodes): runs train on a CPU node."


def test_odd_node_records_count_no_gpu_and_never_raise():
    odd = [{"resources_total": {"GPU": "many"}}, {"resources_total": None}, {"resources_total": {"GPU": 0.5}},
           {"resources_total": {"GPU": float("inf")}}, {"state": None}, {}]
    assert gpus_of_nodes(odd).largest_node == 0


def test_the_cluster_is_read_once_per_cache_period_and_an_unreachable_head_is_none(cluster, monkeypatch):
    cluster.nodes = [_node(1.0)]
    assert ray_backend.cluster_gpus() == ClusterGpus((1,))
    assert ray_backend.cluster_gpus() == ClusterGpus((1,)) and cluster.reads == 1  # a page rerun does not ask again

    cluster.nodes = None
    assert ray_backend.cluster_gpus(max_age_s=0) is None

    monkeypatch.delenv(ray_backend.RAY_ADDRESS_ENV)
    assert ray_backend.cluster_gpus(max_age_s=0) is None  # no cluster configured


def test_on_a_cpu_only_cluster_a_run_asks_for_no_gpu_though_the_server_has_two(cluster, make_config):
    assert len(inventory.gpu_ids()) == 2
    run = scheduler.submit(make_config("anything"))

    assert run.status()["resources"] == {"gpus": 0, "lane": "training"}
    assert cluster.submitted[-1].gpus == 0 and run.status()["ray_job_id"].endswith("-fake")


def test_on_a_gpu_cluster_a_run_asks_for_one_and_more_than_a_node_has_is_refused(cluster, make_config):
    cluster.nodes = [_node(1.0), _node(1.0), CPU_NODE]
    assert scheduler.submit(make_config("anything")).status()["resources"]["gpus"] == 1

    with pytest.raises(ValueError, match="asks for 2 GPU.*largest node of the Ray cluster has 1"):
        scheduler.submit(make_config("anything"), gpus=2)


def test_an_unreadable_cluster_defaults_to_cpu_and_takes_an_explicit_request_unchecked(cluster, make_config):
    cluster.nodes = None
    assert scheduler.submit(make_config("anything")).status()["resources"]["gpus"] == 0
    assert scheduler.submit(make_config("anything"), gpus=3).status()["resources"]["gpus"] == 3
