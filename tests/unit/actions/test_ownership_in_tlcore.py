"""Ownership holds in tlcore itself, not only on pages (issue 31, item 5): tlcore is called directly as another
member, the way a forged request or a script would."""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest

from tlcore import actions, evaluation
from tlcore.access import MEMBER, NotAllowed, User
from tlcore.config import TrainConfig
from tlcore.datasets import load_settings
from tlcore.runs import create_run
from tlcore.storage.uploads import record_dataset_owner

ALICE = User("alice@example.com", role=MEMBER)
BOB = User("bob@example.com", role=MEMBER)


def test_marking_ones_own_best_keeps_another_members_mark(studio_dirs):
    alices = create_run(TrainConfig(dataset="pets"), owner=ALICE.id)
    bobs = create_run(TrainConfig(dataset="pets"), owner=BOB.id)
    actions.mark_best(ALICE, alices)

    actions.mark_best(BOB, bobs)

    assert evaluation.is_best(alices) and evaluation.is_best(bobs)
    with pytest.raises(NotAllowed):
        actions.unmark_best(BOB, alices)


@pytest.fixture
def alices_upload(digits, studio_dirs):
    folder = studio_dirs.data_root / "alices-photos"
    for label in ("0", "1"):
        shutil.copytree(digits / label, folder / label)
    record_dataset_owner("alices-photos", ALICE.id)
    return "alices-photos"


def test_settings_of_an_upload_belong_to_its_uploader_not_the_first_saver(alices_upload):
    settings = load_settings(alices_upload)
    with pytest.raises(NotAllowed, match="belongs to alice"):
        actions.save_dataset_settings(BOB, alices_upload, replace(settings, augment=True))
    assert load_settings(alices_upload).version == 0
    saved = actions.save_dataset_settings(ALICE, alices_upload, replace(settings, augment=True))
    assert saved.version == 1


def test_cleaning_another_members_upload_is_refused_in_tlcore(alices_upload, studio_dirs):
    image = sorted((studio_dirs.data_root / alices_upload / "0").iterdir())[0].relative_to(
        studio_dirs.data_root / alices_upload)
    with pytest.raises(NotAllowed, match="belongs to alice"):
        actions.clean_image(BOB, alices_upload, "exclude", str(image))
    assert (studio_dirs.data_root / alices_upload / image).exists()
