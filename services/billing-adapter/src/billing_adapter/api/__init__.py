"""HTTP API of the billing adapter."""
