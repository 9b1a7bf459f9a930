"""Who is using this browser session: the signed-in person (Streamlit's OpenID Connect, st.user), or, when sign-in
is not configured, the single local user, who is admin (the app on one's own machine behaves as it always did).

Page tests cannot sign in through a provider, so a test may put a user in session state under TEST_USER_KEY; no
widget has that key, so a browser cannot set it.
"""

from __future__ import annotations

import logging

import streamlit as st

from tlcore import actions
from tlcore.access import (
    LOCAL_USER_ID,
    BadRolesFile,
    NotAllowed,
    RoleRules,
    User,
    behind_proxy,
    can,
    claims_problem,
    cookie_secret_problem,
    load_rules,
    local_admin,
    revoke,
    sign_in_id,
    user_from_claims,
)
from pages.shared.user_text import escape_markdown

TEST_USER_KEY = "_tlstudio_test_user"  # tests only: a User.to_dict() standing in for a signed-in person
_SESSION_USER_KEY = "_tlstudio_session_user"  # who this session belonged to on the last rerun (for the audit log)
_AUTH_SETTINGS = {"redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url",
                  "client_kwargs", "expose_tokens"}

__all__ = ["TEST_USER_KEY", "sign_in_configured", "providers", "current_user", "allowed", "sign_in_screen",
           "user_badge", "refusal", "start_task_id"]

_log = logging.getLogger(__name__)  # details for admins (settings, server folders), never shown on a page


def sign_in_configured() -> bool:
    """True when .streamlit/secrets.toml has an [auth] section (st.login then works)."""
    return bool(st.secrets.load_if_toml_exists() and "auth" in st.secrets)


def providers() -> list[str | None]:
    """The [auth.<name>] providers in secrets.toml; [None] when [auth] itself holds one provider's settings."""
    section = st.secrets.get("auth", {})
    named = [key for key, value in section.items() if key not in _AUTH_SETTINGS and hasattr(value, "keys")]
    return named or [None]


def current_user(report_problems: bool = False) -> User | None:
    """The User of this session; None only when sign-in is configured and nobody has signed in yet.

    `report_problems` (app.py, once per rerun): show a damaged roles file on the page.
    """
    override = st.session_state.get(TEST_USER_KEY)
    if override:
        return User.from_dict(override)
    if not sign_in_configured():
        if behind_proxy(st.context.headers):  # every visitor comes from loopback: none is this machine's owner
            _log.warning("behind a reverse proxy (X-Forwarded-For, or TLSTUDIO_BEHIND_PROXY=1) without sign-in: "
                         "configure [auth] in .streamlit/secrets.toml (docs/shared-server.md)")
            _refuse("TL Studio is behind a reverse proxy without sign-in, so every visitor would be the local admin. "
                    "The server's admin must configure sign-in (the server's log says how).")
        return local_admin()
    problem = cookie_secret_problem(st.secrets.get("auth", {}).get("cookie_secret"))
    if problem:  # sessions signed with a known or short secret could be forged: serve nothing
        _refuse(problem)
    if not st.user.is_logged_in:
        _remember(None)  # signed in on the last rerun and not now (cookie expired or removed): audited once
        return None
    claims = st.user.to_dict()
    problem = claims_problem(claims)
    if problem:  # unverified e-mail, expired, or signed out elsewhere (a copied cookie): not this person any more
        _remember(None, how=problem)
        st.warning(problem, icon=":material/lock_clock:")
        return None
    try:
        rules = load_rules()
    except BadRolesFile as error:  # said on every page until fixed; meanwhile everyone is a viewer
        if report_problems:
            st.warning(escape_markdown(str(error)), icon=":material/warning:")
        rules = RoleRules()
    user = user_from_claims(claims, rules)
    _remember(user, sign_in=sign_in_id(claims) if claims.get("iat") else None)
    return user


def _refuse(message: str) -> None:
    st.error(message, icon=":material/lock_open:")
    st.stop()


def _remember(user: User | None, how: str = "session lost its sign-in", sign_in: str | None = None) -> None:
    """Audit a sign-in or sign-out when this session's person changed since its last rerun, then remember them."""
    stored = st.session_state.get(_SESSION_USER_KEY)
    previous = User.from_dict(stored) if stored else None
    if (previous.id if previous else None) != (user.id if user else None):
        actions.session_changed(previous, user, how=how, sign_in=sign_in)
    if user is None:
        st.session_state.pop(_SESSION_USER_KEY, None)
    else:
        st.session_state[_SESSION_USER_KEY] = user.to_dict()


def allowed(action: str, owner: str | None = None) -> bool:
    """Whether the current user may do `action` (on something of `owner`): pages hide the control when not."""
    user = current_user()
    return user is not None and can(user, action, owner)


def sign_in_screen() -> None:
    """The one thing a visitor sees before signing in: a button per configured provider."""
    st.title("TL Studio")
    st.markdown("Sign in to use TL Studio on this server.")
    for provider in providers():
        label = f"Sign in with {provider}" if provider else "Sign in"
        if st.button(label, key=f"sign_in_{provider or 'default'}", icon=":material/login:"):
            st.login(provider) if provider else st.login()


def user_badge(user: User) -> None:
    """Name and role in the sidebar, with Sign out when signed in through a provider."""
    if user.id == LOCAL_USER_ID:
        return  # one person on their own machine: nothing to show, as before sign-in existed
    with st.sidebar:
        st.caption(f"Signed in as **{escape_markdown(user.name or user.id)}** ({user.role})")
        if sign_in_configured() and not st.session_state.get(TEST_USER_KEY) and st.button("Sign out", key="sign_out"):
            actions.session_changed(user, None, how="sign-out button")
            revoke(st.user.to_dict())  # server-side: a copy of this session's cookie is refused from now on
            st.session_state.pop(_SESSION_USER_KEY, None)  # recorded: the next rerun finds nobody to sign out
            st.logout()
            st.stop()  # nothing more is drawn for a person who just signed out


def refusal(error: Exception) -> None:
    """A refused action (NotAllowed, QuotaExceeded, a stale setting) as a message on the page, never a traceback."""
    icon = ":material/block:" if isinstance(error, NotAllowed) else ":material/error:"
    st.error(escape_markdown(str(error)), icon=icon)


def start_task_id(kind: str, params: dict) -> str | None:
    """Queue a background task as the current user (owner recorded, audited); its id, or None after showing why
    it was refused (role, someone else's run, a quota)."""
    try:
        return actions.start_task(current_user(), kind, params).id
    except PermissionError as error:  # NotAllowed, QuotaExceeded
        refusal(error)
        return None
