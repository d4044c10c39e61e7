"""case_service."""
