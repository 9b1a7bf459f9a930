"""Which role a signed-in person has, read from a small TOML file the admin writes (by e-mail, domain or group).

The file is `$TLSTUDIO_HOME/roles.toml`, or the path in `TLSTUDIO_ROLES`:

    default = "viewer"            # anyone signed in but not listed below
    admin = ["alice@example.com"]
    member = ["@example.com", "group:ml-team"]   # a whole e-mail domain; a value of the groups claim
    viewer = ["guest@example.org"]

    [accounts]                    # operating system accounts → who they are (the CLI's identity)
    alice = "alice@example.com"

The most powerful matching role wins. A damaged file gives everyone the viewer role (never more) and says why.
"""

from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from tlcore.access.users import ADMIN, MEMBER, ROLES, VIEWER, User, local_admin
from tlcore.storage.paths import studio_home

__all__ = ["RoleRules", "BadRolesFile", "roles_path", "load_rules", "user_from_claims", "cli_user"]

_log = logging.getLogger(__name__)  # details for admins (the file's path), never shown on a page

GROUP_PREFIX = "group:"


class BadRolesFile(ValueError):
    """The roles file could not be read; the message says where and what is wrong."""


@dataclass(frozen=True)
class RoleRules:
    default: str = VIEWER
    members: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # role → e-mails, "@domain", "group:x"
    accounts: Mapping[str, str] = field(default_factory=dict)  # OS login name → user id (e-mail)

    def role_for(self, email: str, groups: tuple[str, ...] = ()) -> str:
        email = email.strip().lower()
        keys = {email, f"@{email.rpartition('@')[2]}" if "@" in email else ""} | {
            f"{GROUP_PREFIX}{group}".lower() for group in groups}
        for role in (ADMIN, MEMBER, VIEWER):  # most powerful first
            if keys & {entry.lower() for entry in self.members.get(role, ())}:
                return role
        return self.default


def roles_path() -> Path:
    return Path(os.environ.get("TLSTUDIO_ROLES", studio_home() / "roles.toml")).expanduser()


def load_rules(path: Path | None = None) -> RoleRules:
    """The rules in the roles file; no file: everyone signed in is a viewer until an admin is named.

    Raises:
        BadRolesFile: the file is not valid TOML or names an unknown role.
    """
    path = path or roles_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return RoleRules()
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        _log.warning("the roles file %s cannot be read: %s", path, error)
        reason = error if isinstance(error, tomllib.TOMLDecodeError) else type(error).__name__  # OSError: a path
        raise BadRolesFile(f"The roles file ({path.name}) cannot be read ({reason}); everyone is a viewer until the "
                           "server's admin fixes it (the server's log says where it is and why).") from error
    default = data.get("default", VIEWER)
    unknown = [key for key in data if key not in (*ROLES, "default", "accounts")]
    if default not in ROLES or unknown:
        _log.warning("the roles file %s names unknown roles %s", path, unknown or [default])
        raise BadRolesFile(f"The roles file ({path.name}) names unknown roles {unknown or [default]}; the roles are "
                           f"{', '.join(ROLES)}.")
    members = {role: tuple(str(entry) for entry in _as_list(data.get(role, []))) for role in ROLES}
    accounts = data.get("accounts", {})
    if not isinstance(accounts, dict) or not all(isinstance(value, str) for value in accounts.values()):
        _log.warning("the roles file %s has a bad [accounts] table", path)
        raise BadRolesFile(f"The roles file ({path.name}): [accounts] maps operating system accounts to e-mails, "
                           'e.g. alice = "alice@example.com".')
    return RoleRules(default=default, members=members, accounts=dict(accounts))


def cli_user(account: str) -> User:
    """The CLI's user: the operating system `account` as mapped in the roles file's [accounts].

    No roles file: one person on their own machine, the local admin (as the app without sign-in). With one, an
    account not mapped is `os:<account>` with the default role; a damaged file gives the viewer role. An environment
    variable is never trusted: anyone can set one.
    """
    try:
        rules = load_rules()
    except BadRolesFile:
        return User(id=f"os:{account}", name=account, role=VIEWER)
    if not roles_path().exists():
        return local_admin()
    email = rules.accounts.get(account)
    if email:
        return User(id=email, email=email, name=account, role=rules.role_for(email))
    return User(id=f"os:{account}", name=account, role=rules.default)


def user_from_claims(claims: Mapping[str, Any], rules: RoleRules | None = None) -> User:
    """The User for an OpenID Connect identity (st.user's claims): id = e-mail (else the subject), role by rules."""
    email = str(claims.get("email") or "")
    groups = tuple(str(group) for group in _as_list(claims.get("groups") or claims.get("roles") or []))
    try:
        rules = rules or load_rules()
    except BadRolesFile:
        rules = RoleRules()
    user_id = email or str(claims.get("sub") or "")
    if not user_id:
        raise ValueError("The sign-in provider sent neither an e-mail nor a subject; the user cannot be identified.")
    return User(id=user_id, email=email, name=str(claims.get("name") or email or user_id), groups=groups,
                role=rules.role_for(email, groups))


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]
