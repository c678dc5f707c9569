//! Any bytes as an agent bundle: the reader accepts it or lists its problems; it never panics
//! and never allocates beyond its limits.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match awf_core::bundle::read(std::io::Cursor::new(data)) {
        Ok(c) => assert_eq!(c.manifest.format, awf_core::bundle::FORMAT),
        Err(e) => assert!(!e.0.is_empty(), "a refusal names at least one problem"),
    }
});
