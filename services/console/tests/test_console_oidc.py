"""Sign-in at an identity provider: OIDC authorization code with PKCE (S256), for real.

A small OpenID provider runs on loopback (discovery, authorize, token, JWKS; RS256
keys made for the test) and checks what a real one checks: the client, the
redirect URI, and that the code verifier hashes to the challenge given at
authorize. The console, configured with its issuer, is driven through the whole
redirect dance; the person it signs in is the one in the ID token, with its roles,
and the access token it keeps is the provider's.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import uvicorn
from authlib.jose import JsonWebKey, jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from console_service.app import create_app
from console_service.settings import ConsoleSettings
from receivables_devkit.infra.ports import free_port

CLIENT_ID, CLIENT_SECRET = "console", "console-secret"
PERSON = {"sub": "ana.ruiz", "name": "Ana Ruiz", "roles": ["case_agent", "supervisor"]}


@dataclass
class Provider:
    """What the provider saw, for the test to check: the PKCE of each authorization."""

    issuer: str
    key: Any
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    challenges: list[tuple[str, str]] = field(default_factory=list)
    verified: list[bool] = field(default_factory=list)

    def sign(self, claims: dict[str, Any]) -> str:
        header = {"alg": "RS256", "kid": "test-key"}
        return jwt.encode(header, claims, self.key).decode()

    def app(self) -> FastAPI:
        app = FastAPI()
        public = JsonWebKey.import_key(
            self.key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
            {"kty": "RSA", "kid": "test-key", "use": "sig", "alg": "RS256"},
        )

        @app.get("/.well-known/openid-configuration")
        async def discovery() -> dict[str, Any]:
            return {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
            }

        @app.get("/jwks")
        async def jwks() -> dict[str, Any]:
            return {"keys": [public.as_dict()]}

        @app.get("/authorize")
        async def authorize(request: Request) -> Response:
            q = request.query_params
            if q.get("client_id") != CLIENT_ID or q.get("response_type") != "code":
                return JSONResponse({"error": "unauthorized_client"}, status_code=400)
            self.challenges.append(
                (q.get("code_challenge", ""), q.get("code_challenge_method", ""))
            )
            code = secrets.token_urlsafe(16)
            self.codes[code] = {
                "challenge": q.get("code_challenge", ""),
                "nonce": q.get("nonce", ""),
                "redirect_uri": q.get("redirect_uri", ""),
            }
            # The person has signed in and consented at the provider.
            return RedirectResponse(
                f"{q['redirect_uri']}?" + urlencode({"code": code, "state": q.get("state", "")}),
                status_code=302,
            )

        @app.post("/token")
        async def token(
            request: Request,
            grant_type: str = Form(""),
            code: str = Form(""),
            redirect_uri: str = Form(""),
            code_verifier: str = Form(""),
        ) -> Response:
            form = await request.form()
            basic = request.headers.get("authorization", "")
            sent = (
                base64.b64decode(basic[6:]).decode()
                if basic.startswith("Basic ")
                else f"{form.get('client_id')}:{form.get('client_secret')}"
            )
            grant = self.codes.pop(code, None)
            if sent != f"{CLIENT_ID}:{CLIENT_SECRET}":
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            if (
                grant_type != "authorization_code"
                or grant is None
                or grant["redirect_uri"] != redirect_uri
            ):
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            hashed = (
                base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest())
                .rstrip(b"=")
                .decode()
            )
            self.verified.append(hashed == grant["challenge"])
            if hashed != grant["challenge"]:
                return JSONResponse(
                    {"error": "invalid_grant", "error_description": "PKCE verification failed"},
                    status_code=400,
                )
            now = int(time.time())
            access = self.sign(
                {"iss": self.issuer, "aud": "receivables", "iat": now, "exp": now + 600, **PERSON}
            )
            id_token = self.sign(
                {
                    "iss": self.issuer,
                    "aud": CLIENT_ID,
                    "iat": now,
                    "exp": now + 600,
                    "nonce": grant["nonce"],
                    **PERSON,
                }
            )
            return JSONResponse(
                {
                    "access_token": access,
                    "id_token": id_token,
                    "token_type": "Bearer",
                    "expires_in": 600,
                }
            )

        return app


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    port = free_port()
    found = Provider(
        f"http://127.0.0.1:{port}", rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    server = uvicorn.Server(
        uvicorn.Config(
            found.app(), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the provider did not start"
        time.sleep(0.05)
    try:
        yield found
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def console_for(provider: Provider) -> httpx.AsyncClient:
    settings = ConsoleSettings.model_validate(
        {
            "oidc_issuer": provider.issuer,
            "oidc_client_id": CLIENT_ID,
            "oidc_client_secret": CLIENT_SECRET,
            "CONSOLE_PUBLIC_URL": "http://127.0.0.1:8100",
        }
    )
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(settings)), base_url="http://127.0.0.1:8100"
    )


async def to_provider_and_back(console: httpx.AsyncClient) -> tuple[str, dict[str, list[str]]]:
    """The browser's part: follow the console to the provider and the provider back."""
    start = await console.get("/sign-in/oidc")
    assert start.status_code == 302, start.text
    authorize = start.headers["location"]
    assert authorize.startswith(console_provider_prefix(authorize))
    async with httpx.AsyncClient() as browser:
        back = await browser.get(authorize)
    assert back.status_code == 302, back.text
    returned = back.headers["location"]
    return returned, parse_qs(urlsplit(authorize).query)


def console_provider_prefix(url: str) -> str:
    return f"{urlsplit(url).scheme}://{urlsplit(url).netloc}/authorize?"


async def test_sign_in_with_code_and_pkce_at_the_identity_provider(provider: Provider):
    async with console_for(provider) as console:
        callback, asked = await to_provider_and_back(console)
        assert asked["code_challenge_method"] == ["S256"]
        assert len(asked["code_challenge"][0]) == 43, "a SHA-256 challenge, not the verifier"
        assert asked["redirect_uri"] == ["http://127.0.0.1:8100/auth/callback"]
        assert {"openid", "profile", "email"} <= set(asked["scope"][0].split())
        done = await console.get(urlsplit(callback).path + "?" + urlsplit(callback).query)
        assert done.status_code == 303 and done.headers["location"] == "/", done.text
        assert provider.verified[-1] is True, "the provider checked the code verifier"

        page = await console.get("/sign-in")
        assert "Ana Ruiz" in page.text, "signed in as the ID token's person"
        session = await signed_in_session(console)
        assert session["sub"] == "ana.ruiz"
        assert session["roles"] == ["case_agent", "supervisor"]
        claims = jwt.decode(session["token"], provider.key.public_key())
        assert claims["iss"] == provider.issuer and claims["aud"] == "receivables"


async def test_a_callback_that_is_not_this_browsers_is_refused(provider: Provider):
    """A code delivered with another state (a forged or replayed callback) signs nobody in,
    and an attacker's code cannot be redeemed without the verifier the console kept."""
    async with console_for(provider) as console:
        callback, _ = await to_provider_and_back(console)
        query = parse_qs(urlsplit(callback).query)
        forged = await console.get(
            "/auth/callback?" + urlencode({"code": query["code"][0], "state": "not-the-state"})
        )
        assert forged.status_code == 400 and "text/html" in forged.headers["content-type"]
        assert "Ana Ruiz" not in (await console.get("/sign-in")).text

    # A code intercepted on its way to the victim, replayed in the attacker's own flow
    # (their state, their verifier): the provider refuses it, the verifier does not match.
    async with console_for(provider) as victim, console_for(provider) as attacker:
        intercepted, _ = await to_provider_and_back(victim)
        code = parse_qs(urlsplit(intercepted).query)["code"][0]
        own = await attacker.get("/sign-in/oidc")
        state = parse_qs(urlsplit(own.headers["location"]).query)["state"][0]
        answer = await attacker.get("/auth/callback?" + urlencode({"code": code, "state": state}))
        assert answer.status_code == 400, answer.text
        assert provider.verified[-1] is False, "refused by the PKCE check"
        assert "Ana Ruiz" not in (await attacker.get("/sign-in")).text


async def signed_in_session(console: httpx.AsyncClient) -> dict[str, Any]:
    """The session as the console reads it (the cookie is signed, not encrypted)."""
    [cookie] = [c for c in console.cookies.jar if c.name == "rx_console"]
    payload = cookie.value.split(".", 1)[0]
    data: dict[str, Any] = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    return data
