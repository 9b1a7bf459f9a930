"""Messages on the pages name settings and say what to do, never a server path or an environment variable (issue 24,
item 8): the pages are walked in their failure states (ImageNet weights missing on an offline server, a dataset
folder missing or outside the data root, a run that is missing or unreadable, a job quota reached) and nothing shown
holds this server's folders, `~/.keras`, `KERAS_HOME` or a `TLSTUDIO_*` name. Admins find the details in the log."""

from __future__ import annotations

import re

import pytest
from page_helpers import by_label, make_run

ENV_NAMES = re.compile(r"TLSTUDIO_[A-Z_]+|KERAS_HOME|~/\.keras|~/\.tlstudio")
_WIDGET_ID = re.compile(r"^\s*(?:id|form_id): .*$", re.MULTILINE)  # a widget's key, never shown


def shown_text(at) -> str:
    """Everything the page draws (text, alerts, labels, help, options, tables), as protobuf text without widget ids."""
    parts: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and not _is_code(node):
            parts.append(_WIDGET_ID.sub("", str(proto)))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(parts)


def _is_code(node) -> bool:
    """Generated code (st.code: the run's training script) points at the data where it lives on purpose, and says
    to change it; it is a program to copy, not a message."""
    return type(node).__name__ == "Code"


def leaks(at, studio) -> list[str]:
    """The server folders and environment-variable names the page shows."""
    text = shown_text(at)
    folders = {str(studio.home), str(studio.data_root), str(studio.runs_dir), str(studio.keras_home),
               str(studio.keras_models)}
    found = [folder for folder in folders if folder in text]
    found += sorted(set(ENV_NAMES.findall(text)))
    return found


@pytest.fixture
def broken_run(studio):
    """A run whose status file is damaged (half-written by a full disk long ago)."""
    run = make_run(state="finished", class_names=["a", "b"], model=b"not a model")
    (run.path / "status.json").write_text("{ half a status")
    return run


@pytest.mark.parametrize("page", ["pages/predict.py", "pages/evaluate.py", "pages/demo.py", "pages/finetune.py",
                                  "pages/train.py"])
def test_a_missing_or_unreadable_run_is_named_without_server_folders(open_page, studio, broken_run, page):
    for run_id in ("2020-01-01_000000_missing", broken_run.id):
        at = open_page(page, query_params={"run": run_id})

        assert leaks(at, studio) == [], (page, run_id)


def test_missing_imagenet_weights_on_an_offline_server_name_the_upload_not_the_folder(open_page, studio):
    for page in ("pages/train.py", "pages/backbones.py"):
        at = open_page(page, timeout=120)

        assert leaks(at, studio) == [], page


def test_dataset_folders_missing_or_outside_the_data_root_are_named_without_server_folders(open_page, studio):
    at = open_page("pages/dataset.py")
    by_label(at.radio, "Source").set_value("Folder on this server").run()
    assert leaks(at, studio) == []

    for typed in ("no-such-folder", "/etc", "../outside"):
        by_label(at.text_input, "Folder (under the data root)").set_value(typed).run()

        assert at.error or at.warning or at.info, typed
        assert leaks(at, studio) == [], typed


def test_a_damaged_roles_file_is_reported_without_its_server_path(studio):
    """The message every signed-in page shows for a damaged roles file (pages.shared.auth.current_user, which AppTest
    cannot reach signed in): the file's name and what happens meanwhile, not the folder it is in."""
    from tlcore.access import BadRolesFile, load_rules

    (studio.home / "roles.toml").write_text("admin = [unclosed")

    with pytest.raises(BadRolesFile) as damaged:
        load_rules()

    message = str(damaged.value)
    assert "roles file (roles.toml)" in message and "viewer" in message
    assert str(studio.home) not in message and not ENV_NAMES.search(message)


def test_a_reached_quota_names_the_setting_not_the_variable(monkeypatch):
    from tlcore.access import User
    from tlcore.access.quotas import QuotaExceeded, check_quota
    from tlcore.access.users import MEMBER

    monkeypatch.setenv("TLSTUDIO_QUOTA_JOBS", "1")
    monkeypatch.setenv("TLSTUDIO_QUOTA_DISK_GB", "0.001")
    member = User("ana@example.org", role=MEMBER)
    for active_jobs, used_bytes in ((1, 0), (0, 10**7)):
        with pytest.raises(QuotaExceeded) as refused:
            check_quota(member, active_jobs, used_bytes)

        assert "quota the server's admin set" in str(refused.value)
        assert not ENV_NAMES.search(str(refused.value))
