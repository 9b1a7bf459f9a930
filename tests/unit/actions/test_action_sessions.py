"""session_changed: one sign-in and one sign-out line per change of the session's person, nothing for a rerun."""

from tlcore import actions
from tlcore.access import MEMBER, User, read_log

ALICE = User("alice@example.com", email="alice@example.com", role=MEMBER)
BOB = User("bob@example.com", email="bob@example.com", role=MEMBER)


def _lines():
    return [(entry["user"], entry["action"]) for entry in reversed(read_log())]


def test_each_change_of_person_is_recorded_once():
    actions.session_changed(None, ALICE)
    actions.session_changed(ALICE, ALICE)  # a rerun
    actions.session_changed(ALICE, BOB)  # someone else signed in over her session
    actions.session_changed(BOB, None, how="sign-out button")
    assert _lines() == [(ALICE.id, "sign_in"), (ALICE.id, "sign_out"), (BOB.id, "sign_in"), (BOB.id, "sign_out")]
    assert read_log()[0]["how"] == "sign-out button"
