"""The record set every batch vector holds, shared by make_vectors.py and
tests/python/test_batch_vectors.py. crates/mockafka-protocol/tests/it/vectors.rs builds the
same records from the same rules (keep the three in step).

Record i (offset delta i, 0 <= i < COUNT):
  timestamp  BASE_TIMESTAMP + 1000 * i, except record 5: BASE_TIMESTAMP - 500 (a negative delta)
  key        None if i % 4 == 0, else b"key-<i>"
  value      None if i % 6 == 5; record 10: bytes((j * 7) % 251 for j < 70000) (spans
             several lz4 and snappy blocks); otherwise b"value-<i>-" repeated i + 1 times
  headers    i % 3 == 0: none
             i % 3 == 1: ("trace", b"a"), ("trace", b"b")                (duplicate keys)
             i % 3 == 2: ("trace", None), ("", b""), ("trace", b"<i>"), ("ünïcode", b"\\x00\\xff")
"""

COUNT = 20
BASE_TIMESTAMP = 1_700_000_000_000


def timestamp(i):
    return BASE_TIMESTAMP - 500 if i == 5 else BASE_TIMESTAMP + 1000 * i


def key(i):
    return None if i % 4 == 0 else f"key-{i}".encode()


def value(i):
    if i % 6 == 5:
        return None
    if i == 10:
        return bytes((j * 7) % 251 for j in range(70000))
    return f"value-{i}-".encode() * (i + 1)


def headers(i):
    if i % 3 == 0:
        return []
    if i % 3 == 1:
        return [("trace", b"a"), ("trace", b"b")]
    return [("trace", None), ("", b""), ("trace", str(i).encode()), ("ünïcode", b"\x00\xff")]


def records():
    """(offset delta, timestamp, key, value, headers) for every record."""
    return [(i, timestamp(i), key(i), value(i), headers(i)) for i in range(COUNT)]
