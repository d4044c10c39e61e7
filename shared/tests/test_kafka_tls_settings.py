"""KAFKA_SECURITY_PROTOCOL SSL or SASL_SSL: every Kafka client gets a TLS context."""

import ssl

import pytest

from receivables_platform.settings import KafkaSettings


def test_plaintext_has_no_tls_context() -> None:
    assert "ssl_context" not in KafkaSettings(bootstrap_servers="k:9092").client_options()


def test_sasl_ssl_verifies_with_the_system_cas(monkeypatch) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "svc")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "pw")
    opts = KafkaSettings(bootstrap_servers="k:9093").client_options()
    context = opts["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert opts["sasl_mechanism"] == "SCRAM-SHA-512" and opts["sasl_plain_username"] == "svc"


def test_a_ca_file_that_does_not_exist_is_refused(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SSL")
    monkeypatch.setenv("KAFKA_SSL_CAFILE", str(tmp_path / "missing-ca.pem"))
    # a missing CA file must not quietly fall back on the system's CAs
    with pytest.raises(FileNotFoundError):
        KafkaSettings(bootstrap_servers="k:9093").client_options()
