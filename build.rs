//! Generates the C header from the FFI sources with cbindgen: into OUT_DIR (what the freshness
//! test compares against the committed header) and into include/odp.h when it changed.

use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=include/odp.h");

    let version = std::env::var("CARGO_PKG_VERSION").expect("CARGO_PKG_VERSION");
    // An ELF SONAME so installed copies can sit side by side per ABI (libodp.so.0 for 0.x).
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        let major = std::env::var("CARGO_PKG_VERSION_MAJOR").expect("major");
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libodp.so.{major}");
        // Programs linked with -lodp against target/<profile> look for that SONAME at run time:
        // give it to them next to the library (OUT_DIR is target/<profile>/build/odp-*/out).
        if let Some(profile_dir) = out_dir.ancestors().nth(3) {
            let link = profile_dir.join(format!("libodp.so.{major}"));
            if std::fs::symlink_metadata(&link).is_err() {
                #[cfg(unix)]
                let _ = std::os::unix::fs::symlink("libodp.so", &link);
            }
        }
    }
    let part = |name: &str| std::env::var(name).expect(name);
    let mut config =
        cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    // The version macros come from Cargo.toml, so they cannot drift from odp_version().
    config.after_includes = Some(format!(
        "\n/** The version of this header; compare with odp_version() at run time. */\n\
         #define ODP_VERSION \"{version}\"\n\
         #define ODP_VERSION_MAJOR {}\n#define ODP_VERSION_MINOR {}\n#define ODP_VERSION_PATCH {}\n",
        part("CARGO_PKG_VERSION_MAJOR"),
        part("CARGO_PKG_VERSION_MINOR"),
        part("CARGO_PKG_VERSION_PATCH"),
    ));

    // mod.rs leads cbindgen to every file of the FFI layer (and only those).
    let builder = cbindgen::Builder::new()
        .with_config(config)
        .with_src(root.join("src/ffi/mod.rs"));
    let header = builder
        .generate()
        .expect("cbindgen could not generate the header");

    let generated = out_dir.join("odp.h");
    header.write_to_file(&generated);
    println!(
        "cargo:rustc-env=ODP_GENERATED_HEADER={}",
        generated.display()
    );

    let committed = root.join("include/odp.h");
    let new = std::fs::read(&generated).expect("generated header");
    if std::fs::read(&committed).ok().as_deref() != Some(new.as_slice()) {
        // Keep the working copy current; the header test fails until it is committed.
        if write_if_possible(&committed, &new) {
            println!("cargo:warning=include/odp.h was regenerated; commit it");
        }
    }
}

fn write_if_possible(path: &Path, bytes: &[u8]) -> bool {
    std::fs::create_dir_all(path.parent().unwrap_or(Path::new("."))).is_ok()
        && std::fs::write(path, bytes).is_ok()
}
