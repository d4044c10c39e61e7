"""HTTP conventions every service follows (docs/architecture.md#http)."""
