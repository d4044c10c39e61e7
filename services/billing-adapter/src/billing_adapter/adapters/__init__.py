"""Store, repositories and lookups of the billing adapter."""
