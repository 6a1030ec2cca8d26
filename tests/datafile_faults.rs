//! Datafile faults (403, 500, a fetch that never answers, garbage, an unsupported version)
//! keep the last good datafile, and the log says why. A test binary of its own because the
//! log sink is process-wide.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use odp::core::log::{set_sink, Level};
use odp::core::{Client, EventInput};
use support::collector::Collector;
use support::http::Reply;

#[test]
fn cdn_faults_keep_the_last_good_datafile_and_report_the_cause() {
    let logs = Arc::new(Mutex::new(Vec::<String>::new()));
    {
        let logs = logs.clone();
        set_sink(
            Level::Debug,
            Some(Arc::new(move |_: Level, m: &str| {
                logs.lock().unwrap().push(m.to_owned())
            })),
        );
    }
    let collector = Collector::new();
    let c = Client::from_json(&format!(
        r#"{{"sdk_key":"AbC123","datafile_url_template":"{}","datafile_polling_interval_ms":50,"request_timeout_ms":300,"flush_interval_ms":0}}"#,
        collector.datafile_url_template()
    ))
    .unwrap();
    c.wait_ready(Duration::from_secs(10)).unwrap();

    let faults: Vec<(Reply, &str)> = vec![
        (Reply::status(403), "unable to fetch fresh datafile (consider rechecking SDK key), status code: 403 Forbidden"),
        (Reply::status(500), "unable to fetch fresh datafile, reason (http status code): 500 Internal Server Error"),
        (Reply::Hang, "unable to fetch fresh datafile: "),
        (Reply::json(200, "{garbage"), "unable to parse datafile: invalid datafile: not valid JSON"),
        (Reply::json(200, r#"{"version":"2"}"#), "unable to parse datafile: invalid datafile: unsupported datafile version \"2\""),
    ];
    for (i, (reply, cause)) in faults.into_iter().enumerate() {
        collector.set_datafile_fault(move |_| Some(reply.clone()));
        let deadline = Instant::now() + Duration::from_secs(10);
        let expected = format!("datafile fetch failed: {cause}");
        while !logs
            .lock()
            .unwrap()
            .iter()
            .any(|m| m.starts_with(&expected))
        {
            assert!(
                Instant::now() < deadline,
                "no log line starting with {expected:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(logs
            .lock()
            .unwrap()
            .iter()
            .any(|m| m.ends_with("; keeping the current datafile")));
        // The last good datafile still routes events.
        let action = format!("during-fault-{i}");
        c.send_event(EventInput::new(
            None,
            Some(&action),
            Some(r#"{"fs_user_id":"u"}"#),
            None,
        ))
        .unwrap();
        c.flush(Duration::from_secs(5)).unwrap();
    }
    collector.clear_datafile_fault();
    assert_eq!(collector.event_count(), 5);
    assert!(
        !logs
            .lock()
            .unwrap()
            .iter()
            .any(|m| m.contains("test-public-key")),
        "the API key is never logged"
    );
    set_sink(Level::Error, None);
}
