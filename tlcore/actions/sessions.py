"""Signing in and out, recorded once per browser session in the audit log."""

from __future__ import annotations

from tlcore.access import User, record

__all__ = ["signed_in", "signed_out"]


def signed_in(user: User) -> None:
    record(user, "sign_in", user.id, email=user.email, groups=list(user.groups))


def signed_out(user: User) -> None:
    record(user, "sign_out", user.id)
