"""``python -m access``: users, roles and wall tokens from the command line.

    python -m access users add NAME --roles leader,analyst [--areas 360802,360803] [--password-stdin]
    python -m access users list
    python -m access users roles NAME leader,analyst [--areas ...]
    python -m access users disable NAME
    python -m access users passwd NAME [--password-stdin]
    python -m access tokens create NAME --layouts 1080p,4k [--playlists default] [--days 180] [--base-url URL]
    python -m access tokens list
    python -m access tokens revoke ID|NAME

The config (and so the access database) is the one the app reads: ``CITYBRAIN_CONFIG``.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Sequence
from typing import TextIO

import layouts as wall_layouts
from citybrain.config import Config, ConfigError, load_config

from . import tokens, users
from .passwords import WeakPassword
from .store import Store, utcnow


def _list(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _password(args: argparse.Namespace, stdin: TextIO) -> str:
    if args.password_stdin:
        return stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Again: "):
        raise users.UserError("the two passwords differ")
    return first


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m access", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    groups = top.add_subparsers(dest="group", required=True)

    people = groups.add_parser("users", help="people who sign in").add_subparsers(dest="command", required=True)
    add = people.add_parser("add", help="a new user")
    add.add_argument("name")
    add.add_argument("--roles", required=True, help="comma-separated: wall, leader, analyst, operator, admin")
    add.add_argument("--areas", help="comma-separated area ids the user is limited to (default: all)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.add_argument("--no-password", action="store_true", help="sign in only through the identity provider")
    people.add_parser("list", help="every user")
    roles = people.add_parser("roles", help="replace a user's roles (their sessions sign out)")
    roles.add_argument("name")
    roles.add_argument("roles", help="comma-separated roles")
    roles.add_argument("--areas", help="comma-separated area ids; '' for all")
    disable = people.add_parser("disable", help="a user who may no longer sign in")
    disable.add_argument("name")
    passwd = people.add_parser("passwd", help="set a user's password")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true")

    walls = groups.add_parser("tokens", help="wall tokens").add_subparsers(dest="command", required=True)
    create = walls.add_parser("create", help="a wall token; prints its kiosk URL once")
    create.add_argument("name")
    create.add_argument("--layouts", help="comma-separated wall layouts")
    create.add_argument("--playlists", help="comma-separated playlists")
    create.add_argument("--areas", help="comma-separated area ids the wall is limited to")
    create.add_argument("--days", type=int, default=tokens.DEFAULT_DAYS)
    create.add_argument("--base-url", default=f"http://127.0.0.1:{os.environ.get('PORT', '8050')}")
    walls.add_parser("list", help="every wall token (never its secret)")
    revoke = walls.add_parser("revoke", help="revoke a token by id, or every live token of a name")
    revoke.add_argument("id_or_name")
    return top


def _known_screens(config: Config, layout_names: list[str], playlist_names: list[str]) -> None:
    unknown = [f"layout {n!r}" for n in layout_names if n not in wall_layouts.names()]
    unknown += [f"playlist {n!r}" for n in playlist_names if n not in config.playlists]
    if unknown:
        raise tokens.TokenError(f"no such {', '.join(unknown)}; layouts: {', '.join(wall_layouts.names())}; "
                                f"playlists: {', '.join(sorted(config.playlists)) or 'none'}")


def run(args: argparse.Namespace, config: Config, store: Store, out: TextIO, stdin: TextIO) -> None:
    """Do one command (``UserError`` / ``TokenError`` / ``WeakPassword`` when it cannot)."""
    actor = _actor()
    if args.group == "users":
        if args.command == "add":
            password = None if args.no_password else _password(args, stdin)
            account = users.add(store, args.name, _list(args.roles), areas=_list(args.areas),
                                password=password, actor=actor)
            out.write(f"added {account.name}: {', '.join(sorted(account.roles))}\n")
        elif args.command == "list":
            for a in users.everyone(store):
                state = "disabled" if a.disabled else ("no password" if not a.has_password else "active")
                out.write(f"{a.name}\t{','.join(sorted(a.roles))}\t{','.join(sorted(a.areas or ())) or 'all areas'}"
                          f"\t{state}\n")
        elif args.command == "roles":
            areas = None if args.areas is None else _list(args.areas)
            account = users.set_roles(store, args.name, _list(args.roles), areas=areas, actor=actor)
            out.write(f"{account.name}: {', '.join(sorted(account.roles))}\n")
        elif args.command == "disable":
            users.disable(store, args.name, actor=actor)
            out.write(f"disabled {args.name}; their sessions end at their next request\n")
        elif args.command == "passwd":
            users.set_password(store, args.name, _password(args, stdin), actor=actor)
            out.write(f"password set for {args.name}\n")
        return
    if args.command == "create":
        _known_screens(config, _list(args.layouts), _list(args.playlists))
        secret, wall = tokens.create(store, args.name, layouts=_list(args.layouts),
                                     playlists=_list(args.playlists), areas=_list(args.areas),
                                     days=args.days, actor=actor)
        out.write(f"wall token {wall.id} ({wall.name}) until {wall.expires_at:%Y-%m-%d}. "
                  "Open this URL on the wall; it is shown only now:\n\n"
                  f"    {args.base_url.rstrip('/')}/kiosk/{secret}\n\n")
    elif args.command == "list":
        now = utcnow()
        for w in tokens.everything(store):
            state = "revoked" if w.revoked else ("expired" if w.expires_at <= now else "live")
            out.write(f"{w.id}\t{w.name}\tlayouts={','.join(sorted(w.layouts)) or '-'}"
                      f"\tplaylists={','.join(sorted(w.playlists)) or '-'}\tuntil {w.expires_at:%Y-%m-%d}\t{state}\n")
    elif args.command == "revoke":
        for w in tokens.revoke(store, args.id_or_name, actor=actor):
            out.write(f"revoked wall token {w.id} ({w.name})\n")


def main(argv: Sequence[str] | None = None, *, out: TextIO = sys.stdout, stdin: TextIO = sys.stdin) -> int:
    args = parser().parse_args(argv)
    try:
        config = load_config()
        run(args, config, Store.for_config(config.security), out, stdin)
    except ConfigError as exc:
        sys.stderr.write(f"the config is wrong:\n{exc}\n")
        return 2
    except (users.UserError, tokens.TokenError, WeakPassword) as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    return 0
