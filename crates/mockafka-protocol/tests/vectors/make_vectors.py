"""Writes the kafka-python side of the record batch test vectors.

Run from anywhere with the repo's virtualenv (kafka-python 3.0.12, python-snappy, lz4,
zstandard), then commit the output:

    /work/main/.venv/bin/python crates/mockafka-protocol/tests/vectors/make_vectors.py

Every batch is built by kafka-python's own DefaultRecordBatchBuilder (the code its producer
uses), with the codecs' C libraries (libsnappy, liblz4, libzstd) behind it. The Rust test
tests/it/vectors.rs decodes each file and checks every record against records_spec.py.

Files written to kafka-python/:
  <codec>.bin          the spec records, one batch, codec none/gzip/snappy/lz4/zstd
  transactional.bin    the spec records with zstd, producer id 4242, epoch 3, base sequence
                       17, transactional
  two-batches.bin      two lz4 batches back to back (records 0-9 and 10-19 of the spec, the
                       second with offset deltas restarting at 0)
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder  # noqa: E402

import records_spec  # noqa: E402

CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}


def build(codec, recs, producer=(-1, -1, -1, False)):
    builder = DefaultRecordBatchBuilder(
        magic=2,
        compression_type=codec,
        is_transactional=producer[3],
        producer_id=producer[0],
        producer_epoch=producer[1],
        base_sequence=producer[2],
        batch_size=1 << 24,
    )
    for delta, ts, key, value, headers in recs:
        assert builder.append(delta, timestamp=ts, key=key, value=value, headers=headers)
    data = bytes(builder.build())
    batch = DefaultRecordBatch(data)
    # kafka-python silently sends uncompressed when compression does not pay off
    assert batch.compression_type == codec, (codec, batch.compression_type)
    assert batch.validate_crc()
    return data


def main():
    out = HERE / "kafka-python"
    out.mkdir(exist_ok=True)
    recs = records_spec.records()
    for name, codec in CODECS.items():
        (out / f"{name}.bin").write_bytes(build(codec, recs))
    (out / "transactional.bin").write_bytes(build(4, recs, producer=(4242, 3, 17, True)))
    first = recs[:10]
    second = [(d - 10, ts, k, v, h) for d, ts, k, v, h in recs[10:]]
    (out / "two-batches.bin").write_bytes(build(3, first) + build(3, second))
    for f in sorted(out.iterdir()):
        print(f"{f.name}: {f.stat().st_size} bytes")


if __name__ == "__main__":
    main()
