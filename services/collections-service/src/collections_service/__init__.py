"""collections_service."""
