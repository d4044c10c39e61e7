"""The relay's remembered partitioner picks exactly the partitions the Java client would."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner

from receivables_platform.ids import new_id
from receivables_platform.relay.broker import partition_for


def test_same_partition_as_the_default_for_every_key_and_partition_count() -> None:
    keys = [str(new_id()).encode() for _ in range(500)] + [b"", b"acct-9", "é".encode()]
    for count in (1, 3, 6, 12):
        partitions = list(range(count))
        for key in keys:
            expected = DefaultPartitioner()(key, partitions, partitions)
            assert partition_for(key, partitions, partitions) == expected
            assert partition_for(key, partitions, partitions) == expected  # remembered


def test_a_keyless_record_goes_to_an_available_partition() -> None:
    assert partition_for(None, [0, 1, 2], [2]) == 2
