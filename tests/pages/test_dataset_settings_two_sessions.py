"""Two people on the same dataset's stored settings (issue 12, item 9): the second to save a stale copy is told on
the page that someone else changed them and nothing is overwritten; a member who does not own them cannot change
them; "Load their settings" shows the stored ones again."""

from __future__ import annotations

from page_helpers import by_label

from tlcore.access import MEMBER, User
from tlcore.datasets import load_settings

ALICE = User("alice@example.com", email="alice@example.com", name="Alice", role=MEMBER)
BOB = User("bob@example.com", email="bob@example.com", name="Bob", role=MEMBER)
DATASET = "sample-digits"


def _errors(at) -> list[str]:
    """The error texts as a person reads them: names are escaped for Markdown (pages/shared/user_text.py)."""
    return [error.value.replace("\\", "") for error in at.error]


def test_a_stale_save_is_refused_on_the_page_and_nothing_is_overwritten(open_page):
    first = open_page("pages/dataset.py", user=ALICE)  # both sessions open version 0
    second = open_page("pages/dataset.py", user=ALICE)  # Alice again, in another tab
    by_label(first.slider, "Validation share").set_value(0.3).run()
    stored = load_settings(DATASET)
    assert (stored.split.val_fraction, stored.version, stored.owner) == (0.3, 1, ALICE.id)

    by_label(second.slider, "Test share").set_value(0.1).run()  # still the copy of version 0
    assert any("changed by alice@example.com after you opened them" in text and "nothing was saved" in text
               for text in _errors(second)), _errors(second)
    assert load_settings(DATASET) == stored and load_settings(DATASET).version == 1  # not overwritten

    by_label(second.button, "Load their settings").click().run()
    assert by_label(second.slider, "Validation share").value == 0.3  # the stored ones, shown again
    assert by_label(second.slider, "Test share").value == stored.split.test_fraction
    assert not _errors(second)
    by_label(second.slider, "Test share").set_value(0.1).run()  # now from version 1: saved
    assert (load_settings(DATASET).split.val_fraction, load_settings(DATASET).split.test_fraction,
            load_settings(DATASET).version) == (0.3, 0.1, 2)


def test_a_member_who_does_not_own_the_settings_cannot_change_them(open_page):
    alice = open_page("pages/dataset.py", user=ALICE)
    by_label(alice.slider, "Validation share").set_value(0.3).run()
    stored = load_settings(DATASET)

    bob = open_page("pages/dataset.py", user=BOB)  # opens the current version: only the owner rule stops him
    by_label(bob.slider, "Validation share").set_value(0.1).run()
    assert any("bob@example.com may not change the stored split or augmentation of the dataset" in text
               and "belongs to alice@example.com" in text for text in _errors(bob)), _errors(bob)
    assert load_settings(DATASET) == stored and load_settings(DATASET).version == stored.version


def test_coming_back_from_another_page_starts_from_the_stored_version(open_page):
    first = open_page("pages/dataset.py", user=ALICE)
    second = open_page("pages/dataset.py", user=ALICE)
    by_label(first.slider, "Validation share").set_value(0.3).run()
    second.switch_page("pages/home.py").run()  # the settings widgets are gone from this session
    second.switch_page("pages/dataset.py").run()
    assert by_label(second.slider, "Validation share").value == 0.3  # drawn from what is stored now
    by_label(second.slider, "Test share").set_value(0.1).run()
    assert not _errors(second)
    assert (load_settings(DATASET).split.val_fraction, load_settings(DATASET).split.test_fraction) == (0.3, 0.1)
