"""`python -m tlcore cancel RUN` / `delete RUN`: the owner rule holds in the CLI too, and a delete can be undone."""

import pytest

from tlcore.cli import main
from tlcore.runs import create_run, list_runs
from tlcore.storage import list_trash


@pytest.fixture
def roles(tmp_path, monkeypatch):
    path = tmp_path / "roles.toml"
    path.write_text('member = ["@example.com"]\nadmin = ["carol@example.com"]\n[accounts]\n'
                    'alice = "alice@example.com"\nbob = "bob@example.com"\ncarol = "carol@example.com"\n')
    monkeypatch.setenv("TLSTUDIO_ROLES", str(path))
    act_as(monkeypatch, "carol")  # the admin, unless a test says otherwise


def act_as(monkeypatch, account: str) -> None:
    """The CLI's user is the operating system account (tlcore.access.sessions.os_account), mapped in roles.toml."""
    monkeypatch.setattr("tlcore.access.sessions.os_account", lambda: account)


def test_delete_refuses_another_member_then_the_owner_deletes_and_restores(make_config, roles, monkeypatch, capsys):
    run = create_run(make_config("sample-digits"), owner="alice@example.com")
    run.update_status(state="finished")
    act_as(monkeypatch, "bob")
    assert main(["delete", run.id, "--yes"]) == 3
    assert "belongs to alice@example.com" in capsys.readouterr().err and run.path.exists()
    act_as(monkeypatch, "alice")
    assert main(["delete", run.id, "--yes"]) == 0
    assert list_runs() == [] and len(list_trash()) == 1
    assert main(["delete", "--restore", list_trash()[0].id]) == 0
    assert [found.id for found in list_runs()] == [run.id]


def test_cancel_is_for_the_owner_and_unknown_runs_are_a_usage_error(make_config, roles, monkeypatch, capsys):
    run = create_run(make_config("sample-digits"), owner="alice@example.com")
    act_as(monkeypatch, "bob")
    assert main(["cancel", run.id]) == 3 and not run.cancel_path.exists()
    act_as(monkeypatch, "carol")  # the local admin
    assert main(["cancel", run.id]) == 0 and run.cancel_path.exists()
    assert main(["cancel", "no-such-run"]) == 2
    assert "No run or task 'no-such-run'" in capsys.readouterr().err


def test_delete_without_yes_off_a_terminal_asks_for_it(make_config, capsys):
    run = create_run(make_config("sample-digits"))
    run.update_status(state="finished")
    assert main(["delete", run.id]) == 2 and run.path.exists()
    assert "--yes" in capsys.readouterr().err


def test_delete_lists_and_deletes_an_upload_by_kind(roles, monkeypatch, capsys):
    from tlcore.inference import store_zip

    path = store_zip(b"zip bytes", owner="alice@example.com")
    act_as(monkeypatch, "bob")
    assert main(["delete", "--list"]) == 0 and path.name not in capsys.readouterr().out
    assert main(["delete", "--kind", "upload", path.name, "--yes"]) == 3 and path.exists()
    act_as(monkeypatch, "alice")
    assert main(["delete", "--list"]) == 0 and f"upload   {path.name}" in capsys.readouterr().out
    assert main(["delete", "--kind", "upload", path.name, "--yes"]) == 0 and not path.exists()
    assert f"the upload {path.name} moved to the trash" in capsys.readouterr().out
    assert main(["delete", "--restore", list_trash()[0].id]) == 0 and path.exists()


def test_emptying_the_trash_is_for_admins_and_needs_yes_off_a_terminal(make_config, roles, monkeypatch, capsys):
    run = create_run(make_config("sample-digits"))
    run.update_status(state="finished")
    assert main(["delete", run.id, "--yes"]) == 0 and len(list_trash()) == 1
    assert main(["delete", "--empty-trash"]) == 2 and len(list_trash()) == 1  # stdin is not a terminal
    act_as(monkeypatch, "alice")  # a member
    assert main(["delete", "--empty-trash", "--yes"]) == 3 and len(list_trash()) == 1
    act_as(monkeypatch, "carol")  # the local admin
    assert main(["delete", "--empty-trash", "--yes"]) == 0 and list_trash() == []
    assert "trash emptied" in capsys.readouterr().out


def test_delete_list_names_an_upload_by_its_uploaders_file_name(capsys):
    from tlcore.inference import store_upload

    path = store_upload(b"model bytes", owner="local", shown_name="my-classifier.keras")
    assert main(["delete", "--list"]) == 0
    line = [line for line in capsys.readouterr().out.splitlines() if path.name in line]
    assert line and line[0].startswith(f"upload   {path.name}") and "my-classifier.keras (uploaded model" in line[0]
