"""The access tables in the site's own database: users, password check, wall tokens and the
audit trail work the same on PostgreSQL and MariaDB as on the default SQLite (each test in a
schema / database of its own, dropped after), read back with plain SQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from access import audit, tokens, users
from access.passwords import verify
from access.store import Store
from tests.conftest import require_services

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MARIA = "mysql+pymysql://root@127.0.0.1:3306/test"
SPACE = "cb_access_test"


@pytest.fixture(params=["postgresql", "mariadb"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    admin_url = PG if request.param == "postgresql" else MARIA
    require_services(sql=(admin_url,))
    engine = sa.create_engine(admin_url)
    with engine.begin() as conn:
        if request.param == "postgresql":
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {SPACE} CASCADE"))
            conn.execute(sa.text(f"CREATE SCHEMA {SPACE}"))
            url = f"{PG}?options=-csearch_path%3D{SPACE}"
        else:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {SPACE}"))
            conn.execute(sa.text(f"CREATE DATABASE {SPACE} CHARACTER SET utf8mb4"))
            url = MARIA.rsplit("/", 1)[0] + f"/{SPACE}?charset=utf8mb4"
    made = Store(url)
    yield made
    made.engine.dispose()
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {SPACE} CASCADE" if request.param == "postgresql"
                             else f"DROP DATABASE {SPACE}"))
    engine.dispose()


def test_users_tokens_and_the_trail_in_the_sites_database(store: Store) -> None:
    users.add(store, "区长", ["leader"], areas=["360802"], password="s3cret words", actor="tests")
    account, stored = users.password_hash(store, "区长")
    assert account is not None and account.roles == frozenset({"leader"}) and account.areas == frozenset({"360802"})
    assert verify(stored, "s3cret words") and not verify(stored, "wrong")

    secret, wall = tokens.create(store, "大厅", layouts=["1080p"], days=30, actor="tests")
    found = tokens.resolve(store, secret)
    assert found is not None and (found.id, found.layouts) == (wall.id, frozenset({"1080p"}))
    assert tokens.resolve(store, secret + "x") is None
    tokens.revoke(store, "大厅", actor="tests")
    again = tokens.resolve(store, secret)
    assert again is None or not again.valid()

    audit.record(store, "tests", "platform_check", "cockpit", problems=0)
    with store.engine.connect() as conn:
        stored_hashes = conn.execute(sa.text("SELECT token_hash FROM cb_wall_tokens")).scalars().all()
        actions = conn.execute(sa.text("SELECT action FROM cb_audit ORDER BY id")).scalars().all()
        names = conn.execute(sa.text("SELECT name, password_hash FROM cb_users")).all()
    assert secret not in stored_hashes and len(stored_hashes[0]) == 64          # hashed at rest
    assert names[0][0] == "区长" and names[0][1].startswith("$argon2id$")
    assert "token_created" in actions and "token_revoked" in actions and actions[-1] == "platform_check"
    events, total = audit.query(store, action="platform_check")
    assert total == 1 and events[0].actor == "tests"


def test_a_hung_statement_gives_up_within_the_timeout(store: Store) -> None:
    """Every request asks this database who is signed in: a statement that hangs is cut off
    after a few seconds, an error the gate answers with 503, never a request held for good."""
    import time

    sleep = "SELECT pg_sleep(30)" if store.engine.dialect.name == "postgresql" else "SELECT SLEEP(30)"
    started = time.monotonic()
    with pytest.raises(sa.exc.DBAPIError), store.engine.connect() as conn:
        conn.execute(sa.text(sleep))
    assert time.monotonic() - started < 8
