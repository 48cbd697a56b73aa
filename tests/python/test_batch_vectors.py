"""kafka-python reads the record batches mockafka writes.

The files under crates/mockafka-protocol/tests/vectors/mockafka/ are written by mockafka's
encoder (the Rust test tests/it/vectors.rs asserts it still writes them byte for byte).
Here kafka-python's own DefaultRecordBatch, with the codecs' C libraries, decodes each one:
CRC, header fields and every record must match records_spec.py.
"""

import sys
from pathlib import Path

import pytest
from kafka.record.default_records import DefaultRecordBatch
from kafka.record.memory_records import MemoryRecords

VECTORS = Path(__file__).resolve().parents[2] / "crates/mockafka-protocol/tests/vectors"
sys.path.insert(0, str(VECTORS))

import records_spec  # noqa: E402

CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}


def load(name):
    data = (VECTORS / "mockafka" / name).read_bytes()
    batch = DefaultRecordBatch(data)
    assert batch.validate_crc(), f"{name}: kafka-python rejects the CRC"
    assert batch.magic == 2
    assert batch.size_in_bytes == len(data)
    return batch


def check_records(batch, base_offset=0, log_append_time=None):
    records = list(batch)
    assert len(records) == records_spec.COUNT
    for record, (delta, ts, key, value, headers) in zip(records, records_spec.records()):
        assert record.offset == base_offset + delta
        assert record.timestamp == (ts if log_append_time is None else log_append_time)
        assert record.key == key, delta
        assert record.value == value, delta
        assert record.headers == headers, delta


@pytest.mark.parametrize("name,codec", CODECS.items())
def test_kafka_python_decodes_our_batches(name, codec):
    batch = load(f"{name}.bin")
    assert batch.compression_type == codec
    assert batch.base_offset == 0
    assert batch.leader_epoch == 0
    assert batch.records_count == records_spec.COUNT
    assert batch.last_offset_delta == records_spec.COUNT - 1
    assert batch.first_timestamp == records_spec.timestamp(0)
    assert batch.max_timestamp == max(records_spec.timestamp(i) for i in range(records_spec.COUNT))
    assert batch.producer_id == -1 and batch.producer_epoch == -1 and batch.base_sequence == -1
    assert batch.timestamp_type == 0
    assert not batch.is_transactional and not batch.is_control_batch
    check_records(batch)


def test_kafka_python_decodes_our_transactional_batch():
    batch = load("transactional.bin")
    assert batch.compression_type == 1
    assert (batch.producer_id, batch.producer_epoch, batch.base_sequence) == (4242, 3, 17)
    assert batch.is_transactional
    check_records(batch)


def test_kafka_python_reads_log_append_time_as_the_broker_stamps_it():
    batch = load("log-append-time.bin")
    assert batch.compression_type == 3
    assert batch.timestamp_type == 1
    assert batch.base_offset == 1000
    assert batch.leader_epoch == 5
    assert batch.max_timestamp == 1_800_000_000_000
    check_records(batch, base_offset=1000, log_append_time=1_800_000_000_000)


def test_memory_records_splits_our_batches():
    names = [f"{n}.bin" for n in CODECS]
    data = b"".join((VECTORS / "mockafka" / n).read_bytes() for n in names)
    records = MemoryRecords(data)
    seen = []
    while records.has_next():
        batch = records.next_batch()
        assert batch.validate_crc()
        seen.append(batch.compression_type)
        check_records(batch)
    assert seen == list(CODECS.values())
