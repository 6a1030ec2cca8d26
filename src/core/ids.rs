//! Idempotence ids: random (v4) UUIDs from the operating system's random source, read 4 KiB at a
//! time into a per-thread buffer, so one system call serves 256 events instead of one. After a
//! `fork()` the child's copy of the buffer is discarded unused, so parent and child never share
//! an id.

use std::cell::RefCell;

use super::fork;

const POOL_BYTES: usize = 4096;

struct Pool {
    bytes: [u8; POOL_BYTES],
    next: usize,
    epoch: u32,
}

thread_local! {
    static POOL: RefCell<Pool> = const {
        RefCell::new(Pool { bytes: [0; POOL_BYTES], next: POOL_BYTES, epoch: 0 })
    };
}

fn random_16() -> [u8; 16] {
    let from_pool = POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        let epoch = fork::epoch();
        if pool.next + 16 > POOL_BYTES || pool.epoch != epoch {
            getrandom::fill(&mut pool.bytes).ok()?;
            pool.next = 0;
            pool.epoch = epoch;
        }
        let mut out = [0u8; 16];
        out.copy_from_slice(&pool.bytes[pool.next..pool.next + 16]);
        pool.next += 16;
        Some(out)
    });
    match from_pool {
        Ok(Some(bytes)) => bytes,
        // Thread teardown or a failed refill: ask the OS for just these bytes.
        _ => *uuid::Uuid::new_v4().as_bytes(),
    }
}

/// A fresh random (v4) UUID, lowercase and hyphenated.
pub fn new_idempotence_id() -> [u8; 36] {
    let mut text = [0u8; 36];
    uuid::Builder::from_random_bytes(random_16())
        .into_uuid()
        .hyphenated()
        .encode_lower(&mut text);
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_lowercase_v4_across_many_refills_and_threads() {
        let per_thread = 3 * POOL_BYTES / 16 + 7;
        let ids: Vec<[u8; 36]> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        (0..per_thread)
                            .map(|_| new_idempotence_id())
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        let unique: HashSet<_> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len());
        for id in ids.iter().take(300) {
            let text = std::str::from_utf8(id).unwrap();
            let uuid = uuid::Uuid::parse_str(text).unwrap();
            assert_eq!(uuid.get_version_num(), 4);
            assert_eq!(uuid.get_variant(), uuid::Variant::RFC4122);
            assert_eq!(text, text.to_lowercase());
        }
    }
}
