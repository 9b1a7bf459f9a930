"""Who may do what on a shared server: users and roles, the policy, the audit log and per-user quotas."""

from tlcore.access.audit import ChainCheck, audit_path, read_log, record, verify_chain
from tlcore.access.policy import ACTIONS, NotAllowed, can, require
from tlcore.access.quotas import QuotaExceeded, Quotas, check_quota, current_quotas
from tlcore.access.roles import BadRolesFile, RoleRules, cli_user, load_rules, roles_path, user_from_claims
from tlcore.access.sessions import behind_proxy, claims_problem, cookie_secret_problem, os_account, revoke, sign_in_id
from tlcore.access.users import ADMIN, LOCAL_USER_ID, MEMBER, ROLES, VIEWER, User, local_admin

__all__ = [
    "audit_path", "read_log", "record", "ChainCheck", "verify_chain",
    "ACTIONS", "NotAllowed", "can", "require",
    "QuotaExceeded", "Quotas", "check_quota", "current_quotas",
    "BadRolesFile", "RoleRules", "load_rules", "roles_path", "user_from_claims", "cli_user",
    "behind_proxy", "claims_problem", "cookie_secret_problem", "os_account", "revoke", "sign_in_id",
    "ADMIN", "LOCAL_USER_ID", "MEMBER", "ROLES", "VIEWER", "User", "local_admin",
]
