#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| rolemap::fuzzing::token_validate(data));
