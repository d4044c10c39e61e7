"""Read-model queries."""
