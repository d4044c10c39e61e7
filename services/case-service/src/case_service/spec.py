"""How the platform runs case service: name, port, database, routers and workers."""

from pathlib import Path

from receivables_platform.service import ServiceSpec

SPEC = ServiceSpec(
    name="case-service",
    title="Case service",
    default_port=8103,
    database="cases",
    versions_dir=Path(__file__).parent / "migrations" / "versions",
)
