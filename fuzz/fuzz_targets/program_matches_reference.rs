#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| rolemap::fuzzing::program_matches_reference(data));
