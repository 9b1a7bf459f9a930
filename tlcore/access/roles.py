"""Which role a signed-in person has, read from a small TOML file the admin writes (by e-mail, domain or group).

The file is `$TLSTUDIO_HOME/roles.toml`, or the path in `TLSTUDIO_ROLES`:

    default = "viewer"            # anyone signed in but not listed below
    admin = ["alice@example.com"]
    member = ["@example.com", "group:ml-team"]   # a whole e-mail domain; a value of the groups claim
    viewer = ["guest@example.org"]

The most powerful matching role wins. A damaged file gives everyone the viewer role (never more) and says why.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from tlcore.access.users import ADMIN, MEMBER, ROLES, VIEWER, User
from tlcore.storage.paths import studio_home

__all__ = ["RoleRules", "BadRolesFile", "roles_path", "load_rules", "user_from_claims"]

GROUP_PREFIX = "group:"


class BadRolesFile(ValueError):
    """The roles file could not be read; the message says where and what is wrong."""


@dataclass(frozen=True)
class RoleRules:
    default: str = VIEWER
    members: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # role → e-mails, "@domain", "group:x"

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
        raise BadRolesFile(f"The roles file {path} cannot be read ({error}); everyone is a viewer until it is "
                           "fixed.") from error
    default = data.get("default", VIEWER)
    unknown = [key for key in data if key not in (*ROLES, "default")]
    if default not in ROLES or unknown:
        raise BadRolesFile(f"The roles file {path} names unknown roles {unknown or [default]}; the roles are "
                           f"{', '.join(ROLES)}.")
    members = {role: tuple(str(entry) for entry in _as_list(data.get(role, []))) for role in ROLES}
    return RoleRules(default=default, members=members)


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
