"""Delete, the trash and restore from the command line, as the user of a shared server (tlcore.actions checks role
and owner, and audits)."""

from __future__ import annotations

import sys

from tlcore import actions, storage
from tlcore.access import NotAllowed
from tlcore.cli.account import cli_user

__all__ = ["add_delete_parser", "delete"]


def add_delete_parser(sub) -> None:
    delete = sub.add_parser("delete", help="move a run, task, export, upload, custom backbone or dataset to the trash "
                                           "(restorable until emptied)")
    delete.add_argument("run", nargs="?", help="what to delete: a run or task id, or the name --list shows")
    delete.add_argument("--kind", choices=list(actions.DELETABLE_KINDS), default="run",
                        help="run (also a task; the default), export (a run's exports, by run id), upload, backbone "
                             "or dataset")
    delete.add_argument("--list", action="store_true", help="list what you may delete, by kind")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    delete.add_argument("--trash", action="store_true", help="list what is in the trash")
    delete.add_argument("--restore", metavar="ITEM", help="put a trashed item back where it was")
    delete.add_argument("--empty-trash", action="store_true", help="delete everything in the trash for good (admins)")


def delete(args) -> int:
    user = cli_user()
    try:
        if args.trash:
            for item in storage.list_trash():
                row = item.to_row()
                print(f"{item.id}  {item.kind:<8} {row['deleted_at']}  by {item.deleted_by:<20} "
                      f"{item.size_bytes / 1e6:8.2f} MB  {item.original}")
            return 0
        if args.restore:
            print(f"restored to {actions.restore(user, args.restore)}")
            return 0
        if args.empty_trash:
            if not args.yes and not _confirmed("Delete everything in the trash for good?"):
                return 1 if sys.stdin.isatty() else 2
            print(f"trash emptied: {actions.empty(user) / 1e6:,.1f} MB freed")
            return 0
        if args.list:
            items = [("run", job.id) for job in actions.deletable_jobs(user)] + actions.deletable_items(user)
            labels = actions.item_labels(items)
            for kind, name in items:
                label = labels[(kind, name)]
                print(f"{kind:<8} {name}" + (f"    {label}" if label != f"{kind}: {name}" else ""))
            if not items:
                print("nothing you may delete (only your own things that are not queued or running)")
            return 0
        if not args.run:
            print("error: name what to delete (or --list, --trash, --restore ITEM)", file=sys.stderr)
            return 2
        what = f"the {args.kind} {args.run}" if args.kind != "run" else actions.find_job(args.run).id
        if not args.yes and not _confirmed(f"Move {what} to the trash?"):
            return 1 if sys.stdin.isatty() else 2
        item = actions.delete_item(user, args.kind, args.run)
    except NotAllowed as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    print(f"{what} moved to the trash as {item.id}; undo with: python -m tlcore delete --restore {item.id}")
    return 0


def _confirmed(question: str) -> bool:
    """Ask on the terminal; off a terminal say that --yes is needed (False either way when not confirmed)."""
    if not sys.stdin.isatty():
        print("error: add --yes to delete without a question (stdin is not a terminal)", file=sys.stderr)
        return False
    if input(f"{question} [y/N] ").strip().lower() not in ("y", "yes"):
        print("nothing deleted")
        return False
    return True
