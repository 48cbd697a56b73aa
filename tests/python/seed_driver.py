"""kafka-python behind the seed suite's client trait (tests/seed/python_client.rs).

One JSON request per stdin line, one JSON answer per stdout line:
`{"ok": result}`, or `{"err": message, "kind": "no_offset" | "out_of_range" | "other"}`.
Producers and consumers are kafka-python objects kept under integer ids. Keys and values
cross the pipe as `{"bytes": [..]}`, `{"text": ".."}` or `{"json": ..}` and go through
the tutorial's serializers: `str.encode`, `json.dumps(v).encode('utf-8')`, `msgpack.dumps`.
"""

import json
import sys
import traceback
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)

import msgpack
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import NoOffsetForPartitionError, OffsetOutOfRangeError
from kafka.structs import OffsetAndMetadata

SERIALIZERS = {
    "bytes": None,
    "str": str.encode,
    "json": lambda v: json.dumps(v).encode("utf-8"),
    "msgpack": msgpack.dumps,
}
DESERIALIZERS = {
    "bytes": None,
    "str": bytes.decode,
    "json": json.loads,
    "msgpack": msgpack.loads,
}

objects = {}
futures = {}


def to_app(payload):
    """A pipe payload to the value the application hands kafka-python."""
    if payload is None:
        return None
    (kind, v), = payload.items()
    return bytes(v) if kind == "bytes" else v


def to_pipe(value, fmt):
    if value is None:
        return None
    if fmt == "bytes":
        return {"bytes": list(value)}
    if fmt == "str":
        return {"text": value}
    return {"json": value}


def meta(m):
    return {"topic": m.topic, "partition": m.partition, "offset": m.offset,
            "timestamp": m.timestamp}


def record(msg, cfg):
    return {
        "topic": msg.topic, "partition": msg.partition, "offset": msg.offset,
        "timestamp": msg.timestamp,
        "key": to_pipe(msg.key, cfg["key_format"]),
        "value": to_pipe(msg.value, cfg["value_format"]),
        "headers": [[k, None if v is None else list(v)] for k, v in msg.headers],
    }


def new_id(obj, cfg):
    i = len(objects)
    objects[i] = (obj, cfg)
    return i


def op_producer(req):
    cfg = req["cfg"]
    kw = {}
    if cfg["codec"] != "none":
        kw["compression_type"] = cfg["codec"]
    if cfg["linger_ms"] is not None:
        kw["linger_ms"] = cfg["linger_ms"]
    p = KafkaProducer(bootstrap_servers=req["bootstrap"].split(","),
                      key_serializer=SERIALIZERS[cfg["key_format"]],
                      value_serializer=SERIALIZERS[cfg["value_format"]], **kw)
    return new_id(p, cfg)


def op_send(req):
    p, _ = objects[req["id"]]
    r = req["record"]
    headers = [(k, None if v is None else bytes(v)) for k, v in r["headers"]]
    f = p.send(r["topic"], value=to_app(r["value"]), key=to_app(r["key"]),
               partition=r["partition"], headers=headers or None)
    futures.setdefault(req["id"], []).append(f)
    return len(futures[req["id"]]) - 1


def op_get(req):
    f = futures[req["id"]][req["send"]]
    return meta(f.get(timeout=req["timeout_ms"] / 1000.0))


def op_try_get(req):
    f = futures[req["id"]][req["send"]]
    if not f.is_done:
        return None
    return meta(f.get(timeout=0))


def op_flush(req):
    objects[req["id"]][0].flush()


def op_close(req):
    objects[req["id"]][0].close()


def op_consumer(req):
    cfg = req["cfg"]
    kw = {}
    if cfg["group"] is not None:
        kw["group_id"] = cfg["group"]
    if cfg["consumer_timeout_ms"] is not None:
        kw["consumer_timeout_ms"] = cfg["consumer_timeout_ms"]
    if cfg["max_poll_records"] is not None:
        kw["max_poll_records"] = cfg["max_poll_records"]
    if cfg["metadata_max_age_ms"] is not None:
        kw["metadata_max_age_ms"] = cfg["metadata_max_age_ms"]
    c = KafkaConsumer(bootstrap_servers=req["bootstrap"].split(","),
                      auto_offset_reset=cfg["reset"],
                      enable_auto_commit=cfg["auto_commit"],
                      key_deserializer=DESERIALIZERS[cfg["key_format"]],
                      value_deserializer=DESERIALIZERS[cfg["value_format"]],
                      heartbeat_interval_ms=100, fetch_max_wait_ms=100, **kw)
    return new_id(c, cfg)


def op_subscribe(req):
    objects[req["id"]][0].subscribe(topics=req["topics"])


def op_subscribe_pattern(req):
    objects[req["id"]][0].subscribe(pattern=req["pattern"])


def op_assign(req):
    objects[req["id"]][0].assign([TopicPartition(t, p) for t, p in req["partitions"]])


def op_poll(req):
    c, cfg = objects[req["id"]]
    out = []
    for recs in c.poll(timeout_ms=req["timeout_ms"]).values():
        out.extend(record(m, cfg) for m in recs)
    out.sort(key=lambda r: (r["topic"], r["partition"], r["offset"]))
    return out


def op_iterate(req):
    c, cfg = objects[req["id"]]
    return [record(m, cfg) for m in c]


def op_commit(req):
    objects[req["id"]][0].commit()


def op_commit_offsets(req):
    objects[req["id"]][0].commit(
        {TopicPartition(t, p): OffsetAndMetadata(o, "", -1) for t, p, o in req["offsets"]})


def op_committed(req):
    return objects[req["id"]][0].committed(TopicPartition(req["topic"], req["partition"]))


def op_position(req):
    return objects[req["id"]][0].position(TopicPartition(req["topic"], req["partition"]))


def op_assignment(req):
    return sorted([tp.topic, tp.partition] for tp in objects[req["id"]][0].assignment())


def op_seek(req):
    objects[req["id"]][0].seek(TopicPartition(req["topic"], req["partition"]), req["offset"])


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            answer = {"ok": globals()["op_" + req["op"]](req)}
        except NoOffsetForPartitionError as e:
            answer = {"err": str(e), "kind": "no_offset"}
        except OffsetOutOfRangeError as e:
            answer = {"err": str(e), "kind": "out_of_range"}
        except Exception as e:  # every other failure goes back to the scenario
            answer = {"err": f"{type(e).__name__}: {e}\n{traceback.format_exc()}",
                      "kind": "other"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
