#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| rolemap::fuzzing::mapping_json_parse(data));
