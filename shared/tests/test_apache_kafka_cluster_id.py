"""The cluster id handed to Kafka's storage tool on its command line."""

from receivables_devkit.infra.apache_kafka import new_cluster_id


def test_a_cluster_id_is_never_read_as_an_option() -> None:
    # one random id in 64 starts with "-"; a thousand draws meet one almost surely
    ids = {new_cluster_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert not [cid for cid in ids if cid.startswith("-")]
    assert all(len(cid) == 22 for cid in ids)
