"""Reporting domain: metric definitions (docs/architecture.md#metrics), pure."""
