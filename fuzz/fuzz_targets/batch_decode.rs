//! Record batches split off arbitrary bytes: header parse, CRC, decompression (bounded) and
//! full record decode, with and without the CRC check, and a re-encode round trip.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| mockafka_protocol::batch::fuzz_decode(data));
