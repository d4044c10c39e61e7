"""receivables_platform."""
