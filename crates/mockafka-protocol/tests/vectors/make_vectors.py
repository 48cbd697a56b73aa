"""Writes the kafka-python side of the record batch test vectors.

Run from anywhere with the repo's virtualenv (kafka-python 3.0.12, python-snappy, lz4,
zstandard), then commit the output:

    /work/main/.venv/bin/python crates/mockafka-protocol/tests/vectors/make_vectors.py

Every batch is built by kafka-python's own DefaultRecordBatchBuilder (the code its producer
uses), with the codecs' C libraries (libsnappy, liblz4, libzstd) behind it. The Rust test
tests/it/vectors.rs decodes each file and checks every record against records_spec.py.

gzip.bin differs on every run (the gzip header holds the time); the others are stable.

Files written to kafka-python/:
  <codec>.bin          the spec records, one batch, codec none/gzip/snappy/lz4/zstd
  transactional.bin    the spec records with zstd, producer id 4242, epoch 3, base sequence
                       17, transactional
  two-batches.bin      two lz4 batches back to back (records 0-9 and 10-19 of the spec, the
                       second with offset deltas restarting at 0)

and, with the records section recompressed by the C libraries directly, in the forms other
clients write (header fixed up, CRC recomputed):
  lz4-java.bin         LZ4 frame as the Java client writes it: independent 64 KiB blocks, no
                       content size, no checksums
  lz4-linked.bin       LZ4 frame with linked blocks, content size and content checksum
  zstd-streaming.bin   zstd from a streaming compressor (no content size, as zstd-jni writes)
  snappy-raw.bin       plain raw snappy without xerial framing (as librdkafka writes)
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder  # noqa: E402

import struct  # noqa: E402

import lz4.frame  # noqa: E402
import snappy  # noqa: E402
import zstandard  # noqa: E402
from kafka.record.util import calc_crc32c  # noqa: E402

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


def recompress(plain_batch, codec, compress):
    """The uncompressed batch `plain_batch` with its records section replaced by
    compress(section), the codec bits set, and length and CRC fixed."""
    header = bytearray(plain_batch[:61])
    section = compress(bytes(plain_batch[61:]))
    struct.pack_into(">i", header, 8, 61 - 12 + len(section))
    (attributes,) = struct.unpack_from(">h", header, 21)
    struct.pack_into(">h", header, 21, (attributes & ~0x07) | codec)
    data = header + section
    struct.pack_into(">I", data, 17, calc_crc32c(memoryview(data)[21:]))
    data = bytes(data)
    batch = DefaultRecordBatch(data)
    assert batch.validate_crc() and batch.compression_type == codec
    assert len(list(batch)) == records_spec.COUNT
    return data


def zstd_streaming(data):
    out = bytearray()
    compressor = zstandard.ZstdCompressor(level=3, write_content_size=False)
    chunker = compressor.chunker(chunk_size=16384)
    for i in range(0, len(data), 16384):
        for chunk in chunker.compress(data[i:i + 16384]):
            out += chunk
    for chunk in chunker.finish():
        out += chunk
    return bytes(out)


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
    plain = build(0, recs)
    (out / "lz4-java.bin").write_bytes(recompress(plain, 3, lambda d: lz4.frame.compress(
        d, block_size=lz4.frame.BLOCKSIZE_MAX64KB, block_linked=False,
        content_checksum=False, store_size=False)))
    (out / "lz4-linked.bin").write_bytes(recompress(plain, 3, lambda d: lz4.frame.compress(
        d, block_size=lz4.frame.BLOCKSIZE_MAX64KB, block_linked=True,
        content_checksum=True, store_size=True)))
    (out / "zstd-streaming.bin").write_bytes(recompress(plain, 4, zstd_streaming))
    (out / "snappy-raw.bin").write_bytes(recompress(plain, 2, snappy.compress))
    for f in sorted(out.iterdir()):
        print(f"{f.name}: {f.stat().st_size} bytes")


if __name__ == "__main__":
    main()
