"""Who the command line acts as: the operating system account running it, never a claim anyone can set."""

from __future__ import annotations

__all__ = ["cli_user"]


def cli_user():
    """The CLI acts as the operating system account running it, mapped to a user in roles.toml's [accounts]
    (no roles file: the local admin). Not an environment variable: anyone can set one."""
    from tlcore import access

    return access.cli_user(access.sessions.os_account())
