"""tlcore.access.sessions and the CLI's identity: secrets, expiry, revocation, proxies, the operating system account."""

import pytest

from tlcore import access
from tlcore.cli import main
from tlcore.runs import create_run


def test_placeholder_and_short_cookie_secrets_are_refused():
    assert "placeholder" in access.cookie_secret_problem("replace-with-a-long-random-string")
    assert "at least 32" in access.cookie_secret_problem("x" * 31)
    assert access.cookie_secret_problem(None)
    assert access.cookie_secret_problem("k" * 48) is None


def test_claims_need_a_verified_email_and_expire():
    good = {"email": "a@example.com", "email_verified": True, "iat": 1000, "exp": 5000, "sub": "a"}
    assert access.claims_problem(good, now=2000) is None
    assert "not verified" in access.claims_problem({**good, "email_verified": False}, now=2000)
    assert "not verified" in access.claims_problem({k: v for k, v in good.items() if k != "email_verified"}, now=2000)
    assert "expired" in access.claims_problem(good, now=6000)
    long_lived = {**good, "exp": 10**10}
    assert "hours" in access.claims_problem(long_lived, now=1000 + 2 * 3600, environ={"TLSTUDIO_SESSION_HOURS": "1"})


def test_a_revoked_sign_in_is_refused_but_a_new_one_is_not():
    claims = {"email": "a@example.com", "email_verified": True, "iat": 1000, "sub": "a"}
    access.revoke(claims)
    assert "signed out" in access.claims_problem(claims, now=2000)
    assert access.claims_problem({**claims, "iat": 3000}, now=4000) is None


def test_behind_a_proxy_means_x_forwarded_for_or_the_setting():
    assert access.behind_proxy({"X-Forwarded-For": "10.0.0.1"}, environ={})
    assert access.behind_proxy({}, environ={"TLSTUDIO_BEHIND_PROXY": "1"})
    assert not access.behind_proxy({"Host": "127.0.0.1"}, environ={})


@pytest.fixture
def roles(tmp_path, monkeypatch):
    path = tmp_path / "roles.toml"
    path.write_text('member = ["@example.com"]\n[accounts]\nbob = "bob@example.com"\n')
    monkeypatch.setenv("TLSTUDIO_ROLES", str(path))


def test_the_cli_user_is_the_os_account_not_an_environment_variable(roles, monkeypatch, make_config, capsys):
    run = create_run(make_config("sample-digits"), owner="alice@example.com")
    monkeypatch.setenv("TLSTUDIO_USER", "alice@example.com")  # anyone can set this: it is ignored
    monkeypatch.setattr("tlcore.access.sessions.os_account", lambda: "bob")

    assert access.cli_user("bob").id == "bob@example.com"
    assert main(["cancel", run.id]) == 3 and "bob@example.com may not" in capsys.readouterr().err
    monkeypatch.setattr("tlcore.access.sessions.os_account", lambda: "mallory")
    assert access.cli_user("mallory").id == "os:mallory" and access.cli_user("mallory").role == "viewer"


def test_without_a_roles_file_the_cli_is_the_local_admin(tmp_path, monkeypatch):
    monkeypatch.setenv("TLSTUDIO_ROLES", str(tmp_path / "absent.toml"))
    assert access.cli_user("anyone").role == "admin"
