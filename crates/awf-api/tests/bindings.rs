//! The committed TypeScript bindings must match the Rust types. Set `AWF_UPDATE_BINDINGS=1`
//! (what `cargo xtask codegen` does) to rewrite them.

use std::path::PathBuf;

#[test]
fn bindings_are_fresh() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let path = root.join(awf_api::bindings::BINDINGS_PATH);
    let generated = awf_api::bindings::generate();
    if std::env::var_os("AWF_UPDATE_BINDINGS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is stale: run `cargo xtask codegen` and commit the result",
        awf_api::bindings::BINDINGS_PATH
    );
}
