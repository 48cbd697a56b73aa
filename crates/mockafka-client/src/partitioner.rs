//! The Java client's partitioner: murmur2 of the serialized key for keyed records, sticky
//! partitioning for unkeyed ones, and an explicit partition always wins.

/// Kafka's murmur2 hash (`org.apache.kafka.common.utils.Utils.murmur2`), as a `u32`.
///
/// The Java client and kafka-python's default partitioner compute the same bits; Java
/// reads them as a signed `int`.
pub fn murmur2(data: &[u8]) -> u32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    // Java hashes `int length`; keys longer than i32::MAX bytes cannot be sent anyway, so
    // truncating the length to 32 bits matches what Java would compute.
    let len = data.len();
    let mut h = SEED ^ (len as u32);
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let rest = chunks.remainder();
    if rest.len() >= 3 {
        h ^= u32::from(rest[2]) << 16;
    }
    if rest.len() >= 2 {
        h ^= u32::from(rest[1]) << 8;
    }
    if !rest.is_empty() {
        h ^= u32::from(rest[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h
}

/// The partition the Java client (and kafka-python's default partitioner) choose for a
/// keyed record: `toPositive(murmur2(key)) % partitions`. Returns 0 when `partitions` is
/// not positive.
pub fn partition_for_key(key: &[u8], partitions: i32) -> i32 {
    let Ok(n) = u32::try_from(partitions) else {
        return 0;
    };
    if n == 0 {
        return 0;
    }
    let p = (murmur2(key) & 0x7fff_ffff) % n;
    i32::try_from(p).unwrap_or(0)
}

/// Per-topic state of the sticky partitioner (Kafka's "uniform sticky" partitioner,
/// KIP-794): unkeyed records go to one partition until `batch_size` bytes have been sent to
/// it, then to another, picked at random among partitions that have a leader.
#[derive(Debug, Clone)]
pub(crate) struct Sticky {
    current: Option<i32>,
    bytes: usize,
    rng: u64,
}

impl Sticky {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            current: None,
            bytes: 0,
            rng: seed | 1,
        }
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64*: fast, and good enough to spread partitions.
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// The partition for the next unkeyed record of `size` bytes. `available` lists the
    /// partitions with a known leader (may be empty: then any of `0..partitions`).
    pub(crate) fn partition(
        &mut self,
        partitions: i32,
        available: &[i32],
        size: usize,
        batch_size: usize,
    ) -> i32 {
        let valid = |p: i32| (0..partitions).contains(&p);
        let current = match self.current {
            Some(p) if valid(p) && self.bytes < batch_size => p,
            previous => {
                let p = self.pick(partitions, available, previous);
                self.current = Some(p);
                self.bytes = 0;
                p
            }
        };
        self.bytes = self.bytes.saturating_add(size);
        current
    }

    fn pick(&mut self, partitions: i32, available: &[i32], previous: Option<i32>) -> i32 {
        let candidates: Vec<i32> = if available.is_empty() {
            (0..partitions.max(1)).collect()
        } else {
            available.to_vec()
        };
        let others: Vec<i32> = candidates
            .iter()
            .copied()
            .filter(|p| Some(*p) != previous)
            .collect();
        let pool = if others.is_empty() {
            &candidates
        } else {
            &others
        };
        let n = u64::try_from(pool.len()).unwrap_or(1).max(1);
        let i = usize::try_from(self.next_random() % n).unwrap_or(0);
        pool.get(i).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values from kafka-python's `kafka.partitioner.default.murmur2`, which
    /// mirrors the Java client's.
    #[test]
    fn murmur2_matches_the_java_client() {
        let cases: &[(&[u8], u32)] = &[
            (b"", 275_646_681),
            (b"a", 2_731_586_172),
            (b"ab", 316_155_434),
            (b"abc", 479_470_107),
            (b"ping", 1_679_575_974),
            (b"key-0", 29_210_041),
            (b"foobar", 3_504_634_814),
            (b"hello world", 1_221_641_059),
        ];
        for (k, want) in cases {
            assert_eq!(murmur2(k), *want, "key {k:?}");
        }
        let bytes: Vec<u8> = (0u8..37).collect();
        assert_eq!(murmur2(&bytes), 74_000_851);
    }

    #[test]
    fn keyed_partition_is_positive_mod_count() {
        // 2731586172 & 0x7fffffff = 584102524; % 3 = 1
        assert_eq!(partition_for_key(b"a", 3), 1);
        assert_eq!(partition_for_key(b"a", 0), 0);
        assert_eq!(partition_for_key(b"a", -1), 0);
        for n in 1..20 {
            assert!((0..n).contains(&partition_for_key(b"foobar", n)));
        }
    }

    #[test]
    fn sticky_switches_after_a_batch_and_avoids_unavailable_partitions() {
        let mut s = Sticky::new(42);
        let first = s.partition(4, &[1, 3], 10, 100);
        assert!(first == 1 || first == 3);
        for _ in 0..9 {
            assert_eq!(s.partition(4, &[1, 3], 10, 100), first);
        }
        let next = s.partition(4, &[1, 3], 10, 100);
        assert_ne!(next, first, "switches after batch_size bytes");
        assert!(next == 1 || next == 3);
        // A shrinking partition count (cannot happen in Kafka, but metadata is input) is safe.
        let p = s.partition(1, &[], 10, 100);
        assert_eq!(p, 0);
    }
}
