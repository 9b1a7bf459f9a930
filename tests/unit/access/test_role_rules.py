"""Roles from the roles file: by e-mail, whole domain or group claim, most powerful wins; bad files are safe."""

import pytest

from tlcore.access import ADMIN, MEMBER, VIEWER, BadRolesFile, load_rules, user_from_claims

ROLES = """
default = "viewer"
admin = ["Ada@Example.com"]
member = ["@example.com", "group:ml-team"]
"""


@pytest.fixture
def roles_file(tmp_path, monkeypatch):
    path = tmp_path / "roles.toml"
    path.write_text(ROLES)
    monkeypatch.setenv("TLSTUDIO_ROLES", str(path))
    return path


def test_roles_by_email_domain_and_group(roles_file):
    assert user_from_claims({"email": "ada@example.com", "sub": "1"}).role == ADMIN
    assert user_from_claims({"email": "bob@example.com"}).role == MEMBER
    assert user_from_claims({"email": "x@other.org", "groups": ["ml-team"]}).role == MEMBER
    assert user_from_claims({"email": "x@other.org"}).role == VIEWER


def test_user_id_is_the_email_else_the_subject(roles_file):
    assert user_from_claims({"email": "bob@example.com", "sub": "42"}).id == "bob@example.com"
    assert user_from_claims({"sub": "42"}).id == "42"


def test_no_roles_file_makes_everyone_a_viewer(studio_dirs):
    assert user_from_claims({"email": "ada@example.com"}).role == VIEWER


def test_a_damaged_roles_file_is_reported_and_grants_nothing(tmp_path, monkeypatch):
    path = tmp_path / "roles.toml"
    path.write_text('admin = ["a@b.c"]\nsuperuser = ["me@b.c"]\n')
    monkeypatch.setenv("TLSTUDIO_ROLES", str(path))
    with pytest.raises(BadRolesFile, match="unknown roles"):
        load_rules()
    assert user_from_claims({"email": "me@b.c"}).role == VIEWER
    path.write_text("admin = [")
    with pytest.raises(BadRolesFile, match="cannot be read"):
        load_rules()
