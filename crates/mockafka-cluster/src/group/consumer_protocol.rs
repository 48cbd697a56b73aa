//! Just enough of the consumer embedded protocol (protocol type "consumer") to read the
//! topics a member subscribes to and the partitions it was assigned. Both messages start with
//! a version and a non-flexible array of topics in every version (0-3), so the parse below
//! reads the topic names only and ignores the rest. Total: bad input gives `None`.

use bytes::Bytes;

struct Cursor<'a> {
    buf: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = (self.buf.get(..n)?, self.buf.get(n..)?);
        self.buf = tail;
        Some(head)
    }
    fn i16(&mut self) -> Option<i16> {
        Some(i16::from_be_bytes(self.take(2)?.try_into().ok()?))
    }
    fn i32(&mut self) -> Option<i32> {
        Some(i32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }
    fn string(&mut self) -> Option<String> {
        let len = usize::try_from(self.i16()?).ok()?;
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).ok()
    }
    /// An array length, checked against the bytes left (each element takes at least `min`).
    fn array_len(&mut self, min: usize) -> Option<usize> {
        let len = usize::try_from(self.i32()?).ok()?;
        (len.checked_mul(min)? <= self.buf.len()).then_some(len)
    }
}

/// The topics of a `ConsumerProtocolSubscription`.
pub(crate) fn subscribed_topics(metadata: &Bytes) -> Option<Vec<String>> {
    let mut c = Cursor { buf: metadata };
    let version = c.i16()?;
    if version < 0 {
        return None;
    }
    let n = c.array_len(2)?;
    (0..n).map(|_| c.string()).collect()
}

/// The partitions of a `ConsumerProtocolAssignment`: (topic, partitions) pairs.
pub(crate) fn assigned_partitions(assignment: &Bytes) -> Option<Vec<(String, Vec<i32>)>> {
    let mut c = Cursor { buf: assignment };
    let version = c.i16()?;
    if version < 0 {
        return None;
    }
    let n = c.array_len(6)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let topic = c.string()?;
        let m = c.array_len(4)?;
        let partitions = (0..m).map(|_| c.i32()).collect::<Option<Vec<_>>>()?;
        out.push((topic, partitions));
    }
    Some(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use bytes::{BufMut, BytesMut};

    /// Encodes a v0 subscription, for tests.
    pub(crate) fn subscription(topics: &[&str]) -> Bytes {
        let mut b = BytesMut::new();
        b.put_i16(0);
        b.put_i32(topics.len() as i32);
        for t in topics {
            b.put_i16(t.len() as i16);
            b.put_slice(t.as_bytes());
        }
        b.put_i32(-1);
        b.freeze()
    }

    /// Encodes a v0 assignment, for tests.
    pub(crate) fn assignment(parts: &[(&str, &[i32])]) -> Bytes {
        let mut b = BytesMut::new();
        b.put_i16(0);
        b.put_i32(parts.len() as i32);
        for (t, ps) in parts {
            b.put_i16(t.len() as i16);
            b.put_slice(t.as_bytes());
            b.put_i32(ps.len() as i32);
            for p in *ps {
                b.put_i32(*p);
            }
        }
        b.put_i32(-1);
        b.freeze()
    }

    #[test]
    fn round_trips() {
        assert_eq!(
            subscribed_topics(&subscription(&["a", "bc"])),
            Some(vec!["a".to_string(), "bc".to_string()])
        );
        assert_eq!(
            assigned_partitions(&assignment(&[("t", &[0, 2])])),
            Some(vec![("t".to_string(), vec![0, 2])])
        );
    }

    #[test]
    fn garbage_is_none_not_a_panic() {
        assert_eq!(subscribed_topics(&Bytes::from_static(b"\x00")), None);
        assert_eq!(
            subscribed_topics(&Bytes::from_static(b"\x00\x00\x7f\xff\xff\xff")),
            None
        );
        assert_eq!(
            assigned_partitions(&Bytes::from_static(b"\x00\x00\x00\x00\x00\x01\x00\x05ab")),
            None
        );
        proptest::proptest!(|(data: Vec<u8>)| {
            let b = Bytes::from(data);
            let _ = subscribed_topics(&b);
            let _ = assigned_partitions(&b);
        });
    }
}
