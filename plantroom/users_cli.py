"""`plantroom users ...` and `plantroom tokens ...`: accounts in the configured database.

Each command migrates the database to the latest schema first, as the server does. Mistakes the
user can fix (unknown user, duplicate name, bad scope) print one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config.settings import Settings, warn_unread_variables
from core.auth import repository, service
from core.auth.models import ApiToken, Role, User
from core.auth.service import PREFIX_LEN, Principal
from core.db import Database, utcnow
from core.errors import AppError

EXIT_USAGE = 2


class UserError(Exception):
    """A mistake in the command line the user can fix: exit 2 with this message."""


def _settings(args: argparse.Namespace) -> Settings:
    if getattr(args, "data_dir", None):
        settings = Settings(data_dir=Path(args.data_dir))
    else:
        settings = Settings()
    warn_unread_variables(settings)  # a misspelt PLANTROOM_ variable, named at start
    return settings


def _actor() -> Principal:
    """The person at the terminal, as an audit-log actor with the database's full powers."""
    try:
        name = getpass.getuser()
    except (OSError, KeyError):
        name = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return Principal(username=f"cli:{name}"[:80], role=Role.admin)


def _run(args: argparse.Namespace, body: Callable[[Session, Principal], None]) -> int:
    """Open the migrated database, run body in one transaction, and map mistakes to exit 2."""
    from plantroom import migrate

    url = _settings(args).sqlalchemy_url()
    migrate.upgrade(url)
    db = Database(url)
    try:
        with db.session() as s:
            body(s, _actor())
    except (UserError, AppError) as exc:
        print(f"plantroom {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except IntegrityError:
        print(f"plantroom {args.command}: conflicts with existing data", file=sys.stderr)
        return EXIT_USAGE
    finally:
        db.dispose()
    return 0


def _user(session: Session, username: str) -> User:
    user = repository.user_by_username(session, username)
    if user is None:
        raise UserError(f"no user '{username}'")
    return user


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            raise UserError("the passwords do not match")
    service.check_password(password)
    return password


# --- users ---------------------------------------------------------------------------------------


def cmd_users_create(args: argparse.Namespace) -> int:
    """Create a user, asking for the password (or reading it from stdin)."""
    try:
        role = Role(args.role)
        service.check_username(args.username)
        password = _read_password(args.password_stdin)
    except ValueError:
        print(
            f"plantroom users: unknown role '{args.role}'; roles: "
            + ", ".join(r.value for r in Role),
            file=sys.stderr,
        )
        return EXIT_USAGE
    except EOFError:
        print("plantroom users: no password given", file=sys.stderr)
        return EXIT_USAGE
    except (UserError, AppError) as exc:
        print(f"plantroom users: {exc}", file=sys.stderr)
        return EXIT_USAGE

    def body(s: Session, actor: Principal) -> None:
        org = None
        if args.org:
            org = repository.organisation_by_name(s, args.org)
            if org is None:
                org = service.create_organisation(s, name=args.org, actor=actor)
                print(f"created contractor organisation '{org.name}'", file=sys.stderr)
        user = service.create_user(
            s,
            username=args.username,
            password=password,
            role=role,
            display_name=args.display_name or "",
            organisation=org,
            actor=actor,
        )
        print(f"created user '{user.username}' ({user.role}), id {user.id}")

    return _run(args, body)


def cmd_users_list(args: argparse.Namespace) -> int:
    """Print every user."""

    def body(s: Session, _actor: Principal) -> None:
        users = repository.list_users(s, limit=1_000_000)
        names = repository.organisation_names(
            s, {u.organisation_id for u in users if u.organisation_id is not None}
        )
        rows = [
            {
                "id": u.id,
                "username": u.username,
                "display_name": u.display_name,
                "role": u.role,
                "organisation": names.get(u.organisation_id) if u.organisation_id else None,
                "active": u.active,
                "created_at": u.created_at.isoformat(),
            }
            for u in users
        ]
        if args.json:
            print(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        print(f"{'ID':>5}  {'USERNAME':<20} {'ROLE':<11} {'ACTIVE':<6}  ORGANISATION / NAME")
        for r in rows:
            who = " / ".join(str(x) for x in (r["organisation"], r["display_name"]) if x)
            active = "yes" if r["active"] else "no"
            print(f"{r['id']:>5}  {r['username']:<20} {r['role']:<11} {active:<6}  {who}")

    return _run(args, body)


def cmd_users_disable(args: argparse.Namespace) -> int:
    """Disable a user: their tokens are revoked and their sessions end."""

    def body(s: Session, actor: Principal) -> None:
        user = _user(s, args.username)
        if not user.active:
            print(f"user '{user.username}' was already disabled")
            return
        service.disable_user(s, user=user, actor=actor)
        print(f"disabled user '{user.username}' and revoked their tokens")

    return _run(args, body)


def cmd_users_passwd(args: argparse.Namespace) -> int:
    """Set a user's password (asked twice, or one line from stdin); their UI sessions end."""

    def body(s: Session, actor: Principal) -> None:
        user = _user(s, args.username)
        password = _read_password(args.password_stdin)
        ended = service.change_password(s, user=user, new_password=password, actor=actor)
        print(f"changed the password of '{user.username}'; {ended} session(s) signed out")

    return _run(args, body)


# --- tokens --------------------------------------------------------------------------------------


def cmd_tokens_create(args: argparse.Namespace) -> int:
    """Issue a token and print it once on stdout."""
    if args.expires_days is not None and not 1 <= args.expires_days <= 3650:
        print("plantroom tokens: --expires-days must be 1 to 3650", file=sys.stderr)
        return EXIT_USAGE

    def body(s: Session, actor: Principal) -> None:
        user = _user(s, args.username)
        expires = utcnow() + dt.timedelta(days=args.expires_days) if args.expires_days else None
        tok, plain = service.issue_token(
            s,
            user=user,
            name=args.name,
            scopes=args.scopes.split(),
            expires_at=expires,
            actor=actor,
        )
        until = f", expires {tok.expires_at.isoformat()}" if tok.expires_at else ""
        print(
            f"token {tok.id} '{tok.name}' for {user.username} ({tok.scopes}){until}. "
            "It is shown this once: store it now.",
            file=sys.stderr,
        )
        print(plain)

    return _run(args, body)


def _find_token(s: Session, key: str) -> ApiToken:
    """A token by id, by the prefix `tokens list` shows, or by the whole token."""
    if key.isascii() and key.isdigit():
        tok = repository.get_token(s, int(key)) if int(key) <= 2**31 - 1 else None
        if tok is None:
            raise UserError(f"no token with id {key}")
        return tok
    if len(key) > PREFIX_LEN:
        found = repository.token_and_user_by_hash(s, service.token_hash(key))
        if found is None:
            raise UserError("no such token")
        return found[0]
    if len(key) < 6:
        raise UserError("give a token id, or at least 6 characters of its prefix")
    matches = repository.tokens_with_prefix(s, key)
    if not matches:
        raise UserError(f"no token with prefix '{key}'")
    if len(matches) > 1:
        ids = ", ".join(str(t.id) for t in matches)
        raise UserError(f"prefix '{key}' matches tokens {ids}: give the id")
    return matches[0]


def cmd_tokens_revoke(args: argparse.Namespace) -> int:
    """Revoke a token by id or prefix."""

    def body(s: Session, actor: Principal) -> None:
        tok = _find_token(s, args.token)
        if tok.revoked_at is not None:
            print(f"token {tok.id} ({tok.prefix}) was already revoked")
            return
        service.revoke_token(s, token=tok, actor=actor)
        print(f"revoked token {tok.id} ({tok.prefix}) '{tok.name}'")

    return _run(args, body)


def cmd_tokens_list(args: argparse.Namespace) -> int:
    """Print tokens (never the tokens themselves), of one user or everyone."""

    def body(s: Session, _actor: Principal) -> None:
        owner = _user(s, args.username).id if args.username else None
        now = utcnow()
        rows = [
            {
                "id": t.id,
                "username": username,
                "name": t.name,
                "prefix": t.prefix,
                "scopes": t.scopes,
                "state": service.token_state(t, now),
                "created_at": t.created_at.isoformat(),
                "expires_at": t.expires_at.isoformat() if t.expires_at else None,
                "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
            }
            for t, username in repository.list_tokens(s, user_id=owner, limit=1_000_000)
        ]
        if args.json:
            print(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        print(f"{'ID':>5}  {'PREFIX':<12}  {'USER':<16} {'STATE':<8} {'SCOPES':<17} NAME")
        for r in rows:
            print(
                f"{r['id']:>5}  {r['prefix']:<12}  {r['username']:<16} {r['state']:<8} "
                f"{r['scopes']:<17} {r['name']}"
            )

    return _run(args, body)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `users` and `tokens` commands to the `plantroom` parser."""
    roles = ", ".join(r.value for r in Role)
    u = sub.add_parser("users", help="create, list and disable user accounts")
    u_sub = u.add_subparsers(dest="users_command", required=True)
    uc = u_sub.add_parser(
        "create",
        help="create a user",
        description="Create a user. The password is asked for twice, or read as one line "
        "from stdin with --password-stdin.",
    )
    uc.add_argument("username")
    uc.add_argument("--role", required=True, help=f"one of: {roles}")
    uc.add_argument(
        "--org",
        metavar="NAME",
        help="the user's organisation (contractors: their firm); "
        "a contractor organisation of that name is created when missing",
    )
    uc.add_argument("--display-name", default="", help="the name people see (default: username)")
    uc.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    uc.set_defaults(func=cmd_users_create)
    ul = u_sub.add_parser("list", help="list users")
    ul.add_argument("--json", action="store_true", help="JSON instead of a table")
    ul.set_defaults(func=cmd_users_list)
    ud = u_sub.add_parser(
        "disable", help="disable a user: their tokens are revoked, their sessions end"
    )
    ud.add_argument("username")
    ud.set_defaults(func=cmd_users_disable)
    up = u_sub.add_parser(
        "passwd", help="set a user's password (asked twice); their UI sessions end"
    )
    up.add_argument("username")
    up.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    up.set_defaults(func=cmd_users_passwd)

    t = sub.add_parser("tokens", help="issue, list and revoke API tokens")
    t_sub = t.add_subparsers(dest="tokens_command", required=True)
    tc = t_sub.add_parser(
        "create", help="issue a bearer token for a user and print it once on stdout"
    )
    tc.add_argument("username")
    tc.add_argument("--name", required=True, help="what the token is for, e.g. 'BMS bridge'")
    tc.add_argument(
        "--scopes",
        default="read write",
        help="space-separated, some of: read write admin (admin only for admins; "
        "default: 'read write')",
    )
    tc.add_argument("--expires-days", type=int, metavar="N", help="expire after N days")
    tc.set_defaults(func=cmd_tokens_create)
    tr = t_sub.add_parser("revoke", help="revoke a token by id or by its prefix")
    tr.add_argument("token", metavar="ID_OR_PREFIX")
    tr.set_defaults(func=cmd_tokens_revoke)
    tl = t_sub.add_parser("list", help="list tokens (never the tokens themselves)")
    tl.add_argument("username", nargs="?", help="only this user's tokens")
    tl.add_argument("--json", action="store_true", help="JSON instead of a table")
    tl.set_defaults(func=cmd_tokens_list)
    for p in (uc, ul, ud, tc, tr, tl):
        p.add_argument("--data-dir", default=None, help="default: PLANTROOM_DATA_DIR or ./data")
