"""Settings every service reads from its environment (docs/architecture.md#names)."""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600


class KafkaSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KAFKA_", extra="ignore")

    bootstrap_servers: str | None = None
    """Comma-separated `host:port` of the Kafka brokers; unset under `make run`, where the
    embedded broker is started instead."""
    security_protocol: str = "PLAINTEXT"
    """`PLAINTEXT`, `SSL`, `SASL_PLAINTEXT` or `SASL_SSL`: how clients reach the brokers."""
    sasl_mechanism: str | None = None
    """`PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512` when the brokers authenticate clients."""
    sasl_username: str | None = None
    """The SASL user the services connect as."""
    sasl_password: str | None = None
    """The SASL user's password (put it in a secret)."""
    # TLS (security_protocol SSL or SASL_SSL): the system's CAs unless a CA file is given;
    # a client certificate and key for brokers that want mutual TLS.
    ssl_cafile: str | None = None
    """PEM file of the CA that signed the brokers' certificates; unset: the system's CAs."""
    ssl_certfile: str | None = None
    """PEM client certificate, for brokers that require mutual TLS."""
    ssl_keyfile: str | None = None
    """PEM private key of the client certificate."""
    # Topics the platform creates (existing ones are left as configured): 1 replica suits the
    # one-node dev brokers; a production cluster wants 3 and min.insync.replicas 2, so that
    # an acks=all write survives losing one broker and is refused rather than kept on one.
    topic_partitions: int = Field(3, gt=0)
    """Partitions of each topic the platform creates; one account's events stay in one."""
    replication_factor: int = Field(1, gt=0)
    """Replicas of each topic the platform creates: 1 for a one-node dev broker, 3 in
    production."""
    min_insync_replicas: int | None = Field(None, gt=0)
    """Unset: the broker's default (1)."""

    @model_validator(mode="after")
    def _insync_within_replicas(self) -> KafkaSettings:
        if (
            self.min_insync_replicas is not None
            and self.min_insync_replicas > self.replication_factor
        ):
            raise ValueError(
                f"KAFKA_MIN_INSYNC_REPLICAS={self.min_insync_replicas} is above "
                f"KAFKA_REPLICATION_FACTOR={self.replication_factor}: every "
                "acks=all write would be refused"
            )
        return self

    def client_options(self) -> dict[str, object]:
        """Connection options shared by producers, consumers and admin clients."""
        opts: dict[str, object] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
        }
        if self.security_protocol.upper() in ("SSL", "SASL_SSL"):
            from aiokafka.helpers import create_ssl_context

            opts["ssl_context"] = create_ssl_context(
                cafile=self.ssl_cafile, certfile=self.ssl_certfile, keyfile=self.ssl_keyfile
            )
        if self.sasl_mechanism:
            opts.update(
                sasl_mechanism=self.sasl_mechanism,
                sasl_plain_username=self.sasl_username,
                sasl_plain_password=self.sasl_password,
            )
        return opts


DEFAULT_RELAY_PASS_INTERVAL = 0.01
"""Seconds at least between the outbox relay's passes while commits keep coming."""


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    service_name: str = "receivables"
    """The service's name in logs, traces and as the consumer group; each service sets its own."""
    database_url: str | None = None
    """`postgresql://user:password@host:5432/db` of the service's own database; unset under
    `make run`, where the embedded PostgreSQL is started instead."""
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    jwt_secret: str | None = None
    """HS256 key that verifies bearer tokens (development and tests); use JWT_JWKS_URL in
    deployments."""
    jwt_jwks_url: str | None = None
    """The identity provider's JWKS URL: bearer tokens are verified against its public keys."""
    jwt_audience: str = "receivables"
    """The `aud` a bearer token must carry."""
    jwt_issuer: str | None = None
    """The `iss` a bearer token must carry; unset: any issuer the keys verify."""
    jwt_max_lifetime_seconds: int = Field(MAX_TOKEN_LIFETIME_SECONDS, gt=0)
    """Tokens valid for longer (from `iat`, or from now without it, to `exp`) are refused."""
    log_level: str = "INFO"
    """`DEBUG`, `INFO`, `WARNING` or `ERROR`: the least severe JSON log line written."""
    smtp_url: str | None = None
    """Outgoing email: `smtp://user:password@host:587?from=ar@example.com&starttls=true`, or
    `smtps://` for implicit TLS on 465; unset: nothing is emailed."""
    object_store_url: str | None = None
    """Files (attachments) in S3-compatible storage, `s3://bucket?endpoint=...`; unset, in the
    service's PostgreSQL database."""
    http_host: str = "127.0.0.1"
    """The address the API listens on: `0.0.0.0` in a container."""
    http_port: int | None = None
    """The API's port; unset: the service's documented dev port (8101 to 8104)."""
    run_relay: bool = True
    """Run the outbox relay in this process; false when it runs as a deployment of its own."""
    relay_pass_interval: float = Field(DEFAULT_RELAY_PASS_INTERVAL, ge=0.0, le=1.0)
    """Seconds at least between two publishing passes of the outbox relay while commits keep
    coming (the first after a quiet spell goes at once): events go out, and reach every
    consumer, in batches rather than one a pass, and while the passes find several commits
    each, the commits skip their NOTIFY. 0: a pass for every commit's wake-up, the lowest
    latency at several times the CPU an event."""
    run_consumers: bool = True
    """Run the topic consumers and background work in this process; false for an API-only
    deployment."""
    database_pool_size: int = Field(20, ge=1, le=500)
    """Connections each API process may hold (DATABASE_POOL_SIZE). Every replica and every
    `WEB_CONCURRENCY` process has its own pool, so the database sees replicas x processes x
    this, plus a few for the relay and consumers: keep it under the server's max_connections
    (or put PgBouncer in session mode in front, see docs/operations/connections.md)."""
    http_root_path: str = Field("", pattern=r"^(/[A-Za-z0-9._~-]+)*$")
    """The path prefix a shared ingress serves this API under (HTTP_ROOT_PATH, e.g.
    `/billing`): requests arrive with or without it, and the OpenAPI names it as the server."""
    consumer_group: str | None = Field(default=None, min_length=1, max_length=200)
    """The consumer group's base name (default: the service name). A second deployment that
    reads the same topics into a database of its own (a staging copy, a whole-system test)
    needs its own group, or it takes partitions from the first."""
    web_concurrency: int = Field(1, ge=1, le=64)
    """Processes serving the API on the one port (uvicorn's `WEB_CONCURRENCY`), each a whole
    service process: see `web_processes`."""
