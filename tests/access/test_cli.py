"""``python -m access``: users and wall tokens from the command line (main(argv) in-process,
and once as a real subprocess)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from access import tokens, users
from access.cli import main
from access.passwords import verify
from access.store import AuditEvent
from tests.access.helpers import store

ROOT = Path(__file__).resolve().parents[2]


def run(*argv: str, stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out, stdin=io.StringIO(stdin)), out.getvalue()


def test_users_add_list_roles_passwd_disable() -> None:
    name = f"cli-{time.time_ns()}"
    code, text = run("users", "add", name, "--roles", "leader,analyst", "--areas", "360802,360803",
                     "--password-stdin", stdin="a long enough password\n")
    assert code == 0 and "leader" in text
    account, stored = users.password_hash(store(), name)
    assert account.roles == {"leader", "analyst"} and account.areas == {"360802", "360803"}
    assert verify(stored, "a long enough password")
    listed = run("users", "list")[1]
    assert f"{name}\tanalyst,leader\t360802,360803\tactive" in listed
    assert run("users", "roles", name, "operator")[0] == 0
    assert users.find(store(), name).roles == {"operator"}
    assert run("users", "passwd", name, "--password-stdin", stdin="another long password\n")[0] == 0
    assert verify(users.password_hash(store(), name)[1], "another long password")
    assert run("users", "disable", name)[0] == 0 and users.find(store(), name).disabled
    with store()() as db:
        actions = list(db.scalars(sa.select(AuditEvent.action).where(AuditEvent.target == name)))
    assert actions == ["user_created", "roles_changed", "password_set", "user_disabled"]


def test_user_commands_refuse_what_they_cannot_do() -> None:
    assert run("users", "add", "x-" + str(time.time_ns()), "--roles", "king", "--password-stdin",
               stdin="a long enough password\n")[0] == 1
    assert run("users", "add", "y-" + str(time.time_ns()), "--roles", "leader", "--password-stdin",
               stdin="short\n")[0] == 1
    assert run("users", "disable", "nobody-by-that-name")[0] == 1
    taken = f"taken-{time.time_ns()}"
    run("users", "add", taken, "--roles", "leader", "--no-password")
    assert run("users", "add", taken, "--roles", "leader", "--no-password")[0] == 1


def test_tokens_create_prints_the_kiosk_url_once_list_and_revoke() -> None:
    name = f"wall-{time.time_ns()}"
    code, text = run("tokens", "create", name, "--layouts", "4k", "--days", "30",
                     "--base-url", "https://cockpit.city.example/")
    assert code == 0
    url = next(line.strip() for line in text.splitlines() if "/kiosk/" in line)
    assert url.startswith("https://cockpit.city.example/kiosk/")
    secret = url.rsplit("/", 1)[1]
    wall = tokens.resolve(store(), secret)
    assert wall is not None and wall.layouts == {"4k"}
    listed = run("tokens", "list")[1]
    assert f"{wall.id}\t{name}\tlayouts=4k" in listed and secret not in listed
    assert run("tokens", "revoke", str(wall.id))[0] == 0
    assert tokens.resolve(store(), secret) is None and "revoked" in run("tokens", "list")[1]
    assert run("tokens", "revoke", str(wall.id))[0] == 1        # nothing live left to revoke
    assert run("tokens", "create", name, "--layouts", "no-such-layout")[0] == 1


def test_the_module_runs_as_a_command() -> None:
    name = f"sub-{time.time_ns()}"
    done = subprocess.run([sys.executable, "-m", "access", "users", "add", name, "--roles", "leader",
                           "--password-stdin"], input="a long enough password\n", text=True,
                          capture_output=True, cwd=ROOT, env=os.environ, timeout=60)
    assert done.returncode == 0, done.stderr
    assert users.find(store(), name).roles == {"leader"}
