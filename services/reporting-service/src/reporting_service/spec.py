"""How the platform runs reporting service: name, port, database, routers and workers."""

from pathlib import Path

from receivables_platform.service import ServiceSpec
from reporting_service.api.aging import router as aging

SPEC = ServiceSpec(
    name="reporting-service",
    title="Reporting service",
    default_port=8104,
    database="reporting",
    versions_dir=Path(__file__).parent / "migrations" / "versions",
    routers=[aging],
)
