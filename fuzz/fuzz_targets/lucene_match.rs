#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| rolemap::fuzzing::lucene_match(data));
