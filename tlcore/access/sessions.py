"""Sessions a shared server can trust: a real cookie secret, identities that expire and can be revoked, verified
e-mails, sign-in behind a proxy, and the CLI's user from the operating system account.

- The cookie secret signs every session cookie: the example's placeholder, or anything shorter than 32 characters,
  would let anyone who read the example (or guessed) sign an admin session, so the app refuses to start with it.
- A session lasts as long as the provider's ID token (`exp`), or `TLSTUDIO_SESSION_HOURS` after sign-in when
  shorter. Sign out revokes the sign-in (`sub`/e-mail and its `iat`) server-side in `$TLSTUDIO_HOME/revoked.jsonl`,
  so a cookie copied before signing out no longer works.
- An e-mail the provider has not verified (`email_verified` not true) is no identity: anyone could register
  alice@example.com at a provider that does not check.
"""

from __future__ import annotations

import fcntl
import getpass
import json
import os
import time
from pathlib import Path
from typing import Any, Mapping

from tlcore.storage.paths import studio_home

__all__ = ["MIN_SECRET_LENGTH", "PLACEHOLDER_SECRETS", "BEHIND_PROXY", "SESSION_HOURS", "cookie_secret_problem",
           "claims_problem", "revoke", "behind_proxy", "os_account", "sign_in_id"]

MIN_SECRET_LENGTH = 32
PLACEHOLDER_SECRETS = frozenset({"replace-with-a-long-random-string", "changeme", "secret", "test-only"})
BEHIND_PROXY = "TLSTUDIO_BEHIND_PROXY"  # "1": requests come through a reverse proxy; sign-in is then required
SESSION_HOURS = "TLSTUDIO_SESSION_HOURS"  # a session ends this long after sign-in (or earlier, with the ID token)
_EXAMPLE = Path(__file__).resolve().parents[2] / ".streamlit" / "secrets.toml.example"


def cookie_secret_problem(secret: Any) -> str | None:
    """Why the [auth] cookie_secret must not be used, or None."""
    if not isinstance(secret, str) or not secret:
        return "Sign-in is configured without a cookie_secret in .streamlit/secrets.toml."
    if secret in PLACEHOLDER_SECRETS or secret in _example_values():
        return ("The cookie_secret in .streamlit/secrets.toml is the example's placeholder: anyone could sign a "
                "session with it. Replace it: python -c \"import secrets; print(secrets.token_urlsafe(48))\"")
    if len(secret) < MIN_SECRET_LENGTH:
        return (f"The cookie_secret in .streamlit/secrets.toml has {len(secret)} characters; it needs at least "
                f"{MIN_SECRET_LENGTH} random ones: python -c \"import secrets; print(secrets.token_urlsafe(48))\"")
    return None


def _example_values() -> set[str]:
    try:
        text = _EXAMPLE.read_text(encoding="utf-8")
    except OSError:
        return set()
    return {line.split("=", 1)[1].strip().strip('"') for line in text.splitlines()
            if line.strip().startswith("cookie_secret") and "=" in line}


def claims_problem(claims: Mapping[str, Any], now: float | None = None, environ: Mapping[str, str] | None = None
                   ) -> str | None:
    """Why this signed-in identity must not be used (unverified e-mail, expired, revoked), or None."""
    now = time.time() if now is None else now
    environ = os.environ if environ is None else environ
    if claims.get("email") and claims.get("email_verified") not in (True, "true", "True"):
        return f"The sign-in provider has not verified the e-mail {claims.get('email')}; sign in with a verified one."
    expires = _number(claims.get("exp"))
    if expires is not None and expires <= now:
        return "The sign-in has expired; sign in again."
    issued = _number(claims.get("iat"))
    hours = _number(environ.get(SESSION_HOURS))
    if hours and issued is not None and now - issued > hours * 3600:
        return f"Sessions last {hours:g} hours on this server; sign in again."
    if _signature(claims) in _revoked():
        return "This sign-in was signed out; sign in again."
    return None


def revoke(claims: Mapping[str, Any]) -> None:
    """Sign out server-side: this sign-in (its subject and issue time) is refused from now on, on every copy."""
    path = studio_home() / "revoked.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps({"sign_in": _signature(claims), "at": time.time()}) + "\n").encode()
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        os.write(descriptor, line)
    finally:
        os.close(descriptor)


def behind_proxy(headers: Mapping[str, str] | None, environ: Mapping[str, str] | None = None) -> bool:
    """True when requests come through a reverse proxy (X-Forwarded-For seen, or TLSTUDIO_BEHIND_PROXY=1): every
    visitor then arrives from loopback, so loopback no longer means "this machine's own user"."""
    environ = os.environ if environ is None else environ
    lowered = {str(key).lower() for key in (headers or {})}
    return environ.get(BEHIND_PROXY) == "1" or "x-forwarded-for" in lowered or "forwarded" in lowered


def os_account() -> str:
    """The operating system account running this process (the CLI's identity; tests replace this function)."""
    return getpass.getuser()


def sign_in_id(claims: Mapping[str, Any]) -> str:
    """What names one sign-in across browser sessions (reloads, tabs): the subject and the ID token's issue time."""
    return _signature(claims)


def _signature(claims: Mapping[str, Any]) -> str:
    who = str(claims.get("sub") or claims.get("email") or "")
    return f"{who}|{claims.get('iat', '')}"


def _revoked() -> set[str]:
    try:
        lines = (studio_home() / "revoked.jsonl").read_text(encoding="utf-8").split("\n")
    except OSError:
        return set()
    revoked = set()
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("sign_in"), str):
            revoked.add(entry["sign_in"])
    return revoked


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None
