"""The policy table: members act on their own things, admins on anything, viewers browse and predict."""

import pytest

from tlcore.access import ADMIN, MEMBER, VIEWER, NotAllowed, User, can, local_admin, require

ALICE = User("alice@example.com", role=MEMBER)
BOB = User("bob@example.com", role=MEMBER)
ADA = User("ada@example.com", role=ADMIN)
VERA = User("vera@example.com", role=VIEWER)


@pytest.mark.parametrize("action", ["cancel", "resume", "delete", "export", "mark_best", "dataset_settings"])
def test_only_the_owner_or_an_admin_acts_on_owned_things(action):
    assert can(ALICE, action, ALICE.id)
    assert not can(BOB, action, ALICE.id)
    assert can(ADA, action, ALICE.id)
    assert not can(VERA, action, VERA.id)
    with pytest.raises(NotAllowed, match="belongs to alice@example.com"):
        require(BOB, action, ALICE.id, what="run-1")


def test_viewers_browse_and_predict_but_start_nothing():
    assert can(VERA, "view") and can(VERA, "predict")
    with pytest.raises(NotAllowed, match=r"viewer\) may not start"):
        require(VERA, "start")


def test_weights_trash_and_audit_are_admin_decisions():
    for action in ("install_weights", "empty_trash", "prune_caches", "audit"):
        assert can(ADA, action) and not can(ALICE, action)


def test_an_unknown_owner_is_nobody_but_admins():
    assert not can(ALICE, "cancel", None) and can(ADA, "cancel", None)


def test_the_local_user_without_sign_in_is_admin():
    assert local_admin().role == ADMIN and local_admin().id == "local"
