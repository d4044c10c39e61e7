"""billing_adapter."""
