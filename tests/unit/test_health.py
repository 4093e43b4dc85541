"""/health: the status for anyone, the details for the token or an admin, never a secret."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask

from citybrain.config import load_config
from service import scope
from service.data import DataService
from service.health import HealthReport, Redactor, answer, status_of
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def leaky(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[DataService, dict[str, str]]:
    """A cockpit whose HTTP, SQL and file stores carry every kind of secret the details could
    leak, all unreachable, so their drivers' errors (with host and port) are in the details."""
    http_port, sql_port = free_port(), free_port()
    drop = tmp_path / "city-drop"
    drop.mkdir()
    secrets = {"http user": "alice-api", "http password": "pw-for-the-api", "key": "QUERYKEY123",
               "sql password": "pg-secret-pw", "sql user": "cbreader", "path": str(tmp_path),
               "http port": str(http_port), "sql port": str(sql_port), "host": "127.0.0.1"}
    monkeypatch.setenv("CB_TEST_WAREHOUSE", f"postgresql+psycopg://cbreader:pg-secret-pw@127.0.0.1:"
                                            f"{sql_port}/warehouse")
    base = yaml.safe_load((ROOT / "config" / "default.yaml").read_text(encoding="utf-8"))
    base["datasources"].update({
        "api": {"type": "http", "base_url": f"http://alice-api:pw-for-the-api@127.0.0.1:{http_port}"
                                            f"/v1?key=QUERYKEY123", "retries": 0},
        "warehouse": {"type": "sql", "url_env": "CB_TEST_WAREHOUSE"},
        "drop": {"type": "file", "root": str(drop)},
    })
    path = tmp_path / "leaky.yaml"
    path.write_text(yaml.safe_dump(base, allow_unicode=True), encoding="utf-8")
    config = load_config(path, env={})
    data = DataService(config)
    shutil.rmtree(drop)                       # the drop folder goes away: an error with its path
    return data, secrets


def report_of(data: DataService) -> HealthReport:
    return HealthReport(data.health, Redactor.for_config(data.config), ttl=0)


def test_the_details_name_the_failures_but_no_credential_path_host_or_port(leaky: Any) -> None:
    data, secrets = leaky
    raw = json.dumps(data.health(), default=str)
    assert "pw-for-the-api" in raw and str(secrets["http port"]) in raw      # the leaks are there
    details = report_of(data).details()
    text = json.dumps(details, ensure_ascii=False)
    for what, secret in secrets.items():
        assert secret not in text, f"{what} {secret!r} in {text}"
    assert "cbreader:" not in text and "@" not in text
    adapters = details["adapters"]
    assert {adapters[n]["status"] for n in ("api", "warehouse", "drop")} == {"failing"}
    assert adapters["sim"]["status"] == "ok" and details["status"] == "degraded"
    assert "city-drop" in adapters["drop"]["error"]                   # the name, not the path
    assert "refused" in adapters["warehouse"]["error"].lower() or "connect" in adapters["warehouse"]["error"]
    assert adapters["api"]["details"]["url"].startswith("http://***/v1?key=***")


@pytest.mark.parametrize(("text", "gone", "kept"), [
    ("GET https://u:p4ss@api.city.gov:8443/v1/x?token=T0KEN&area=a failed", ["u:p4ss", "api.city.gov", "8443",
                                                                             "T0KEN"], ["area=a", "/x"]),
    ("host=db.internal port=5432 dbname=w user=cb password=hunter22", ["db.internal", "5432", "hunter22", "=cb"],
     ["dbname=w"]),
    ('connection to server at "10.1.2.3", port 5432 failed: Connection refused', ["10.1.2.3", "5432"],
     ["Connection refused"]),
    ("Error 111 connecting to redis-01:6380. Connection refused.", ["redis-01", "6380"], ["Error 111"]),
    ("failed on [::1]:6379 and /var/lib/city/x/values.csv", ["::1", "/var/lib"], ["values.csv"]),
    ("C:\\data\\city\\values.csv is locked", ["C:\\data"], ["values.csv"]),
    ("read at 2026-12-03T16:11:41.549+00:00 for indicators[0] (tpi).binding", [],
     ["2026-12-03T16:11:41.549+00:00", "indicators[0]"]),
])
def test_generic_rules_take_out_what_no_config_names(text: str, gone: list[str], kept: list[str]) -> None:
    shown = Redactor().text(text)
    assert not [g for g in gone if g in shown], shown
    assert all(k in shown for k in kept), shown


def test_keys_are_redacted_too() -> None:
    body = Redactor()({"failing_files": {"/srv/drop/a.csv": "bad"}, "n": [1, "x@y:1234"]})
    assert body == {"failing_files": {"a.csv": "bad"}, "n": [1, "x@<host>"]}


BODY = {"status": "ok", "adapters": {"a": {"status": "ok"}}, "walls": {"degraded": False}}


@pytest.mark.parametrize(("body", "status"), [
    (BODY, "ok"),
    ({**BODY, "walls": {"degraded": True}}, "degraded"),
    ({**BODY, "status": "degraded"}, "degraded"),
    ({**BODY, "adapters": {"a": {"status": "failing"}}}, "down"),
    ({**BODY, "adapters": {"a": {"status": "failing"}, "b": {"status": "ok"}}, "status": "degraded"},
     "degraded"),
])
def test_the_status(body: dict[str, Any], status: str) -> None:
    assert status_of(body) == status


def request_answer(report: HealthReport, who: scope.Scope | None = None, **kwargs: Any) -> tuple[Any, int]:
    from citybrain.security import Security

    app = Flask(__name__)
    with app.test_request_context("/health", **kwargs):
        from flask import request

        if who is not None:
            scope.set_for_request(who)
        return answer(report, Security(), request.headers, request.args)


def test_only_the_token_or_an_admin_gets_the_details(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYBRAIN_HEALTH_TOKEN", "the-health-token")
    report = HealthReport(lambda: dict(BODY), Redactor(), ttl=0)
    assert request_answer(report) == ({"status": "ok"}, 200)
    assert request_answer(report, query_string={"detail": "1"})[1] == 403
    operator = scope.Scope("op", frozenset({"operator"}))
    assert request_answer(report, operator, query_string={"detail": "1"})[1] == 403
    admin = scope.Scope("ad", frozenset({"admin"}))
    assert request_answer(report, admin, query_string={"detail": "1"})[0]["adapters"]
    assert request_answer(report, headers={"Authorization": "Bearer the-health-token"})[0]["adapters"]
    assert request_answer(report, headers={"Authorization": "Bearer wrong"})[1] == 401
    monkeypatch.delenv("CITYBRAIN_HEALTH_TOKEN")                       # no token configured
    assert request_answer(report, headers={"Authorization": "Bearer "})[1] == 401


def test_down_is_503_and_a_failing_computation_is_down_not_500() -> None:
    down = HealthReport(lambda: {**BODY, "adapters": {"a": {"status": "failing"}}}, Redactor(), ttl=0)
    assert request_answer(down) == ({"status": "down"}, 503)

    def broken() -> dict[str, Any]:
        raise RuntimeError("cannot reach 10.0.0.9:5432")
    body, code = request_answer(HealthReport(broken, Redactor(), ttl=0),
                                scope.Scope("ad", frozenset({"admin"})), query_string={"detail": "1"})
    assert code == 503 and body["status"] == "down" and "(ref " in body["error"]
    assert "10.0.0.9" not in json.dumps(body)


def test_the_details_are_computed_at_most_once_per_ttl() -> None:
    calls = []
    report = HealthReport(lambda: calls.append(1) or dict(BODY), Redactor(), ttl=60)
    for _ in range(20):
        report.details()
    assert len(calls) == 1


def test_the_cockpits_own_page_urls_are_not_taken_for_file_paths() -> None:
    """A playlist's "/wall?layout=1080p" is a page of the cockpit, not a file: the walls
    listed in the details keep the page they show."""
    from citybrain.config import DEFAULT_CONFIG

    config = load_config(DEFAULT_CONFIG)
    assert any(item.url == "/wall?layout=1080p" for items in config.playlists.values() for item in items)
    clean = Redactor.for_config(config, env={})
    assert clean.text("wall /wall?layout=1080p and /map?layers=areas,roads,events&kiosk=1") == \
        "wall /wall?layout=1080p and /map?layers=areas,roads,events&kiosk=1"
