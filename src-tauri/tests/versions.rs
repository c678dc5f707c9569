//! Tauri's Rust crate and its npm packages must be pinned to the same exact version: the Tauri
//! CLI refuses mismatched pairs, and a drift shows up only at bundling time otherwise.

fn npm_version(package_json: &serde_json::Value, name: &str) -> String {
    let v = package_json["dependencies"][name].as_str().or_else(|| package_json["devDependencies"][name].as_str());
    v.unwrap_or_else(|| panic!("ui/package.json does not list {name}")).to_string()
}

#[test]
fn tauri_rust_and_npm_packages_are_pinned_together() {
    let cargo = include_str!("../../Cargo.toml");
    let line = cargo.lines().find(|l| l.starts_with("tauri = ")).expect("the workspace pins tauri");
    let rust = line.split("version = \"=").nth(1).and_then(|r| r.split('"').next()).expect("tauri is pinned with `=`");
    let pkg: serde_json::Value = serde_json::from_str(include_str!("../../ui/package.json")).unwrap();
    let minor = |v: &str| v.split('.').take(2).collect::<Vec<_>>().join(".");
    for name in ["@tauri-apps/api", "@tauri-apps/cli"] {
        let npm = npm_version(&pkg, name);
        assert!(npm.chars().all(|c| c.is_ascii_digit() || c == '.'), "{name} must be an exact version, not {npm}");
        assert_eq!(minor(&npm), minor(rust), "{name} {npm} and the tauri crate {rust} must share major.minor");
    }
    assert_eq!(npm_version(&pkg, "@tauri-apps/api"), rust, "the JS API is released with the crate: same exact version");
}
