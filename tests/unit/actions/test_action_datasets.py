"""Two people saving one dataset's settings: the owner rule, and the version check that tells the second writer."""

from dataclasses import replace

import pytest

from tlcore import actions
from tlcore.access import ADMIN, MEMBER, NotAllowed, User
from tlcore.datasets import SettingsChanged, load_settings

ALICE = User("alice@example.com", role=MEMBER)
BOB = User("bob@example.com", role=MEMBER)
ADA = User("ada@example.com", role=ADMIN)


def test_first_saver_owns_and_others_are_refused(digits):
    settings = load_settings("sample-digits")
    saved = actions.save_dataset_settings(ALICE, "sample-digits", replace(settings, augment=True))
    assert (saved.owner, saved.version) == (ALICE.id, 1)
    with pytest.raises(NotAllowed, match="belongs to alice"):
        actions.save_dataset_settings(BOB, "sample-digits", replace(saved, augment=False))
    assert load_settings("sample-digits").augment is True


def test_a_stale_version_is_refused_not_overwritten(digits):
    opened_by_alice = load_settings("sample-digits")
    opened_by_admin = load_settings("sample-digits")
    actions.save_dataset_settings(ADA, "sample-digits", replace(opened_by_admin, augment=True))
    with pytest.raises(SettingsChanged, match="changed by ada@example.com"):
        actions.save_dataset_settings(ADA, "sample-digits", replace(opened_by_alice, augment=False))
    stored = load_settings("sample-digits")
    assert stored.augment is True and stored.version == 1
