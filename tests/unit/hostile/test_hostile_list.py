"""The hostile-input list keeps issue 31's promise: at least 60 inputs, the issue's 26 among them, each fed to the app
by a test that exists (tests/hostile_inputs.py `FROM_THE_ISSUE`)."""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests"))
import hostile_inputs  # noqa: E402
from hostile_inputs import ALL_INPUTS, FROM_THE_ISSUE, INJECTIONS  # noqa: E402

_NOT_IN_A_LIST = {"RUNNING_WITHOUT_PROCESS", "LONG_ID", "disk full"}  # inputs kept as constants or made by a test


def test_the_list_holds_at_least_60_inputs():
    names = [item.name for item in ALL_INPUTS]
    assert len(set(names)) == len(names)  # each counted once
    assert len(names) + len(INJECTIONS) + len(_NOT_IN_A_LIST) >= 60


def test_the_issues_26_inputs_are_in_the_list_and_each_has_a_test():
    assert len(FROM_THE_ISSUE) == 26
    names = {item.name for item in ALL_INPUTS}
    for input_, (entry, test) in FROM_THE_ISSUE.items():
        index = re.fullmatch(r"INJECTIONS\[(\d)\]", entry)
        if index:
            assert int(index.group(1)) < len(INJECTIONS), input_
        elif entry in _NOT_IN_A_LIST:
            assert entry == "disk full" or hasattr(hostile_inputs, entry), input_
        else:
            assert entry in names, input_
        path, name = test.split("::")
        assert re.search(rf"^def {name}\(", (ROOT / path).read_text(), re.MULTILINE), (input_, test)
