"""Sign-in through an identity provider: the whole code flow against a provider served in
the test (tests/access/oidc_provider.py), driven by the cockpit server's test client.

Each refusal (state, nonce, foreign key, audience, no role, provider down) must end on the
sign-in page with a message, leave nobody signed in and be in the audit trail.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import sqlalchemy as sa
from flask import Flask, jsonify
from flask.testing import FlaskClient
from flask_login import current_user

from access import login, oidc, sessions, users
from access.store import Store
from citybrain.security import Oidc, Security
from tests.access.helpers import sign_out
from tests.access.oidc_provider import Provider, new_key
from tests.servers import free_port

CLIENT_ID, SECRET = "cockpit", "s3cret-for-tests"
PERSON = {"sub": "u-1001", "preferred_username": "zhang.wei", "name": "张伟",
          "roles": ["analyst", "leader", "superuser"], "areas": ["d-01", "d-02"]}


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    served = Provider(CLIENT_ID, SECRET, dict(PERSON)).start()
    yield served
    served.stop()


@pytest.fixture()
def idp(provider: Provider) -> Iterator[Provider]:
    """The module's provider, as it was configured, for each test."""
    yield provider
    provider.claims, provider.tamper, provider.sign_with = dict(PERSON), {}, None
    provider.authorize_requests.clear()
    provider.token_requests.clear()


def security_for(issuer: str) -> Security:
    return Security(oidc=Oidc(issuer=issuer, client_id=CLIENT_ID, areas_claim="areas", label="统一身份认证"))


def cockpit_server(store: Store, security: Security) -> Flask:
    """The access part of the cockpit's server (sessions, the sign-in routes, OIDC) and a
    route telling who the session is."""
    server = Flask("cockpit")
    known = sessions.Sessions(store, security, {})
    sessions.install(server, known, security)
    login.register(server, store, known)
    oidc.register(server, security, store)

    @server.route("/whoami")
    def whoami() -> Any:
        if not isinstance(current_user, sessions.Principal):
            return jsonify({"signed_in": False}), 401
        return jsonify({"signed_in": True, "name": current_user.name, "roles": sorted(current_user.roles),
                        "areas": sorted(current_user.areas or ())})
    return server


@pytest.fixture()
def store(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("CITYBRAIN_SECRET_KEY", "a-test-secret-" + "x" * 32)
    monkeypatch.setenv("CITYBRAIN_OIDC_SECRET", SECRET)
    monkeypatch.setenv("CITYBRAIN_DATA_DIR", str(tmp_path))
    return Store(f"sqlite:///{tmp_path / 'access.db'}")


@pytest.fixture()
def client(store: Store, idp: Provider) -> FlaskClient:
    return cockpit_server(store, security_for(idp.issuer)).test_client()


def to_provider(client: FlaskClient, next_url: str = "/explore") -> str:
    """Start signing in; the provider's authorize URL the cockpit sends the browser to."""
    start = client.get(f"/login/oidc?next={next_url}")
    assert start.status_code == 302, start.get_data(as_text=True)
    return start.headers["Location"]


def through_provider(authorize_url: str) -> str:
    """What the browser does at the provider: the redirect back (path and query)."""
    answer = requests.get(authorize_url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    assert (back.hostname, back.path) == ("localhost", "/login/oidc/callback")
    return f"{back.path}?{back.query}"


def sign_in(client: FlaskClient, next_url: str = "/explore") -> Any:
    return client.get(through_provider(to_provider(client, next_url)))


def trail(store: Store, action: str) -> list[dict[str, Any]]:
    """The audit rows of ``action``, read with plain SQL."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT actor, target, detail FROM cb_audit WHERE action = :a ORDER BY id"),
                            {"a": action}).all()
    return [{"actor": r[0], "target": r[1], **json.loads(r[2])} for r in rows]


def user_row(store: Store, subject: str) -> dict[str, Any] | None:
    with store.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT name, display_name, roles, areas, password_hash, session_epoch "
                                   "FROM cb_users WHERE oidc_subject = :s"), {"s": subject}).mappings().first()
    return dict(row) if row is not None else None


def assert_refused(client: FlaskClient, store: Store, answer: Any, reason: str, words: str) -> None:
    page = answer.get_data(as_text=True)
    assert answer.status_code == 401
    assert words in page and "<form" in page          # the sign-in page, with the message
    assert client.get("/whoami").status_code == 401
    assert [e["reason"] for e in trail(store, "sign_in_failed")] == [reason]
    assert trail(store, "sign_in") == []


# --- the flow ---------------------------------------------------------------------------------------
def test_oidc_creates_the_user_with_the_claimed_roles_and_areas_and_signs_in(
        client: FlaskClient, store: Store, idp: Provider) -> None:
    answer = sign_in(client, "/explore")

    assert answer.status_code == 302 and answer.headers["Location"] == "/explore"
    assert client.get("/whoami").get_json() == {"signed_in": True, "name": "zhang.wei",
                                                "roles": ["analyst", "leader"], "areas": ["d-01", "d-02"]}
    row = user_row(store, "u-1001")
    assert row is not None
    assert (row["name"], row["display_name"], row["roles"], row["areas"], row["password_hash"]) == (
        "zhang.wei", "张伟", "analyst,leader", "d-01,d-02", None)
    created = trail(store, "user_created")
    assert [(e["target"], e["roles"], e["dropped_roles"]) for e in created] == [
        ("zhang.wei", ["analyst", "leader"], ["superuser"])]
    assert [(e["actor"], e["how"]) for e in trail(store, "sign_in")] == [("zhang.wei", "oidc")]


def test_oidc_sends_state_nonce_and_a_pkce_challenge_and_proves_the_verifier(
        client: FlaskClient, idp: Provider) -> None:
    sign_in(client)
    asked = idp.authorize_requests[-1]
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) >= 43
    assert asked["state"] and asked["nonce"] and "openid" in asked["scope"].split()
    assert asked["redirect_uri"] == "http://localhost/login/oidc/callback"
    assert idp.token_requests[-1]["code_verifier"]     # the provider checked it against the challenge


def test_oidc_takes_the_roles_again_at_each_sign_in_and_audits_the_change(
        client: FlaskClient, store: Store, idp: Provider) -> None:
    sign_in(client)
    epoch = user_row(store, "u-1001")["session_epoch"]  # type: ignore[index]
    idp.claims = {**PERSON, "roles": ["operator"], "areas": ["d-03"]}
    sign_out(client)
    sign_in(client)

    row = user_row(store, "u-1001")
    assert row is not None and (row["roles"], row["areas"]) == ("operator", "d-03")
    assert row["session_epoch"] == epoch + 1           # sessions of the old roles end
    changed = trail(store, "roles_changed")
    assert [(e["before"], e["after"], e["areas_before"], e["areas"]) for e in changed] == [
        (["analyst", "leader"], ["operator"], ["d-01", "d-02"], ["d-03"])]
    assert client.get("/whoami").get_json()["roles"] == ["operator"]


def test_oidc_never_takes_over_a_local_account_of_the_same_name(
        client: FlaskClient, store: Store) -> None:
    users.add(store, "zhang.wei", ["admin"], password="correct horse battery staple")
    sign_in(client)
    row = user_row(store, "u-1001")
    assert row is not None and row["name"] == "zhang.wei@oidc" and row["roles"] == "analyst,leader"
    assert client.get("/whoami").get_json()["name"] == "zhang.wei@oidc"


# --- refusals ---------------------------------------------------------------------------------------
def test_oidc_refuses_a_callback_with_another_state(client: FlaskClient, store: Store) -> None:
    back = through_provider(to_provider(client))
    query = parse_qs(urlsplit(back).query)
    answer = client.get(f"/login/oidc/callback?code={query['code'][0]}&state=forged-state")
    assert_refused(client, store, answer, "bad_state", "The sign-in request expired or was not ours")


def test_oidc_refuses_a_callback_replayed_after_use(client: FlaskClient, store: Store) -> None:
    back = through_provider(to_provider(client))
    assert client.get(back).status_code == 302
    sign_out(client)
    answer = client.get(back)
    assert answer.status_code == 401 and client.get("/whoami").status_code == 401
    assert [e["reason"] for e in trail(store, "sign_in_failed")] == ["bad_state"]


def test_oidc_refuses_an_id_token_with_another_nonce(client: FlaskClient, store: Store, idp: Provider) -> None:
    idp.tamper = {"nonce": "not-the-one-we-sent"}
    assert_refused(client, store, sign_in(client), "invalid_token", "The identity token is not valid")


@pytest.mark.parametrize("kid", ["test-key", "unpublished-key"])
def test_oidc_refuses_an_id_token_signed_by_another_key(
        client: FlaskClient, store: Store, idp: Provider, kid: str) -> None:
    idp.sign_with = new_key(kid)      # same key id as the published key, or one the provider lacks
    assert_refused(client, store, sign_in(client), "invalid_token", "The identity token is not valid")


@pytest.mark.parametrize("claims", [{"aud": "another-client"}, {"aud": "another-client", "azp": CLIENT_ID},
                                    {"iss": "https://elsewhere.example"},
                                    {"exp": 1_000_000_000}])
def test_oidc_refuses_an_id_token_for_someone_else_or_expired(
        client: FlaskClient, store: Store, idp: Provider, claims: dict[str, Any]) -> None:
    idp.tamper = claims
    assert_refused(client, store, sign_in(client), "invalid_token", "The identity token is not valid")


def test_oidc_refuses_an_account_without_a_cockpit_role(client: FlaskClient, store: Store, idp: Provider) -> None:
    idp.claims = {**PERSON, "roles": ["superuser", "root"]}
    assert_refused(client, store, sign_in(client), "no_role", "This account has no cockpit role")
    assert user_row(store, "u-1001") is None
    assert trail(store, "sign_in_failed")[0]["actor"] == "zhang.wei"


def test_oidc_refuses_a_disabled_user(client: FlaskClient, store: Store) -> None:
    sign_in(client)
    sign_out(client)
    users.disable(store, "zhang.wei")
    answer = sign_in(client)
    assert answer.status_code == 401 and "This account is disabled" in answer.get_data(as_text=True)
    assert client.get("/whoami").status_code == 401
    assert [e["reason"] for e in trail(store, "sign_in_failed")] == ["disabled"]


def test_oidc_with_the_provider_down_shows_the_sign_in_page_not_an_error(store: Store) -> None:
    client = cockpit_server(store, security_for(f"http://127.0.0.1:{free_port()}")).test_client()
    answer = client.get("/login/oidc?next=/map")
    assert_refused(client, store, answer, "provider_unreachable", "The identity provider cannot be reached")


def test_oidc_a_provider_refusal_is_shown_and_audited(client: FlaskClient, store: Store) -> None:
    to_provider(client)
    answer = client.get("/login/oidc/callback?error=access_denied&state=whatever")
    assert_refused(client, store, answer, "provider_error", "The identity provider refused the sign-in")


def test_oidc_button_is_on_the_sign_in_page(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/login/oidc?next=/"' in page and "统一身份认证" in page
    # the page asked for before signing in is carried through the provider's button too
    page = client.get("/login?next=/traffic%3Farea%3DD02").get_data(as_text=True)
    assert 'href="/login/oidc?next=/traffic%3Farea%3DD02"' in page
