//! Micro-benchmark of the per-event work of `odp_send_event` without the client: UTF-8 checks,
//! parsing, validation, `fs_user_id` normalisation, common data, idempotence id and encoding
//! (`event::prepare`). `cargo bench --bench prepare` prints one JSON line (median of 11 samples).
//!
//! A hand-rolled harness rather than criterion: one number per run is what `make bench` needs,
//! and criterion would add dozens of crates to the build.

use std::hint::black_box;
use std::time::Instant;

use odp::core::event::{prepare, CommonData, EventInput};

fn main() {
    let common = CommonData::new("libodp", env!("CARGO_PKG_VERSION"));
    let input = EventInput::new(
        Some("fullstack"),
        Some("purchased"),
        Some(r#"{"fs_user_id":"user123","email":"user123@example.com"}"#),
        Some(r#"{"item":"shirt","price":50.0}"#),
    );
    const ITERATIONS: u32 = 200_000;
    let run = || {
        let started = Instant::now();
        for _ in 0..ITERATIONS {
            black_box(prepare(black_box(&input), &common).expect("valid event"));
        }
        started.elapsed().as_nanos() as f64 / f64::from(ITERATIONS)
    };
    run(); // warm up caches and the allocator
    let mut samples: Vec<f64> = (0..11).map(|_| run()).collect();
    samples.sort_by(f64::total_cmp);
    println!(
        "{{\"bench\":\"prepare\",\"ns_per_event\":{:.1},\"min_ns\":{:.1},\"max_ns\":{:.1},\"samples\":{}}}",
        samples[samples.len() / 2],
        samples[0],
        samples[samples.len() - 1],
        samples.len()
    );
}
