"""How the platform runs billing adapter: name, port, database, routers and workers."""

from pathlib import Path

from receivables_platform.service import ServiceSpec

SPEC = ServiceSpec(
    name="billing-adapter",
    title="Billing adapter",
    default_port=8101,
    database="billing",
    versions_dir=Path(__file__).parent / "migrations" / "versions",
)
