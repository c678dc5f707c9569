//! Any bytes as an OpenAPI/Swagger document: the importer returns a tool list or an error that
//! names a place; it never panics, and an error's pointer is a JSON pointer.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match awf_ingest::openapi::import(text) {
        Ok(api) => {
            let mut names = std::collections::HashSet::new();
            for t in &api.tools {
                assert!(names.insert(t.name.clone()), "tool names are unique");
            }
        }
        Err(e) => assert!(e.pointer.is_empty() || e.pointer.starts_with('/'), "pointer `{}`", e.pointer),
    }
});
