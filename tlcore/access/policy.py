"""Who may do what: one table of actions and the roles allowed, plus the owner rule.

Members act on their own things and read everyone's; admins act on anything; viewers browse results and predict.
tlcore.actions calls `require` before every change, so a forged request from a page or the CLI is refused too.
"""

from __future__ import annotations

from tlcore.access.users import ADMIN, MEMBER, VIEWER, User

__all__ = ["ACTIONS", "OWNED_ACTIONS", "NotAllowed", "can", "require"]

# action → roles that may do it at all
ACTIONS: dict[str, tuple[str, ...]] = {
    "view": (ADMIN, MEMBER, VIEWER),
    "predict": (ADMIN, MEMBER, VIEWER),
    "start": (ADMIN, MEMBER),            # a training run or a background task
    "cancel": (ADMIN, MEMBER),
    "resume": (ADMIN, MEMBER),
    "delete": (ADMIN, MEMBER),
    "restore": (ADMIN, MEMBER),
    "export": (ADMIN, MEMBER),
    "mark_best": (ADMIN, MEMBER),
    "dataset_settings": (ADMIN, MEMBER),
    "upload": (ADMIN, MEMBER),
    "install_weights": (ADMIN,),         # every run trains from them: one admin decision, not anyone's
    "empty_trash": (ADMIN,),
    "prune_caches": (ADMIN,),
    "audit": (ADMIN,),
}
# actions on something that has an owner: only its owner (or an admin) may do them
OWNED_ACTIONS = frozenset({"cancel", "resume", "delete", "restore", "export", "mark_best", "dataset_settings"})

_VERBS = {"dataset_settings": "change the stored split or augmentation of", "mark_best": "mark as best",
          "install_weights": "install weights", "empty_trash": "empty the trash", "prune_caches": "prune caches",
          "audit": "read the audit log"}


class NotAllowed(PermissionError):
    """The signed-in user may not do this; the message says who may."""


def can(user: User, action: str, owner: str | None = None) -> bool:
    """True when `user` may do `action` (on something owned by `owner`, for owned actions)."""
    if action not in ACTIONS:
        raise KeyError(f"Unknown action '{action}'.")
    if user.role not in ACTIONS[action]:
        return False
    if action in OWNED_ACTIONS and user.role != ADMIN:
        return owner is not None and owner == user.id
    return True


def require(user: User, action: str, owner: str | None = None, what: str = "") -> None:
    """Raise NotAllowed unless `can(user, action, owner)`.

    Raises:
        NotAllowed: with a message naming the action, the item, its owner and who may do it.
    """
    if can(user, action, owner):
        return
    from tlcore.access.audit import record  # a refusal is recorded too: who tried what on whose thing

    try:
        record(user, "refused", what, attempted=action, owner=owner)
    except OSError:  # a full disk must not turn a refusal into a crash
        pass
    verb = _VERBS.get(action, action)
    target = f" {what}" if what else ""
    if user.role not in ACTIONS[action]:
        allowed = " or ".join(ACTIONS[action])
        raise NotAllowed(f"{user.id} ({user.role}) may not {verb}{target}: only a user with the role {allowed} may.")
    raise NotAllowed(f"{user.id} may not {verb}{target}: it belongs to {owner or 'nobody known'}; only its owner "
                     "or an admin may.")
