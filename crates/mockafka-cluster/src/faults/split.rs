//! Partition-precise faults for Produce and ListOffsets: when a fault's matcher names a
//! topic or topic-partition, only the partitions it names get the error; the others of
//! the same request are served as usual.

use bytes::BytesMut;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Decodable, HeaderVersion};
use mockafka_protocol::request::Request;
use mockafka_protocol::response::encode_response;

/// Which partitions of a request a fault names.
pub(crate) type Hit<'a> = &'a dyn Fn(&str, i32) -> bool;

/// Splits `req` into the part the fault does not name and the part it does. `None` for
/// APIs without a partition split, or when nothing (or everything) is left to serve.
pub(crate) fn split(req: &Request, hit: Hit<'_>) -> Option<(Request, Request)> {
    match req {
        Request::Produce(r) => {
            let (mut kept, mut faulted) = (r.clone(), r.clone());
            kept.topic_data = filter_topics(
                &r.topic_data,
                |t| &t.partition_data,
                |t, ps| {
                    let mut t = t.clone();
                    t.partition_data = ps;
                    t
                },
                |t, p| !hit(&t.name.0, p.index),
            );
            faulted.topic_data = filter_topics(
                &r.topic_data,
                |t| &t.partition_data,
                |t, ps| {
                    let mut t = t.clone();
                    t.partition_data = ps;
                    t
                },
                |t, p| hit(&t.name.0, p.index),
            );
            (!kept.topic_data.is_empty() && !faulted.topic_data.is_empty())
                .then(|| (Request::Produce(kept), Request::Produce(faulted)))
        }
        Request::ListOffsets(r) => {
            let (mut kept, mut faulted) = (r.clone(), r.clone());
            let rebuild = |t: &list_offsets_request::ListOffsetsTopic, ps| {
                let mut t = t.clone();
                t.partitions = ps;
                t
            };
            kept.topics = filter_topics(
                &r.topics,
                |t| &t.partitions,
                rebuild,
                |t, p| !hit(&t.name.0, p.partition_index),
            );
            faulted.topics = filter_topics(
                &r.topics,
                |t| &t.partitions,
                rebuild,
                |t, p| hit(&t.name.0, p.partition_index),
            );
            (!kept.topics.is_empty() && !faulted.topics.is_empty())
                .then(|| (Request::ListOffsets(kept), Request::ListOffsets(faulted)))
        }
        _ => None,
    }
}

fn filter_topics<T, P: Clone>(
    topics: &[T],
    parts: impl Fn(&T) -> &Vec<P>,
    rebuild: impl Fn(&T, Vec<P>) -> T,
    keep: impl Fn(&T, &P) -> bool,
) -> Vec<T> {
    topics
        .iter()
        .filter_map(|t| {
            let ps: Vec<P> = parts(t).iter().filter(|p| keep(t, p)).cloned().collect();
            (!ps.is_empty()).then(|| rebuild(t, ps))
        })
        .collect()
}

fn decode<T: Decodable + HeaderVersion>(version: i16, frame: &[u8]) -> Option<T> {
    let mut buf = bytes::Bytes::copy_from_slice(frame.get(4..)?);
    ResponseHeader::decode(&mut buf, T::header_version(version)).ok()?;
    T::decode(&mut buf, version).ok()
}

/// Merges the partitions of `extra` (an error answer) into `served` (the served part's
/// answer), replacing entries for the same partition: one answer for the whole request.
pub(crate) fn merge(
    key: ApiKey,
    version: i16,
    correlation_id: i32,
    served: &[u8],
    extra: &[u8],
) -> Option<BytesMut> {
    match key {
        ApiKey::Produce => {
            let mut a: ProduceResponse = decode(version, served)?;
            let b: ProduceResponse = decode(version, extra)?;
            for t in b.responses {
                match a
                    .responses
                    .iter_mut()
                    .find(|x| x.name == t.name && x.topic_id == t.topic_id)
                {
                    Some(x) => {
                        for p in t.partition_responses {
                            x.partition_responses.retain(|q| q.index != p.index);
                            x.partition_responses.push(p);
                        }
                    }
                    None => a.responses.push(t),
                }
            }
            encode_response(key, version, correlation_id, &a).ok()
        }
        ApiKey::ListOffsets => {
            let mut a: ListOffsetsResponse = decode(version, served)?;
            let b: ListOffsetsResponse = decode(version, extra)?;
            for t in b.topics {
                match a.topics.iter_mut().find(|x| x.name == t.name) {
                    Some(x) => {
                        for p in t.partitions {
                            x.partitions
                                .retain(|q| q.partition_index != p.partition_index);
                            x.partitions.push(p);
                        }
                    }
                    None => a.topics.push(t),
                }
            }
            encode_response(key, version, correlation_id, &a).ok()
        }
        _ => None,
    }
}
