//! Size-prefixed frames split off arbitrary bytes, each decoded as a request.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| mockafka_protocol::frame::fuzz_frames(data));
