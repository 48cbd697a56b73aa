//! Framing: every Kafka message is a 4-byte big-endian size followed by that many bytes.
//!
//! The size is checked against a configurable maximum before anything is allocated.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::ProtocolError;

/// Kafka's `socket.request.max.bytes` default: 100 MiB.
pub const DEFAULT_MAX_FRAME_SIZE: usize = 100 * 1024 * 1024;

/// Length of the size prefix.
pub const PREFIX_LEN: usize = 4;

/// Reads a size prefix and checks it against `max` before the caller allocates the body.
///
/// # Errors
/// [`ProtocolError::InvalidFrameSize`] for a negative or zero size,
/// [`ProtocolError::FrameTooLarge`] for one over `max`.
pub fn frame_size(prefix: [u8; PREFIX_LEN], max: usize) -> Result<usize, ProtocolError> {
    let size = i32::from_be_bytes(prefix);
    if size <= 0 {
        return Err(ProtocolError::InvalidFrameSize { size });
    }
    let size = usize::try_from(size).map_err(|_| ProtocolError::InvalidFrameSize { size })?;
    if size > max {
        return Err(ProtocolError::FrameTooLarge { size, max });
    }
    Ok(size)
}

/// Splits one whole frame off the front of `buf`, if `buf` holds one.
///
/// Returns `Ok(None)` when more bytes are needed. The body is returned without its prefix.
///
/// # Errors
/// As [`frame_size`]; the buffer is left as it was.
pub fn split_frame(buf: &mut BytesMut, max: usize) -> Result<Option<Bytes>, ProtocolError> {
    let Some(prefix) = buf.get(..PREFIX_LEN) else {
        return Ok(None);
    };
    let mut p = [0u8; PREFIX_LEN];
    p.copy_from_slice(prefix);
    let size = frame_size(p, max)?;
    let Some(total) = size.checked_add(PREFIX_LEN) else {
        return Err(ProtocolError::FrameTooLarge { size, max });
    };
    if buf.len() < total {
        buf.reserve(total - buf.len());
        return Ok(None);
    }
    buf.advance(PREFIX_LEN);
    Ok(Some(buf.split_to(size).freeze()))
}

/// Writes `body` with its size prefix.
///
/// # Errors
/// [`ProtocolError::FrameTooLarge`] when the body does not fit an `i32`.
pub fn encode_frame(body: &[u8], out: &mut BytesMut) -> Result<(), ProtocolError> {
    let size = i32::try_from(body.len()).map_err(|_| ProtocolError::FrameTooLarge {
        size: body.len(),
        max: i32::MAX as usize,
    })?;
    out.reserve(PREFIX_LEN + body.len());
    out.put_i32(size);
    out.put_slice(body);
    Ok(())
}

/// Fuzz entry point: splits frames off arbitrary bytes and decodes each as a request.
/// Panics only if the decoder and the schema disagree on a message's length (see
/// [`crate::validate::DISAGREEMENT`]).
pub fn fuzz_frames(data: &[u8]) {
    let mut buf = BytesMut::from(data);
    while let Ok(Some(frame)) = split_frame(&mut buf, 1 << 20) {
        crate::validate::assert_agreement(&crate::request::decode_request(frame));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_checked_before_allocation() {
        assert_eq!(
            frame_size((-1i32).to_be_bytes(), 10),
            Err(ProtocolError::InvalidFrameSize { size: -1 })
        );
        assert_eq!(
            frame_size(0i32.to_be_bytes(), 10),
            Err(ProtocolError::InvalidFrameSize { size: 0 })
        );
        assert_eq!(
            frame_size(11i32.to_be_bytes(), 10),
            Err(ProtocolError::FrameTooLarge { size: 11, max: 10 })
        );
        assert_eq!(frame_size(10i32.to_be_bytes(), 10), Ok(10));
        assert_eq!(
            frame_size(i32::MAX.to_be_bytes(), DEFAULT_MAX_FRAME_SIZE),
            Err(ProtocolError::FrameTooLarge {
                size: i32::MAX as usize,
                max: DEFAULT_MAX_FRAME_SIZE
            })
        );
    }

    #[test]
    fn split_waits_for_a_whole_frame() {
        let mut buf = BytesMut::new();
        assert_eq!(split_frame(&mut buf, 100), Ok(None));
        buf.put_slice(&[0, 0, 0, 3, 1, 2]);
        assert_eq!(split_frame(&mut buf, 100), Ok(None));
        buf.put_slice(&[3, 9]);
        assert_eq!(
            split_frame(&mut buf, 100),
            Ok(Some(Bytes::from_static(&[1, 2, 3])))
        );
        assert_eq!(&buf[..], &[9]);
    }
}
