"""Where attachment bytes live: PostgreSQL by default, S3-compatible storage in deployments.

Both keep a file under its SHA-256, computed here from the bytes and never taken from
the caller, so a key always names the same content: storing it again is a no-op and
the same PDF mailed to three cases is kept once. Which store a process uses is
`OBJECT_STORE_URL`: unset, the `attachment_blobs` table of the case database (written
in the caller's transaction, so a refused email leaves no bytes behind); set, a bucket:

    s3://BUCKET[/PREFIX]?endpoint=https://host:port&region=eu-west-1

The endpoint may be left out for AWS itself. Credentials come from the SDK's own
chain (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, a web identity on Kubernetes),
or `s3://KEY:SECRET@BUCKET` for a local server. The bucket is the deployment's to
create. boto3 is synchronous, so its calls run on a worker thread.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import asyncpg


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FileStore(Protocol):
    async def put(self, data: bytes) -> str:
        """Keep `data`; its SHA-256 (hex), the key to read it back by."""

    async def get(self, sha256: str) -> bytes | None:
        """The bytes kept under `sha256`, or None when there are none."""


class PostgresFileStore:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def put(self, data: bytes) -> str:
        digest = sha256_of(data)
        # Content-addressed: a row already there holds these very bytes, so a second
        # writer of the same file has nothing to add (unlike an event, nothing is lost).
        await self.conn.execute(
            "INSERT INTO attachment_blobs (sha256, content, size_bytes) VALUES ($1, $2, $3) "
            "ON CONFLICT (sha256) DO NOTHING",
            digest,
            data,
            len(data),
        )
        return digest

    async def get(self, sha256: str) -> bytes | None:
        content = await self.conn.fetchval(
            "SELECT content FROM attachment_blobs WHERE sha256 = $1", sha256
        )
        return bytes(content) if content is not None else None


@dataclass(frozen=True)
class ObjectStoreLocation:
    bucket: str
    prefix: str
    endpoint: str | None
    region: str | None
    access_key: str | None
    secret_key: str | None

    @classmethod
    def parse(cls, url: str) -> ObjectStoreLocation:
        """`OBJECT_STORE_URL` read; ValueError naming what is wrong with it."""
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.hostname:
            raise ValueError(
                "OBJECT_STORE_URL must look like s3://bucket[/prefix]"
                "[?endpoint=https://host:port&region=...]"
            )
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        unknown = set(query) - {"endpoint", "region"}
        if unknown:
            raise ValueError(f"OBJECT_STORE_URL has unknown options: {sorted(unknown)}")
        endpoint = query.get("endpoint")
        if endpoint and urlsplit(endpoint).scheme not in ("http", "https"):
            raise ValueError("OBJECT_STORE_URL endpoint must be an http(s) URL")
        prefix = parts.path.strip("/")
        return cls(
            bucket=parts.hostname,
            prefix=f"{prefix}/" if prefix else "",
            endpoint=endpoint,
            region=query.get("region"),
            access_key=unquote(parts.username) if parts.username else None,
            secret_key=unquote(parts.password) if parts.password else None,
        )

    def key(self, sha256: str) -> str:
        """Fanned out by the first two hex digits, as git does, so no listing is huge."""
        return f"{self.prefix}sha256/{sha256[:2]}/{sha256}"


@lru_cache(maxsize=8)
def _client(location: ObjectStoreLocation) -> Any:
    """One client per location: boto3 clients are thread-safe and costly to make."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "s3",
        endpoint_url=location.endpoint,
        region_name=location.region or "us-east-1",
        aws_access_key_id=location.access_key,
        aws_secret_access_key=location.secret_key,
        config=Config(
            retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30
        ),
    )


class S3FileStore:
    def __init__(self, location: ObjectStoreLocation) -> None:
        self.location = location

    async def put(self, data: bytes) -> str:
        digest = sha256_of(data)
        await asyncio.to_thread(
            _client(self.location).put_object,
            Bucket=self.location.bucket,
            Key=self.location.key(digest),
            Body=data,
            ContentLength=len(data),
        )
        return digest

    async def get(self, sha256: str) -> bytes | None:
        return await asyncio.to_thread(self._read, sha256)

    def _read(self, sha256: str) -> bytes | None:
        client = _client(self.location)
        try:
            answer = client.get_object(Bucket=self.location.bucket, Key=self.location.key(sha256))
        except client.exceptions.NoSuchKey:
            return None
        body: bytes = answer["Body"].read()
        return body


def file_store(conn: asyncpg.Connection, object_store_url: str | None) -> FileStore:
    """The store `OBJECT_STORE_URL` names; `conn` is the PostgreSQL one when it is unset."""
    if object_store_url:
        return S3FileStore(ObjectStoreLocation.parse(object_store_url))
    return PostgresFileStore(conn)
