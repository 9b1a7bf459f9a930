"""Who is using the app: one signed-in person (or the single local user when sign-in is not configured)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

__all__ = ["ADMIN", "MEMBER", "VIEWER", "ROLES", "LOCAL_USER_ID", "User", "local_admin"]

ADMIN, MEMBER, VIEWER = "admin", "member", "viewer"
ROLES = (ADMIN, MEMBER, VIEWER)
LOCAL_USER_ID = "local"  # the same id tlcore.runs.folders.LOCAL_USER records as the owner of what was made unsigned


@dataclass(frozen=True)
class User:
    """A person as the app knows them; `id` is what run folders record as their owner (the e-mail when signed in)."""

    id: str
    email: str = ""
    name: str = ""
    groups: tuple[str, ...] = field(default_factory=tuple)
    role: str = VIEWER

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"Unknown role '{self.role}'; roles are {', '.join(ROLES)}.")

    def to_dict(self) -> dict:
        return {**asdict(self), "groups": list(self.groups)}

    @classmethod
    def from_dict(cls, data: dict) -> "User":
        return cls(id=str(data["id"]), email=str(data.get("email", "")), name=str(data.get("name", "")),
                   groups=tuple(data.get("groups", ())), role=str(data.get("role", VIEWER)))


def local_admin() -> User:
    """With no sign-in configured the app is one person's, on their own machine: they may do everything."""
    return User(id=LOCAL_USER_ID, name="local user", role=ADMIN)
