"""The audit log from the command line: its hash chain checked, or its newest entries (admins)."""

from __future__ import annotations

import json

from tlcore import access
from tlcore.cli.account import cli_user

__all__ = ["add_audit_parser", "audit"]


def add_audit_parser(sub) -> None:
    audit = sub.add_parser("audit", help="the audit log: verify its hash chain, or print the newest entries (admins)")
    audit.add_argument("--verify", action="store_true", help="check that no line was changed, removed or inserted")
    audit.add_argument("--last", type=int, default=20, help="entries to print (default 20)")


def audit(args) -> int:
    access.require(cli_user(), "audit")
    if args.verify:
        check = access.verify_chain()
        print(check.message)
        return 0 if check.ok else 1
    for entry in access.read_log(limit=args.last):
        print(json.dumps(entry, ensure_ascii=False))
    return 0
