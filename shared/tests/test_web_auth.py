"""Bearer JWT with roles: the whole accept/refuse matrix, HS256 and JWKS, over a real server."""

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import APIRouter, Depends
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from receivables_platform.settings import ServiceSettings
from receivables_platform.web.app import create_app
from receivables_platform.web.auth import (
    Principal,
    TokenVerifier,
    VerifiedTokens,
    issue_token,
    require_roles,
)
from receivables_platform.web.problems import Problem
from receivables_platform.web.testserver import running_server

SECRET = "auth-test-secret-0123456789abcdef0123"
ISSUER = "https://idp.example.test/"

router = APIRouter()


@router.get("/v1/reviews")
async def reviews(
    principal: Principal = Depends(require_roles("supervisor", "admin")),
) -> dict[str, Any]:
    return {"sub": principal.sub, "roles": sorted(principal.roles)}


def settings(db: str, **jwt_settings: Any) -> ServiceSettings:
    base = {"jwt_secret": None, "jwt_jwks_url": None, "jwt_issuer": None}
    return ServiceSettings(service_name="web-test", database_url=db, **{**base, **jwt_settings})


@pytest.fixture
async def client(platform_db: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings(platform_db, jwt_secret=SECRET), title="auth test", routers=[router])
    async with running_server(app) as url, httpx.AsyncClient(base_url=url) as http:
        yield http


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token(roles: list[str], **kw: Any) -> str:
    return issue_token(kw.pop("secret", SECRET), "user-7", roles, **kw)


REFUSED: dict[str, Callable[[], dict[str, str]]] = {
    "no token": lambda: {},
    "not a JWT": lambda: bearer("not-a-jwt"),
    "basic auth": lambda: {"Authorization": "Basic dXNlcjpwYXNz"},
    "expired": lambda: bearer(token(["admin"], ttl=-120)),
    "wrong key": lambda: bearer(token(["admin"], secret="another-secret-0123456789abcdef0123")),
    "wrong audience": lambda: bearer(token(["admin"], audience="payments")),
    "alg none": lambda: bearer(
        jwt.encode(
            {"sub": "u", "roles": ["admin"], "aud": "receivables", "exp": 4102444800},
            "",
            algorithm="none",
        )
    ),
    "no expiry": lambda: bearer(
        jwt.encode(
            {"sub": "u", "roles": ["admin"], "aud": "receivables"}, SECRET, algorithm="HS256"
        )
    ),
    "valid for longer than a day": lambda: bearer(token(["admin"], ttl=24 * 3600 + 60)),
    "no iat, expiring in two days": lambda: bearer(
        jwt.encode(
            {
                "sub": "u",
                "roles": ["admin"],
                "aud": "receivables",
                "exp": int(time.time()) + 172800,
            },
            SECRET,
            algorithm="HS256",
        )
    ),
    "issued two days ago, expiring in an hour": lambda: bearer(
        jwt.encode(
            {
                "sub": "u",
                "roles": ["admin"],
                "aud": "receivables",
                "iat": int(time.time()) - 172800,
                "exp": int(time.time()) + 3600,
            },
            SECRET,
            algorithm="HS256",
        )
    ),
}


@pytest.mark.parametrize("case", REFUSED)
async def test_a_missing_or_bad_token_is_a_401_problem(
    client: httpx.AsyncClient, case: str
) -> None:
    response = await client.get("/v1/reviews", headers=REFUSED[case]())
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith('Bearer realm="receivables"')
    assert response.json()["status"] == 401


async def test_the_401_says_why(client: httpx.AsyncClient) -> None:
    expired = await client.get("/v1/reviews", headers=bearer(token(["admin"], ttl=-120)))
    assert "expired" in expired.json()["detail"]
    assert 'error="invalid_token"' in expired.headers["www-authenticate"]
    audience = await client.get("/v1/reviews", headers=bearer(token(["admin"], audience="x")))
    assert "audience" in audience.json()["detail"]
    missing = await client.get("/v1/reviews")
    assert "error=" not in missing.headers["www-authenticate"]


async def test_a_token_valid_longer_than_the_limit_is_refused_saying_so(
    client: httpx.AsyncClient,
) -> None:
    too_long = await client.get(
        "/v1/reviews", headers=bearer(token(["admin"], ttl=timedelta(days=30)))
    )
    assert too_long.status_code == 401
    assert "JWT_MAX_LIFETIME_SECONDS" in too_long.json()["detail"]
    assert 'error="invalid_token"' in too_long.headers["www-authenticate"]
    a_day = await client.get("/v1/reviews", headers=bearer(token(["admin"], ttl=24 * 3600)))
    assert a_day.status_code == 200, a_day.text


async def test_the_longest_lifetime_is_configurable(platform_db: str) -> None:
    app = create_app(
        settings(platform_db, jwt_secret=SECRET, jwt_max_lifetime_seconds=600),
        title="short tokens",
        routers=[router],
    )
    async with running_server(app) as url, httpx.AsyncClient(base_url=url) as http:
        hour = await http.get("/v1/reviews", headers=bearer(token(["admin"], ttl=3600)))
        minutes = await http.get("/v1/reviews", headers=bearer(token(["admin"], ttl=600)))
    assert (hour.status_code, minutes.status_code) == (401, 200)
    assert "600 s" in hour.json()["detail"]


@pytest.mark.parametrize("roles", [["collector"], ["case_agent", "integration"], [], ["root"]])
async def test_a_valid_token_without_the_role_is_a_403_problem(
    client: httpx.AsyncClient, roles: list[str]
) -> None:
    response = await client.get("/v1/reviews", headers=bearer(token(roles)))
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "supervisor" in response.json()["detail"]


@pytest.mark.parametrize("roles", [["supervisor"], ["admin"], ["collector", "supervisor"]])
async def test_a_valid_token_with_a_role_gets_in(
    client: httpx.AsyncClient, roles: list[str]
) -> None:
    response = await client.get("/v1/reviews", headers=bearer(token(roles)))
    assert response.status_code == 200, response.text
    assert response.json() == {"sub": "user-7", "roles": sorted(roles)}


@router.get("/v1/worklist")
async def worklist(principal: Principal = Depends(require_roles("collector"))) -> dict[str, Any]:
    return {"roles": sorted(principal.roles)}


async def test_a_representative_is_a_collector_and_a_case_agent_in_one_login(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/v1/worklist", headers=bearer(token(["receivables_rep"])))
    assert response.status_code == 200, response.text
    assert response.json() == {"roles": ["case_agent", "collector", "receivables_rep"]}
    refused = await client.get("/v1/reviews", headers=bearer(token(["receivables_rep"])))
    assert refused.status_code == 403, "a representative is not a supervisor"


async def test_probes_and_metrics_stay_open(client: httpx.AsyncClient) -> None:
    for path in ("/healthz", "/readyz", "/metrics"):
        assert (await client.get(path)).status_code == 200, path


async def test_openapi_shows_the_bearer_scheme(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    assert scheme["bearerFormat"] == "JWT"
    assert spec["paths"]["/v1/reviews"]["get"]["security"] == [{"bearerAuth": []}]


async def test_without_any_key_configured_every_token_is_refused(platform_db: str) -> None:
    app = create_app(settings(platform_db), title="no keys", routers=[router])
    async with running_server(app) as url, httpx.AsyncClient(base_url=url) as http:
        response = await http.get("/v1/reviews", headers=bearer(token(["admin"])))
    assert response.status_code == 401
    assert "JWT_SECRET" in response.json()["detail"]


def test_a_misspelt_role_fails_at_import_time() -> None:
    with pytest.raises(ValueError, match="supervisr"):
        require_roles("supervisr")


class IdentityProvider:
    """Signing keys of a stand-in IdP, and its JWKS served over HTTP."""

    def __init__(self) -> None:
        self.ec_key = ec.generate_private_key(ec.SECP256R1())
        self.rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ec_jwk = ECAlgorithm.to_jwk(self.ec_key.public_key(), as_dict=True)
        rsa_jwk = RSAAlgorithm.to_jwk(self.rsa_key.public_key(), as_dict=True)
        self.jwks = {
            "keys": [
                {**ec_jwk, "kid": "ec-1", "use": "sig", "alg": "ES256"},
                {**rsa_jwk, "kid": "rsa-1", "use": "sig", "alg": "RS256"},
            ]
        }

    def token(self, key: Any, alg: str, kid: str, **claims: Any) -> str:
        now = int(time.time())
        base = {
            "sub": "erp-export",
            "roles": ["supervisor"],
            "aud": "receivables",
            "iss": ISSUER,
            "iat": now,
            "exp": now + 3600,
        }
        return jwt.encode({**base, **claims}, key, algorithm=alg, headers={"kid": kid})


@pytest.fixture
def idp() -> Iterator[tuple[IdentityProvider, str]]:
    provider = IdentityProvider()
    body = json.dumps(provider.jwks).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield provider, f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    server.shutdown()
    server.server_close()


async def test_jwks_tokens_are_verified_by_their_key_id(
    platform_db: str, idp: tuple[IdentityProvider, str]
) -> None:
    provider, jwks_url = idp
    other_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    app = create_app(
        settings(platform_db, jwt_jwks_url=jwks_url, jwt_issuer=ISSUER),
        title="jwks",
        routers=[router],
    )
    cases = {
        "ES256 from the IdP": (provider.token(provider.ec_key, "ES256", "ec-1"), 200),
        "RS256 from the IdP": (provider.token(provider.rsa_key, "RS256", "rsa-1"), 200),
        "RS256 signed by another key": (provider.token(other_rsa, "RS256", "rsa-1"), 401),
        "unknown key id": (provider.token(other_rsa, "RS256", "rsa-9"), 401),
        "other issuer": (provider.token(provider.ec_key, "ES256", "ec-1", iss="https://x/"), 401),
        "HS256 when only JWKS is set": (token(["supervisor"], issuer=ISSUER), 401),
        "IdP token without the role": (
            provider.token(provider.ec_key, "ES256", "ec-1", roles=["collector"]),
            403,
        ),
    }
    async with running_server(app) as url, httpx.AsyncClient(base_url=url) as http:
        results = {
            name: (await http.get("/v1/reviews", headers=bearer(tok))).status_code
            for name, (tok, _) in cases.items()
        }
    assert results == {name: status for name, (_, status) in cases.items()}


# -- verified tokens are remembered until they expire ------------------------------------------


async def test_a_token_verified_once_is_not_verified_again_until_it_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    verifier = TokenVerifier(secret=SECRET, leeway=timedelta(0))
    decoded: list[str] = []
    real_decode = jwt.decode

    def counting_decode(token: str, *args: Any, **kwargs: Any) -> Any:
        decoded.append(token)
        return real_decode(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting_decode)
    short = token(["collector"], ttl=2)
    for _ in range(3):
        assert (await verifier.verify(short)).roles == frozenset({"collector"})
    assert decoded == [short]
    await asyncio.sleep(2.2)
    with pytest.raises(Problem) as expired:
        await verifier.verify(short)
    assert expired.value.status == 401 and "expired" in expired.value.detail


async def test_a_forged_token_is_never_remembered_as_verified() -> None:
    verifier = TokenVerifier(secret=SECRET)
    header, payload, _ = token(["admin"]).split(".")
    other = token(["admin"], secret="another-secret-0123456789abcdef-0").split(".")[2]
    forged = f"{header}.{payload}.{other}"
    for _ in range(2):
        with pytest.raises(Problem) as refused:
            await verifier.verify(forged)
        assert refused.value.status == 401


def test_remembered_callers_are_bounded_and_each_is_kept_at_most_a_minute() -> None:
    verified = VerifiedTokens(size=2, at_most=60)
    caller = Principal("u", frozenset({"collector"}))
    for name in ("a", "b", "c"):
        verified.put(name, caller, expires=10_000, now=0)
    assert verified.get("a", now=1) is None and verified.get("c", now=1) == caller
    assert verified.get("c", now=60) is None  # a day-long token is re-verified after a minute
