"""How the platform runs collections service: name, port, database, routers and workers."""

from pathlib import Path

from receivables_platform.service import ServiceSpec

SPEC = ServiceSpec(
    name="collections-service",
    title="Collections service",
    default_port=8102,
    database="collections",
    versions_dir=Path(__file__).parent / "migrations" / "versions",
)
