"""Bearer JWT authentication with roles (docs/architecture.md#http and #names).

Tokens come from the team's identity provider (RS256/ES256, keys from
`JWT_JWKS_URL`) or, in dev and tests, from `issue_token` with the shared
`JWT_SECRET` (HS256). When both are configured both are accepted; the token's
`alg` header picks the key, and each key only verifies its own algorithms, so
an RSA public key can never be used as an HMAC secret.

Routes declare who may call them with `require_roles(...)`; the principal is
resolved once per request and kept on `request.state`, so idempotency and
logging see the same caller the role check saw. The role check is itself the
bearer security scheme (`RoleBearer`), one dependency with no sub-dependencies:
FastAPI solves each level of a dependency chain on every request, and solving
the chain it replaced (role check, an `authenticate` dependency, `HTTPBearer`)
was most of the quarter of a billing read's CPU that dependencies took (issue
23). The OpenAPI document declares `bearerAuth` as before.

A client sends the same token on every request until it expires, and checking
its signature is most of what authentication costs, so a verified token is
remembered (`VerifiedTokens`): until it expires, and at most a minute, so a
signing key withdrawn from the identity provider stops working within that.

A token is a bearer credential nobody can take back before it expires, so a
leaked one is only as harmless as its lifetime is short: tokens valid for longer
than `JWT_MAX_LIFETIME_SECONDS` (24 h by default) are refused, however they were
signed, and one without `exp` never verifies.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from fastapi import Request
from fastapi.security import HTTPBearer

from receivables_platform.remembered import Remembered
from receivables_platform.settings import MAX_TOKEN_LIFETIME_SECONDS, ServiceSettings
from receivables_platform.web.problems import Problem, problem_type

TEAM_ROLE_PREFIX = "team:"
TEAMS = ("service", "installation", "operations", "billing_operations")
TEAM_ROLES = frozenset(f"{TEAM_ROLE_PREFIX}{team}" for team in TEAMS)
"""A member of an internal team (the escalation teams of a case) holds `team:<team>` in the
token's `roles`: the identity provider's group for that team maps to the role. It opens the
team's escalation inbox and nothing else; a person in two teams holds both."""
ROLES = (
    frozenset({"collector", "case_agent", "supervisor", "integration", "admin", "receivables_rep"})
    | TEAM_ROLES
)
# Admin first, the rest sorted: the order a sign-in form or a dev token lists them in.
ROLES_ADMIN_FIRST = ("admin", *sorted(ROLES - {"admin"}))
ROLE_INCLUDES: dict[str, frozenset[str]] = {
    "receivables_rep": frozenset({"collector", "case_agent"}),
}
"""One person, one login: a representative works the past-due accounts and the billing cases
they lead to, so the role carries both. Expanded where the token is read, so every route and
every ownership rule sees the roles it already knows."""
HMAC_ALGORITHMS = ("HS256",)
JWKS_ALGORITHMS = ("RS256", "ES256")
REALM = "receivables"
MAX_TOKEN_LIFETIME = timedelta(seconds=MAX_TOKEN_LIFETIME_SECONDS)

BEARER_SCHEME = "bearerAuth"
BEARER_DESCRIPTION = (
    "JWT with `sub` and `roles` (collector, case_agent, supervisor, integration, admin)"
)
bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name=BEARER_SCHEME,
    bearerFormat="JWT",
    description=BEARER_DESCRIPTION,
)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user or an integration, with the roles the token grants."""

    sub: str
    roles: frozenset[str]

    def has_any(self, roles: Iterable[str]) -> bool:
        return not self.roles.isdisjoint(roles)

    @property
    def teams(self) -> frozenset[str]:
        """The internal teams whose inbox this caller works (from their `team:*` roles)."""
        return frozenset(r.removeprefix(TEAM_ROLE_PREFIX) for r in self.roles & TEAM_ROLES)


def unauthorized(detail: str, *, invalid_token: bool = True) -> Problem:
    """401 with the RFC 6750 challenge, so clients know to fetch a (new) token."""
    challenge = f'Bearer realm="{REALM}"'
    if invalid_token:
        description = "".join(c for c in detail if " " <= c <= "~" and c not in '"\\')
        challenge += f', error="invalid_token", error_description="{description}"'
    return Problem(
        401,
        "Unauthorized",
        detail,
        type=problem_type("unauthenticated"),
        headers={"WWW-Authenticate": challenge},
    )


class VerifiedTokens:
    """The callers of recently verified tokens, each until its token expires (bounded LRU)."""

    def __init__(self, size: int = 4096, at_most: float = 60.0) -> None:
        self.size, self.at_most = size, at_most
        self._callers: Remembered[str, tuple[Principal, float]] = Remembered(size)

    def get(self, token: str, now: float) -> Principal | None:
        found = self._callers.get(token)
        if found is None:
            return None
        principal, until = found
        if now >= until:
            self._callers.forget(token)
            return None
        return principal

    def put(self, token: str, principal: Principal, expires: float, now: float) -> None:
        self._callers.put(token, (principal, min(expires, now + self.at_most)))


class TokenVerifier:
    def __init__(
        self,
        *,
        secret: str | None = None,
        jwks_url: str | None = None,
        audience: str = "receivables",
        issuer: str | None = None,
        leeway: timedelta = timedelta(seconds=30),
        max_lifetime: timedelta = MAX_TOKEN_LIFETIME,
    ) -> None:
        self.secret = secret or None
        self.jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300) if jwks_url else None
        self.audience, self.issuer, self.leeway = audience, issuer, leeway
        self.max_lifetime = max_lifetime
        self.verified = VerifiedTokens()

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> TokenVerifier:
        return cls(
            secret=settings.jwt_secret,
            jwks_url=settings.jwt_jwks_url,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            max_lifetime=timedelta(seconds=settings.jwt_max_lifetime_seconds),
        )

    @property
    def configured(self) -> bool:
        return self.secret is not None or self.jwks is not None

    async def verify(self, token: str) -> Principal:
        """The caller, or a 401 problem saying why the token is refused."""
        if not self.configured:
            raise unauthorized("this service has neither JWT_SECRET nor JWT_JWKS_URL set")
        now = time.time()
        known = self.verified.get(token, now)
        if known is not None:
            return known
        try:
            alg = jwt.get_unverified_header(token).get("alg")
        except jwt.PyJWTError:
            raise unauthorized("the bearer token is not a JWT") from None
        key = await self._key_for(str(alg), token)
        claims = self._decode(token, key, str(alg))
        self._check_lifetime(claims, now)
        principal = _principal(claims)
        self.verified.put(token, principal, float(claims["exp"]) + self.leeway.total_seconds(), now)
        return principal

    async def _key_for(self, alg: str, token: str) -> Any:
        if alg in HMAC_ALGORITHMS and self.secret is not None:
            return self.secret
        if alg in JWKS_ALGORITHMS and self.jwks is not None:
            return await self._jwks_key(self.jwks, token)
        raise unauthorized(f"tokens signed with {alg} are not accepted here")

    async def _jwks_key(self, jwks: jwt.PyJWKClient, token: str) -> Any:
        """PyJWKClient fetches with blocking urllib: keep it off the event loop."""
        try:
            signing_key = await asyncio.to_thread(jwks.get_signing_key_from_jwt, token)
        except jwt.PyJWKClientConnectionError:
            raise Problem(
                503, "Service Unavailable", "the identity provider's signing keys cannot be fetched"
            ) from None
        except jwt.PyJWTError:
            raise unauthorized("the token's signing key is unknown") from None
        return signing_key.key

    def _decode(self, token: str, key: Any, alg: str) -> dict[str, Any]:
        required = ["exp", "sub", "aud"] + (["iss"] if self.issuer else [])
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": required},
            )
        except jwt.ExpiredSignatureError:
            raise unauthorized("the token has expired") from None
        except jwt.InvalidAudienceError:
            raise unauthorized(f"the token is not for audience {self.audience!r}") from None
        except jwt.InvalidIssuerError:
            raise unauthorized("the token is from another issuer") from None
        except jwt.InvalidSignatureError:
            raise unauthorized("the token's signature does not verify") from None
        except jwt.PyJWTError as exc:
            raise unauthorized(f"the token is invalid: {exc}") from None

    def _check_lifetime(self, claims: dict[str, Any], now: float) -> None:
        """From `iat` to `exp`, or from now when the issuer left `iat` out (decoding has
        already proved both are numbers and that `iat` is not in the future)."""
        issued = int(claims["iat"]) if "iat" in claims else now
        lifetime = int(claims["exp"]) - issued
        limit = self.max_lifetime.total_seconds()
        if lifetime > limit:
            raise unauthorized(
                f"the token is valid for {lifetime:.0f} s, longer than the "
                f"{limit:.0f} s this service accepts (JWT_MAX_LIFETIME_SECONDS)"
            )


def _principal(claims: dict[str, Any]) -> Principal:
    """Unknown role names are dropped, so a new IdP role never grants anything here."""
    sub, roles = claims.get("sub"), claims.get("roles", [])
    if not isinstance(sub, str) or not sub:
        raise unauthorized("the token has no subject")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise unauthorized("the token's roles claim is not a list of names")
    held = frozenset(roles) & ROLES
    return Principal(sub=sub, roles=held.union(*(ROLE_INCLUDES.get(r, ()) for r in held)))


def token_verifier(request: Request) -> TokenVerifier:
    verifier = getattr(request.app.state, "token_verifier", None)
    if verifier is None:
        raise RuntimeError("no token verifier on the app: build it with create_app")
    assert isinstance(verifier, TokenVerifier)
    return verifier


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (scheme case-insensitive)."""
    authorization = request.headers.get("authorization")
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


async def caller(request: Request) -> Principal:
    """Any valid token's caller, verified once per request (idempotency keys are per caller)."""
    known = getattr(request.state, "principal", None)
    if isinstance(known, Principal):
        return known
    token = bearer_token(request)
    if token is None:
        raise unauthorized("a bearer token is required", invalid_token=False)
    principal = await token_verifier(request).verify(token)
    request.state.principal = principal
    return principal


class RoleBearer(HTTPBearer):
    """The bearer scheme that also checks the caller's roles: one dependency, no chain.

    An instance of FastAPI's `HTTPBearer`, so the OpenAPI document declares the same
    `bearerAuth` scheme on every route that uses it; called, it verifies the token and
    answers 401 or 403 itself instead of handing credentials down a chain."""

    def __init__(self, roles: frozenset[str]) -> None:
        super().__init__(
            auto_error=False,
            scheme_name=BEARER_SCHEME,
            bearerFormat="JWT",
            description=BEARER_DESCRIPTION,
        )
        self.roles = roles
        self.__name__ = f"require_{'_or_'.join(sorted(roles))}"

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        principal = await caller(request)
        if not principal.has_any(self.roles):
            raise Problem(
                403,
                "Forbidden",
                f"this needs one of the roles {', '.join(sorted(self.roles))}; "
                f"the token has {', '.join(sorted(principal.roles)) or 'none'}",
                type=problem_type("forbidden"),
                headers={"WWW-Authenticate": f'Bearer realm="{REALM}", error="insufficient_scope"'},
            )
        return principal


def require_roles(*roles: str) -> RoleBearer:
    """Dependency: the caller, who must hold at least one of `roles`, else 403."""
    unknown = set(roles) - ROLES
    if unknown or not roles:
        raise ValueError(f"require_roles needs roles from {sorted(ROLES)}, got {sorted(roles)}")
    return RoleBearer(frozenset(roles))


def issue_token(
    secret: str,
    sub: str,
    roles: Iterable[str],
    ttl: timedelta | int = 3600,
    *,
    audience: str = "receivables",
    issuer: str | None = None,
    now: datetime | None = None,
) -> str:
    """An HS256 token the services accept with the same JWT_SECRET: dev stack and tests."""
    issued = now or datetime.now(UTC)
    lifetime = ttl if isinstance(ttl, timedelta) else timedelta(seconds=ttl)
    claims: dict[str, Any] = {
        "sub": sub,
        "roles": list(roles),
        "aud": audience,
        "iat": issued,
        "exp": issued + lifetime,
    }
    if issuer:
        claims["iss"] = issuer
    return jwt.encode(claims, secret, algorithm="HS256")
