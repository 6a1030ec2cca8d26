//! A local ODP-compatible collector for demos and tests.
//!
//! ```text
//! cargo run --example collector -- [--port 0] [--api-key KEY] [--sdk-key KEY]
//!     [--fail-first N] [--fail-status 503] [--delay-ms MS] [--events-out FILE|-] [--quiet]
//! ```
//! Listens on 127.0.0.1 and prints `listening on http://127.0.0.1:PORT` as its first line.
//! `POST /v3/events` answers 202 like ODP, or 400 with ODP's error body for what ODP rejects;
//! `GET /datafiles/{sdk_key}.json` serves a datafile whose ODP integration points back here.
//! Every accepted event is written as one JSON line to `--events-out` (default stdout).

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::Write;
use std::time::Duration;

use support::collector::{Collector, CollectorConfig};

fn usage(problem: &str) -> ! {
    eprintln!("collector: {problem}");
    eprintln!(
        "usage: collector [--port N] [--api-key KEY] [--sdk-key KEY] [--fail-first N] [--fail-status S] [--delay-ms MS] [--events-out FILE|-] [--quiet]"
    );
    std::process::exit(2)
}

fn main() {
    let mut config = CollectorConfig {
        sdk_key: Some("AbC123".into()),
        fail_status: 503,
        ..CollectorConfig::default()
    };
    let mut events_out = String::from("-");
    let mut quiet = false;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{flag} needs a value")))
        };
        let number = |v: String| -> u64 {
            v.parse()
                .unwrap_or_else(|_| usage(&format!("{flag}: not a number: {v}")))
        };
        match flag.as_str() {
            "--port" => config.port = number(value()) as u16,
            "--api-key" => config.api_key = Some(value()),
            "--sdk-key" => config.sdk_key = Some(value()),
            "--access-token" => config.access_token = Some(value()),
            "--fail-first" => config.fail_first = number(value()) as usize,
            "--fail-status" => config.fail_status = number(value()) as u16,
            "--delay-ms" => config.delay = Duration::from_millis(number(value())),
            "--events-out" => events_out = value(),
            "--count-only" => config.count_only = true,
            "--quiet" => quiet = true,
            "-h" | "--help" => usage("help"),
            other => usage(&format!("unknown flag {other}")),
        }
    }
    config.events_out = Some(if events_out == "-" {
        Box::new(std::io::stdout())
    } else {
        Box::new(std::io::BufWriter::new(
            std::fs::File::create(&events_out)
                .unwrap_or_else(|e| usage(&format!("{events_out}: {e}"))),
        ))
    });
    let collector =
        Collector::start(config).unwrap_or_else(|e| usage(&format!("cannot listen: {e}")));
    println!("listening on {}", collector.url());
    let _ = std::io::stdout().flush();
    if !quiet {
        eprintln!(
            "collector: POST {}/v3/events, datafile at {}",
            collector.url(),
            collector.datafile_url_template()
        );
    }
    let mut seen = 0;
    loop {
        std::thread::sleep(Duration::from_millis(100));
        let requests = collector.request_count();
        if !quiet && requests != seen {
            for r in collector.requests().iter().skip(seen) {
                eprintln!(
                    "collector: {} {} x-api-key={} user-agent={} content-type={} accept={}\ncollector: body ({} bytes): {}",
                    r.method,
                    r.path,
                    r.header("x-api-key").unwrap_or("-"),
                    r.header("user-agent").unwrap_or("-"),
                    r.header("content-type").unwrap_or("-"),
                    r.header("accept").unwrap_or("-"),
                    r.body.len(),
                    String::from_utf8_lossy(&r.body)
                );
            }
            seen = requests;
        }
    }
}
