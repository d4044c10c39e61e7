"""Test support shared by every service: real PostgreSQL and a real Kafka-protocol broker."""
