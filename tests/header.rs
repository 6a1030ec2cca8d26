//! The committed C header must be exactly what build.rs generates from the sources.

#[test]
fn committed_header_is_fresh() {
    let generated = std::fs::read_to_string(env!("ODP_GENERATED_HEADER")).unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    // Compare with the committed blob when in a git checkout (build.rs refreshes the working
    // copy), else with the file itself (a source tarball).
    let committed = std::process::Command::new("git")
        .args(["-C", root, "show", "HEAD:include/odp.h"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8(o.stdout).unwrap())
        .unwrap_or_else(|| std::fs::read_to_string(format!("{root}/include/odp.h")).unwrap());
    assert!(
        committed == generated,
        "include/odp.h is stale: build.rs regenerated it from src/ffi; review and commit it"
    );
}
