"""reporting_service."""
