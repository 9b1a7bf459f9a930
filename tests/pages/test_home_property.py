"""Property (issue 31, item 1): whatever JSON lands in a run's status.json or config.json, Home renders its table
and shows the folder as damaged when it is; no exception reaches the page."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from page_helpers import make_run

from tlcore.config.training import _FIELD_RULES
from tlcore.runs.records import STATUS_RULES

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) |
                           st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)
status_values = json_values | st.dictionaries(st.sampled_from(list(STATUS_RULES)), json_values, max_size=6)
config_values = json_values | st.dictionaries(st.sampled_from(list(_FIELD_RULES)), json_values, max_size=6)


# Several runs' files per example, one Home render for all of them: as many file contents as twelve one-run examples
# went through Home before, with a third of the renders (each is an AppTest run of the page, seconds on a busy core).
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(files=st.lists(st.tuples(status_values, config_values), min_size=2, max_size=4))
def test_home_lists_runs_whatever_their_files_hold(open_page, files):
    runs = []
    for status, config in files:
        run = make_run(state="finished")
        (run.path / "status.json").write_text(json.dumps(status))
        (run.path / "config.json").write_text(json.dumps(config))
        runs.append(run)

    at = open_page("pages/home.py")  # asserts no exception

    table = at.dataframe[0].value
    assert {run.id for run in runs} <= set(table["run"])
