"""tlcore.jobs.fair_share: round-robin across owners, FIFO within one owner, running jobs count as rounds taken."""

from tlcore.jobs.fair_share import Waiting, fair_order


def _keys(order):
    return [job.key for job in order]


def test_a_sweep_does_not_starve_another_owners_single_run():
    sweep = [Waiting(f"a{index}", "ann", float(index)) for index in range(4)]
    single = Waiting("b0", "bob", 10.0)  # submitted after the whole sweep

    assert _keys(fair_order([*sweep, single])) == ["a0", "b0", "a1", "a2", "a3"]


def test_within_one_owner_first_come_first_served_and_ties_by_queue_time():
    jobs = [Waiting("late", "ann", 5.0), Waiting("early", "ann", 1.0), Waiting("bob", "bob", 3.0)]

    assert _keys(fair_order(jobs)) == ["early", "bob", "late"]


def test_an_owner_with_jobs_running_waits_behind_one_without():
    jobs = [Waiting("a-next", "ann", 1.0), Waiting("b-first", "bob", 2.0)]

    assert _keys(fair_order(jobs, {"ann": 2})) == ["b-first", "a-next"]
    assert _keys(fair_order(jobs, {})) == ["a-next", "b-first"]


def test_in_a_round_the_owner_served_longest_ago_goes_first():
    """Ann's first run just ended: her next waits behind Bob's, though it was queued earlier (round-robin)."""
    jobs = [Waiting("a1", "ann", 1.0), Waiting("b0", "bob", 2.0)]

    assert _keys(fair_order(jobs, {}, {"ann": 50.0})) == ["b0", "a1"]
    assert _keys(fair_order(jobs, {}, {"ann": 50.0, "bob": 60.0})) == ["a1", "b0"]
