//! Framing round trips: any sequence of bodies, encoded and fed back in arbitrary chunks,
//! splits into the same bodies; sizes over the limit are refused before any allocation.

use bytes::BytesMut;
use mockafka_protocol::frame::{encode_frame, split_frame};
use mockafka_protocol::ProtocolError;
use proptest::prelude::*;

proptest! {
    #[test]
    fn frames_round_trip_through_any_chunking(
        bodies in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..300), 0..8),
        chunk in 1usize..64,
    ) {
        let mut wire = BytesMut::new();
        for b in &bodies {
            encode_frame(b, &mut wire).unwrap();
        }
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for piece in wire.chunks(chunk) {
            buf.extend_from_slice(piece);
            while let Some(f) = split_frame(&mut buf, 1 << 16).unwrap() {
                got.push(f.to_vec());
            }
        }
        prop_assert!(buf.is_empty());
        prop_assert_eq!(got, bodies);
    }

    #[test]
    fn sizes_over_the_limit_are_refused_without_reserving(size in 1001i32..=i32::MAX) {
        let mut buf = BytesMut::from(&size.to_be_bytes()[..]);
        let before = buf.capacity();
        prop_assert_eq!(
            split_frame(&mut buf, 1000),
            Err(ProtocolError::FrameTooLarge { size: usize::try_from(size).unwrap(), max: 1000 })
        );
        prop_assert_eq!(buf.capacity(), before);
        prop_assert_eq!(buf.len(), 4, "buffer left as it was");
    }
}
