"""Real-store mode end to end: the feeder fills Redis and MariaDB in a platform's layout,
and the shipped examples/real-stores.yaml runs the heartbeat on them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from citybrain.config import load_config
from datasources.simulator.adapter import SimulatorSource
from service import runtime
from service.feed import Feeder
from tests.adapters.redis_server import OwnRedis
from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]
MARIADB = "mysql+pymysql://root@127.0.0.1:3306"


@pytest.fixture
def database() -> Iterator[str]:
    """A MariaDB database of the test's own, dropped afterwards."""
    name = f"cb_e2e_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(f"{MARIADB}/test")
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
    except sa.exc.OperationalError:
        require(False, "MariaDB on 127.0.0.1:3306")
    yield f"{MARIADB}/{name}"
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
    admin.dispose()


def test_heartbeat_runs_on_the_fed_platform_stores(tmp_path: Path, database: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    redis_server = OwnRedis(tmp_path).start()
    try:
        config = load_config(env={})
        sim = SimulatorSource("feed", seed=20261125)
        feeder = Feeder(sim, [i.model_copy(update={"binding": i.binding.model_copy(
            update={"source": "feed"})}) for i in config.catalogue],
            redis_url=redis_server.url, sql_url=database)
        now = datetime.now(UTC)
        feeder.setup(timedelta(minutes=70), now)
        counts = feeder.tick(now)
        assert counts["values"] > 10_000 and counts["events"] > 0

        monkeypatch.setenv("REDIS_URL", redis_server.url)
        monkeypatch.setenv("DATABASE_URL", database)
        cockpit = runtime.build(load_config(ROOT / "examples" / "real-stores.yaml", env={}))
        import app  # noqa: F401  (registers the pages)
        from pages.heartbeat import page as heartbeat

        before = runtime.current()
        runtime.install(cockpit)
        try:
            views = heartbeat.render("zh", initial=True)
        finally:
            runtime.install(before)
        figures = views["figures"]
        assert all(len(f["data"][0]["y"]) >= 30 for f in figures), "history from SQL"
        assert "badge-fresh" in views["freshness"].className
        latest = cockpit.data.latest(["traffic_tpi", "aqi"], "district").data
        assert len(latest) == 12 and latest.value.notna().all()
        assert not cockpit.data.events(now - timedelta(hours=1)).data.empty
        health = cockpit.data.health()
        assert health["status"] == "ok", health
        assert set(health["adapters"]) == {"platform", "warehouse"}
    finally:
        redis_server.stop()
