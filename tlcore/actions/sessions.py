"""Signing in and out, recorded once per browser session in the audit log, however the session's person changes.

A browser session learns who it belongs to on each rerun (st.user). `session_changed` compares that with the
person it belonged to on the previous rerun, so a sign-out is audited whether it came from the Sign out button, an
expired or removed identity cookie, or another person signing in over it; nothing is recorded twice.
"""

from __future__ import annotations

from tlcore.access import User, read_log, record

__all__ = ["signed_in", "signed_out", "session_changed"]

_RECENT = 5000  # entries searched for the same sign-in


def signed_in(user: User, sign_in: str | None = None) -> None:
    """Audit a sign-in once: `sign_in` names it (the provider's subject and issue time), so a page reload or a
    new tab of the same sign-in, each a new browser session, is not recorded again."""
    if sign_in and any(entry.get("action") == "sign_in" and entry.get("sign_in") == sign_in
                       for entry in read_log(limit=_RECENT, user_id=user.id)):
        return
    record(user, "sign_in", user.id, email=user.email, groups=list(user.groups),
           **({"sign_in": sign_in} if sign_in else {}))


def signed_out(user: User, how: str = "sign-out button") -> None:
    record(user, "sign_out", user.id, how=how)


def session_changed(previous: User | None, current: User | None, how: str = "session lost its sign-in",
                    sign_in: str | None = None) -> None:
    """Audit the change from `previous` (last rerun's person, or None) to `current` (this rerun's, or None).

    Args:
        how: why the previous person is gone, recorded with their sign-out (the button says so itself).
    """
    same = previous is not None and current is not None and previous.id == current.id
    if previous is not None and not same:
        signed_out(previous, how=how)
    if current is not None and not same:
        signed_in(current, sign_in)
