"""Billing domain: pure aggregates, no IO."""
