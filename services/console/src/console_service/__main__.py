"""`python -m console_service`: serve the console (no database, nothing to migrate)."""

from __future__ import annotations

import uvicorn

from console_service.app import create_app
from console_service.settings import ConsoleSettings
from receivables_platform.observability.logging import configure_logging


def main() -> None:
    settings = ConsoleSettings()
    configure_logging("console", settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.port,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
