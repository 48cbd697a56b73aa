//! Codec tests: round trips, the exact framing written, both snappy framings read, and
//! decompression bombs stopped at the limit.

use super::*;

const MIB: usize = 1 << 20;

/// Compressible but not trivial: random words from a small vocabulary, some random bytes.
fn sample(len: usize) -> Vec<u8> {
    const WORDS: [&[u8]; 8] = [
        b"kafka ",
        b"broker ",
        b"partition ",
        b"offset ",
        b"\x00\x01",
        b"leader ",
        b"epoch ",
        b"{\"k\":1} ",
    ];
    let mut state = 0x1234_5678u32;
    let mut out = Vec::with_capacity(len + 16);
    while out.len() < len {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let pick = (state >> 24) as usize;
        if pick < 16 {
            out.push((state >> 8) as u8);
        } else {
            out.extend_from_slice(WORDS[pick % WORDS.len()]);
        }
    }
    out.truncate(len);
    out
}

#[test]
fn every_codec_round_trips() {
    for codec in Compression::ALL {
        for len in [0, 1, 100, 32 * 1024, 32 * 1024 + 1, 200_000] {
            let input = sample(len);
            let mut packed = Vec::new();
            compress(codec, &input, &mut packed);
            let unpacked = decompress(codec, &packed, MIB).unwrap();
            assert_eq!(unpacked, input, "{codec:?} {len}");
            if len == 200_000 && codec != Compression::None {
                assert!(packed.len() < len, "{codec:?} does not compress");
            }
        }
    }
}

#[test]
fn codec_ids_and_names() {
    for (i, codec) in Compression::ALL.into_iter().enumerate() {
        assert_eq!(usize::from(codec.id()), i);
        assert_eq!(Compression::from_id(codec.id()), Ok(codec));
        assert_eq!(
            Compression::from_attributes(0x78 | i16::from(codec.id())),
            Ok(codec)
        );
    }
    assert_eq!(
        Compression::from_id(5),
        Err(BatchError::UnsupportedCompression(5))
    );
    assert_eq!(
        Compression::from_attributes(0x07),
        Err(BatchError::UnsupportedCompression(7))
    );
    assert_eq!(Compression::Zstd.name(), "zstd");
}

#[test]
fn snappy_writes_xerial_framing_in_32k_blocks() {
    let input = sample(100_000);
    let mut packed = Vec::new();
    compress(Compression::Snappy, &input, &mut packed);
    assert_eq!(
        &packed[..16],
        b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01"
    );
    let mut rest = &packed[16..];
    let mut blocks = Vec::new();
    while !rest.is_empty() {
        let len = i32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
        blocks.push(
            snap::raw::Decoder::new()
                .decompress_vec(&rest[4..4 + len])
                .unwrap(),
        );
        rest = &rest[4 + len..];
    }
    assert_eq!(
        blocks.iter().map(Vec::len).collect::<Vec<_>>(),
        [32768, 32768, 32768, 1696]
    );
    assert_eq!(blocks.concat(), input);
}

#[test]
fn snappy_reads_raw_blocks_too() {
    let input = sample(70_000);
    let raw = snap::raw::Encoder::new().compress_vec(&input).unwrap();
    assert_eq!(decompress(Compression::Snappy, &raw, MIB).unwrap(), input);
    let empty = snap::raw::Encoder::new().compress_vec(b"").unwrap();
    assert_eq!(decompress(Compression::Snappy, &empty, MIB).unwrap(), b"");
}

#[test]
fn snappy_rejects_broken_xerial_streams() {
    let mut packed = Vec::new();
    compress(Compression::Snappy, &sample(1000), &mut packed);
    for cut in [10, 17, 19, 21, packed.len() - 1] {
        assert!(
            matches!(
                decompress(Compression::Snappy, &packed[..cut], MIB),
                Err(BatchError::Decompression(_))
            ),
            "cut at {cut}"
        );
    }
    let mut negative = packed.clone();
    negative[16..20].copy_from_slice(&(-1i32).to_be_bytes());
    assert!(matches!(
        decompress(Compression::Snappy, &negative, MIB),
        Err(BatchError::Decompression(_))
    ));
}

#[test]
fn lz4_writes_the_java_clients_frame_format() {
    let input = sample(150_000);
    let mut packed = Vec::new();
    compress(Compression::Lz4, &input, &mut packed);
    assert_eq!(&packed[..4], &[0x04, 0x22, 0x4d, 0x18], "lz4 frame magic");
    // FLG: version 01, independent blocks, no block checksum, no content size, no content
    // checksum; BD: 64 KiB blocks
    assert_eq!(packed[4], 0b0110_0000);
    assert_eq!(packed[5], 0x40);
    // end mark, no content checksum after it
    assert_eq!(&packed[packed.len() - 4..], &[0, 0, 0, 0]);
    assert_eq!(decompress(Compression::Lz4, &packed, MIB).unwrap(), input);
}

#[test]
fn lz4_reads_linked_blocks_checksums_and_content_size() {
    use lz4_flex::frame::{BlockMode, FrameEncoder, FrameInfo};
    use std::io::Write;
    let input = sample(300_000);
    let info = FrameInfo::new()
        .block_mode(BlockMode::Linked)
        .block_checksums(true)
        .content_checksum(true)
        .content_size(Some(300_000));
    let mut encoder = FrameEncoder::with_frame_info(info, Vec::new());
    encoder.write_all(&input).unwrap();
    let packed = encoder.finish().unwrap();
    assert_eq!(decompress(Compression::Lz4, &packed, MIB).unwrap(), input);
}

#[test]
fn corrupt_input_is_an_error_for_every_codec() {
    for codec in [
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ] {
        assert!(
            matches!(
                decompress(codec, b"", MIB),
                Err(BatchError::Decompression(_))
            ),
            "{codec:?} empty"
        );
        assert!(
            matches!(
                decompress(codec, b"definitely not compressed data", MIB),
                Err(BatchError::Decompression(_))
            ),
            "{codec:?} garbage"
        );
        let mut packed = Vec::new();
        compress(codec, &sample(10_000), &mut packed);
        for cut in [1, 5, packed.len() / 2] {
            assert!(
                decompress(codec, &packed[..cut], MIB).is_err(),
                "{codec:?} cut {cut}"
            );
        }
    }
}

#[test]
fn none_obeys_the_limit() {
    assert_eq!(decompress(Compression::None, b"abc", 3).unwrap(), b"abc");
    assert_eq!(
        decompress(Compression::None, b"abcd", 3),
        Err(BatchError::TooLarge { limit: 3 })
    );
}

#[test]
fn output_exactly_at_the_limit_is_accepted() {
    let input = sample(50_000);
    for codec in Compression::ALL {
        let mut packed = Vec::new();
        compress(codec, &input, &mut packed);
        assert_eq!(
            decompress(codec, &packed, 50_000).unwrap(),
            input,
            "{codec:?}"
        );
        assert_eq!(
            decompress(codec, &packed, 49_999),
            Err(BatchError::TooLarge { limit: 49_999 }),
            "{codec:?}"
        );
    }
}

#[test]
fn reserve_never_exceeds_the_limit() {
    let mut out = Vec::new();
    for _ in 0..100 {
        extend_limited(&mut out, &[7; 1000], 64_500).unwrap_or(());
    }
    assert_eq!(out.len(), 64_000);
    assert!(out.capacity() <= 64_500, "{}", out.capacity());
    assert_eq!(
        extend_limited(&mut out, &[0; 501], 64_500),
        Err(BatchError::TooLarge { limit: 64_500 })
    );
}

// ---- decompression bombs: each expands to 1 GiB of zeros from a small input ----

const GIB: usize = 1 << 30;
const BOMB_LIMIT: usize = 4 * MIB;

/// 1024 concatenated gzip members of 1 MiB of zeros each (about 1 KiB apiece).
pub(crate) fn gzip_bomb() -> Vec<u8> {
    let mut member = Vec::new();
    compress(Compression::Gzip, &vec![0; MIB], &mut member);
    member.repeat(GIB / MIB)
}

/// One zstd frame (1 MiB window) of 8192 RLE blocks of 128 KiB: 32 KiB of input.
pub(crate) fn zstd_bomb() -> Vec<u8> {
    let mut frame = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, 10 << 3];
    let blocks = GIB / (128 * 1024);
    for i in 0..blocks {
        let last = u32::from(i + 1 == blocks);
        let header = last | (1 << 1) | ((128 * 1024) << 3);
        frame.extend_from_slice(&header.to_le_bytes()[..3]);
        frame.push(0);
    }
    frame
}

/// One LZ4 frame of 16384 independent 64 KiB blocks of zeros (about 4 MiB of input).
pub(crate) fn lz4_bomb() -> Vec<u8> {
    let mut one = Vec::new();
    compress(Compression::Lz4, &vec![0; 64 * 1024], &mut one);
    let (header, rest) = one.split_at(7);
    let block = &rest[..rest.len() - 4];
    let mut frame = header.to_vec();
    frame.extend_from_slice(&block.repeat(GIB / (64 * 1024)));
    frame.extend_from_slice(&[0; 4]);
    frame
}

/// xerial snappy: 1024 blocks of 1 MiB of zeros (snappy's ratio is bounded, so about 48 MiB).
pub(crate) fn snappy_bomb() -> Vec<u8> {
    let block = snap::raw::Encoder::new()
        .compress_vec(&vec![0; MIB])
        .unwrap();
    let mut framed = b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01".to_vec();
    let mut one = (block.len() as i32).to_be_bytes().to_vec();
    one.extend_from_slice(&block);
    framed.extend_from_slice(&one.repeat(GIB / MIB));
    framed
}

#[test]
fn bombs_stop_at_the_limit() {
    for (codec, bomb) in [
        (Compression::Gzip, gzip_bomb()),
        (Compression::Zstd, zstd_bomb()),
        (Compression::Lz4, lz4_bomb()),
        (Compression::Snappy, snappy_bomb()),
    ] {
        assert!(
            bomb.len() < GIB / 20,
            "{codec:?} bomb is {} bytes",
            bomb.len()
        );
        assert_eq!(
            decompress(codec, &bomb, BOMB_LIMIT),
            Err(BatchError::TooLarge { limit: BOMB_LIMIT }),
            "{codec:?}"
        );
    }
}

#[test]
fn the_bombs_are_real() {
    // The same constructions, scaled down, decompress to exactly what they claim.
    let zstd = zstd_bomb();
    let head = &zstd[..6];
    let mut small = head.to_vec();
    for i in 0..4u32 {
        let header = u32::from(i == 3) | (1 << 1) | ((128 * 1024) << 3);
        small.extend_from_slice(&header.to_le_bytes()[..3]);
        small.push(0);
    }
    assert_eq!(
        decompress(Compression::Zstd, &small, MIB).unwrap(),
        vec![0; 512 * 1024]
    );

    let lz4 = lz4_bomb();
    let block_len = u32::from_le_bytes(lz4[7..11].try_into().unwrap()) as usize;
    let mut small = lz4[..7 + 4 + block_len].to_vec();
    small.extend_from_slice(&lz4[7..7 + 4 + block_len]);
    small.extend_from_slice(&[0; 4]);
    assert_eq!(
        decompress(Compression::Lz4, &small, MIB).unwrap(),
        vec![0; 128 * 1024]
    );
}

#[test]
fn raw_snappy_claiming_a_huge_length_fails_before_allocating() {
    // varint 2^32 - 1, then a literal
    let claim = [0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x41];
    assert_eq!(
        decompress(Compression::Snappy, &claim, BOMB_LIMIT),
        Err(BatchError::TooLarge { limit: BOMB_LIMIT })
    );
}

#[test]
fn zstd_frames_declaring_huge_sizes_fail_before_decoding() {
    // single segment, 8-byte content size of 1 TiB
    let mut frame = vec![0x28, 0xb5, 0x2f, 0xfd, 0b1110_0000];
    frame.extend_from_slice(&(1u64 << 40).to_le_bytes());
    frame.extend_from_slice(&[1, 0, 0]); // an empty last raw block
    assert_eq!(
        decompress(Compression::Zstd, &frame, BOMB_LIMIT),
        Err(BatchError::TooLarge { limit: BOMB_LIMIT })
    );
    // a 2 GiB window (exponent 21)
    let frame = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 21 << 3, 1, 0, 0];
    assert!(matches!(
        decompress(Compression::Zstd, &frame, BOMB_LIMIT),
        Err(BatchError::Decompression(_))
    ));
    // the largest window descriptor
    let frame = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xff, 1, 0, 0];
    assert!(matches!(
        decompress(Compression::Zstd, &frame, BOMB_LIMIT),
        Err(BatchError::Decompression(_))
    ));
}

#[test]
fn zstd_reads_concatenated_and_skippable_frames() {
    let mut packed = Vec::new();
    compress(Compression::Zstd, b"hello ", &mut packed);
    packed.extend_from_slice(&[0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9]);
    compress(Compression::Zstd, b"world", &mut packed);
    assert_eq!(
        decompress(Compression::Zstd, &packed, MIB).unwrap(),
        b"hello world"
    );
    // a truncated skippable frame
    assert!(decompress(
        Compression::Zstd,
        &[0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9],
        MIB
    )
    .is_err());
}

#[test]
fn gzip_reads_concatenated_members() {
    let mut packed = Vec::new();
    compress(Compression::Gzip, b"hello ", &mut packed);
    compress(Compression::Gzip, b"world", &mut packed);
    assert_eq!(
        decompress(Compression::Gzip, &packed, MIB).unwrap(),
        b"hello world"
    );
}
