//! Byte 0 picks a served API, byte 1 a version, the rest is decoded as that response.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| mockafka_protocol::response::fuzz_decode(data));
