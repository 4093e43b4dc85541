"""An OpenID provider for tests, served on a free loopback port in a thread.

It publishes its metadata and keys, auto-approves one configured person at ``/authorize``
(checking the client, the redirect and the PKCE challenge) and answers ``/token`` with an
RS256 id token. A test can make it misbehave the ways an attacker or a broken provider
would: other claims in the token (``tamper``), a token signed by a key it does not publish
(``sign_with``), or a callback that carries another state.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Flask, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server


def new_key(kid: str) -> RSAKey:
    """A fresh RSA signing key named ``kid``."""
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"}, private=True)


@dataclass
class Grant:
    """What ``/authorize`` approved, waiting for the code to be exchanged."""

    redirect_uri: str
    nonce: str | None
    challenge: str
    method: str


@dataclass
class Provider:
    """The provider; :meth:`start` serves it, :attr:`issuer` is its URL."""

    client_id: str
    client_secret: str
    claims: dict[str, Any]                               # the person it signs in (``sub`` included)
    key: RSAKey = field(default_factory=lambda: new_key("test-key"))
    sign_with: RSAKey | None = None                      # sign with another key than the published one
    tamper: dict[str, Any] = field(default_factory=dict)  # claims put over the real ones
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    issuer: str = ""

    def __post_init__(self) -> None:
        self._grants: dict[str, Grant] = {}
        self._tokens: set[str] = set()
        self.app = self._build()

    # --- serving ---
    def start(self) -> Provider:
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    # --- the endpoints ---
    def _build(self) -> Flask:
        app = Flask("oidc_provider")
        app.add_url_rule("/.well-known/openid-configuration", "metadata", self._metadata)
        app.add_url_rule("/authorize", "authorize", self._authorize)
        app.add_url_rule("/token", "token", self._token, methods=["POST"])
        app.add_url_rule("/jwks", "jwks", lambda: jsonify({"keys": [self.key.as_dict(private=False)]}))
        app.add_url_rule("/userinfo", "userinfo", self._userinfo)
        return app

    def _metadata(self) -> Any:
        return jsonify({
            "issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
            "userinfo_endpoint": f"{self.issuer}/userinfo", "response_types_supported": ["code"],
            "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"]})

    def _authorize(self) -> Any:
        args = request.args.to_dict()
        self.authorize_requests.append(args)
        if args.get("client_id") != self.client_id or args.get("response_type") != "code":
            return jsonify({"error": "invalid_request"}), 400
        if not args.get("code_challenge") or args.get("code_challenge_method") != "S256":
            return jsonify({"error": "invalid_request", "error_description": "PKCE required"}), 400
        code = secrets.token_urlsafe(16)
        self._grants[code] = Grant(args["redirect_uri"], args.get("nonce"), args["code_challenge"],
                                   args["code_challenge_method"])
        return redirect(f"{args['redirect_uri']}?{urlencode({'code': code, 'state': args.get('state', '')})}")

    def _client_ok(self) -> bool:
        auth = request.authorization
        if auth is not None:
            return (auth.username, auth.password) == (self.client_id, self.client_secret)
        return (request.form.get("client_id"), request.form.get("client_secret")) == (self.client_id,
                                                                                       self.client_secret)

    def _token(self) -> Any:
        form = request.form.to_dict()
        self.token_requests.append(form)
        if not self._client_ok():
            return jsonify({"error": "invalid_client"}), 401
        grant = self._grants.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if grant is None or grant.redirect_uri != form.get("redirect_uri") or challenge != grant.challenge:
            return jsonify({"error": "invalid_grant"}), 400
        access = secrets.token_urlsafe(24)
        self._tokens.add(access)
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": self.client_id, "iat": now, "exp": now + 300,
                  **({"nonce": grant.nonce} if grant.nonce else {}), **self.claims, **self.tamper}
        signer = self.sign_with or self.key
        id_token = jwt.encode({"alg": "RS256", "kid": signer.kid}, claims, signer)
        return jsonify({"access_token": access, "token_type": "Bearer", "expires_in": 300,
                        "id_token": id_token})

    def _userinfo(self) -> Any:
        auth = request.headers.get("Authorization", "")
        if auth.removeprefix("Bearer ") not in self._tokens:
            return jsonify({"error": "invalid_token"}), 401
        return jsonify(self.claims)
