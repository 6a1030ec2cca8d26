//! Replays the fuzz seeds and every input a fuzzer ever found failing through the same
//! property checks the fuzz targets run (tests/support/fuzz_props.rs), on stable Rust.

mod support;

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut n = 0;
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_file() {
                let data = std::fs::read(&path).unwrap();
                if std::panic::catch_unwind(|| check(&data)).is_err() {
                    panic!("{} fails its properties", path.display());
                }
                n += 1;
            }
        }
    }
    n
}

#[test]
fn event_input_seeds_and_regressions() {
    assert!(replay("event_input", support::fuzz_props::event_input) >= 5);
}

#[test]
fn config_datafile_seeds_and_regressions() {
    assert!(replay("config_datafile", support::fuzz_props::config_datafile) >= 4);
}
