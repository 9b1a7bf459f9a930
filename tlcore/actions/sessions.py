"""Signing in and out, recorded once per browser session in the audit log, however the session's person changes.

A browser session learns who it belongs to on each rerun (st.user). `session_changed` compares that with the
person it belonged to on the previous rerun, so a sign-out is audited whether it came from the Sign out button, an
expired or removed identity cookie, or another person signing in over it; nothing is recorded twice.
"""

from __future__ import annotations

from tlcore.access import User, record

__all__ = ["signed_in", "signed_out", "session_changed"]


def signed_in(user: User) -> None:
    record(user, "sign_in", user.id, email=user.email, groups=list(user.groups))


def signed_out(user: User, how: str = "sign-out button") -> None:
    record(user, "sign_out", user.id, how=how)


def session_changed(previous: User | None, current: User | None, how: str = "session lost its sign-in") -> None:
    """Audit the change from `previous` (last rerun's person, or None) to `current` (this rerun's, or None).

    Args:
        how: why the previous person is gone, recorded with their sign-out (the button says so itself).
    """
    same = previous is not None and current is not None and previous.id == current.id
    if previous is not None and not same:
        signed_out(previous, how=how)
    if current is not None and not same:
        signed_in(current)
