//! The registry of live clients. An `OdpClient *` is never dereferenced: it is a token that
//! encodes a slot index and a generation, checked on every call, so a stale, freed, double-freed
//! or forged handle is an error code, never undefined behaviour.

use std::sync::{Arc, RwLock};

use once_cell::sync::Lazy;

use crate::core::{Client, Error, ErrorKind};

/// An ODP client, as C sees it: an opaque type, only ever used through `OdpClient *` handles
/// that `odp_client_new` returns. The pointer is a token, never dereferenced by anyone.
pub struct OdpClient {
    _private: [u8; 0],
}

/// Top 16 bits of every handle on 64-bit targets, so random pointers are rejected before any
/// lookup; 32-bit targets have no room for it.
#[cfg(target_pointer_width = "64")]
const MAGIC: usize = 0x0D9A << 48;
#[cfg(target_pointer_width = "64")]
const MAGIC_MASK: usize = 0xFFFF << 48;
#[cfg(target_pointer_width = "64")]
const GENERATION_BITS: u32 = 32;
#[cfg(not(target_pointer_width = "64"))]
const MAGIC: usize = 0;
#[cfg(not(target_pointer_width = "64"))]
const MAGIC_MASK: usize = 0;
#[cfg(not(target_pointer_width = "64"))]
const GENERATION_BITS: u32 = 16;

/// Low 16 bits: slot index + 1 (so no handle is NULL).
const INDEX_BITS: u32 = 16;
const MAX_SLOTS: usize = (1 << INDEX_BITS) - 1;
const GENERATION_MASK: u64 = (1u64 << GENERATION_BITS) - 1;

struct Slot {
    generation: u64,
    client: Option<Arc<Client>>,
}

struct Registry {
    slots: Vec<Slot>,
    free: Vec<usize>,
    /// Generations are unique across all slots (a handle from one slot never validates in
    /// another), and wrap only after 2^32 clients on 64-bit targets.
    next_generation: u64,
}

static REGISTRY: Lazy<RwLock<Registry>> = Lazy::new(|| {
    // A fork while another thread holds the registry lock would leave it locked in the child.
    crate::core::fork::register_lock(|| {
        Box::new(REGISTRY.write().unwrap_or_else(|e| e.into_inner()))
    });
    RwLock::new(Registry {
        slots: Vec::new(),
        free: Vec::new(),
        next_generation: 1,
    })
});

fn encode(index: usize, generation: u64) -> *mut OdpClient {
    let token = MAGIC | ((generation as usize) << INDEX_BITS) | (index + 1);
    // A token, not an address: no provenance, never dereferenced.
    std::ptr::without_provenance_mut(token)
}

fn decode(handle: *const OdpClient) -> Option<(usize, u64)> {
    let token = handle.addr();
    if token & MAGIC_MASK != MAGIC {
        return None;
    }
    let index = (token & MAX_SLOTS).checked_sub(1)?;
    let generation = ((token & !MAGIC_MASK) >> INDEX_BITS) as u64;
    Some((index, generation))
}

fn invalid(handle: *const OdpClient) -> Error {
    Error::with_detail(
        ErrorKind::InvalidHandle,
        format!("{handle:p} is not a live client handle (freed, stale or never created)"),
    )
}

/// Registers a client; returns its handle.
pub(crate) fn insert(client: Client) -> Result<*mut OdpClient, Error> {
    let mut reg = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    let generation = reg.next_generation;
    reg.next_generation = (generation + 1) & GENERATION_MASK;
    if reg.next_generation == 0 {
        reg.next_generation = 1;
    }
    let index = match reg.free.pop() {
        Some(i) => i,
        None if reg.slots.len() < MAX_SLOTS => {
            reg.slots.push(Slot {
                generation: 0,
                client: None,
            });
            reg.slots.len() - 1
        }
        None => {
            return Err(Error::with_detail(
                ErrorKind::Internal,
                format!("too many live clients (at most {MAX_SLOTS})"),
            ))
        }
    };
    reg.slots[index] = Slot {
        generation,
        client: Some(Arc::new(client)),
    };
    Ok(encode(index, generation))
}

/// The live client behind a handle.
pub(crate) fn get(handle: *const OdpClient) -> Result<Arc<Client>, Error> {
    let (index, generation) = decode(handle).ok_or_else(|| invalid(handle))?;
    let reg = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    match reg.slots.get(index) {
        Some(Slot {
            generation: g,
            client: Some(c),
        }) if *g == generation => Ok(Arc::clone(c)),
        _ => Err(invalid(handle)),
    }
}

/// Unregisters a client; the handle is invalid from now on.
pub(crate) fn remove(handle: *const OdpClient) -> Result<Arc<Client>, Error> {
    let (index, generation) = decode(handle).ok_or_else(|| invalid(handle))?;
    let mut reg = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    let client = match reg.slots.get_mut(index) {
        Some(slot) if slot.generation == generation && slot.client.is_some() => slot.client.take(),
        _ => None,
    };
    let client = client.ok_or_else(|| invalid(handle))?;
    reg.free.push(index);
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        Client::from_json(
            r#"{"odp_api_key":"k","odp_api_host":"http://127.0.0.1:9","flush_interval_ms":0}"#,
        )
        .unwrap()
    }

    #[test]
    fn stale_double_freed_and_forged_handles_are_rejected() {
        let h = insert(client()).unwrap();
        assert!(get(h).is_ok());
        assert!(remove(h).is_ok());
        assert_eq!(get(h).unwrap_err().kind(), ErrorKind::InvalidHandle);
        assert_eq!(remove(h).unwrap_err().kind(), ErrorKind::InvalidHandle);
        // The slot is reused with a new generation; the old handle stays dead.
        let h2 = insert(client()).unwrap();
        assert_ne!(h, h2);
        assert_eq!(get(h).unwrap_err().kind(), ErrorKind::InvalidHandle);
        assert!(get(h2).is_ok());
        for forged in [1usize, 0xdead_beef, usize::MAX, h2.addr() ^ (1 << 20)] {
            assert_eq!(
                get(std::ptr::without_provenance(forged))
                    .unwrap_err()
                    .kind(),
                ErrorKind::InvalidHandle
            );
        }
        let local = 5u64;
        assert!(get(&local as *const u64 as *const OdpClient).is_err());
        remove(h2).unwrap();
    }
}
