"""Kafka handlers that keep the read models."""
