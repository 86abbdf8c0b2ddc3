//! The open connections, so that an administrator can disconnect a station (docs/http.md,
//! SIP2 stations: deleting a station closes its connections).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Notify;

#[derive(Debug)]
struct Entry {
    station: Option<String>,
    kick: Arc<Notify>,
}

#[derive(Debug, Default)]
pub(crate) struct Registry {
    connections: Mutex<HashMap<u64, Entry>>,
    next_id: Mutex<u64>,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Entry>> {
        // A panic while holding the lock leaves the map consistent (single inserts and
        // removes), so a poisoned lock is still usable.
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// A new connection: its id and the notification that disconnects it.
    pub(crate) fn register(&self) -> (u64, Arc<Notify>) {
        let id = {
            let mut next = self.next_id.lock().unwrap_or_else(PoisonError::into_inner);
            *next += 1;
            *next
        };
        let kick = Arc::new(Notify::new());
        self.lock().insert(
            id,
            Entry {
                station: None,
                kick: kick.clone(),
            },
        );
        (id, kick)
    }

    /// Records which station is logged in on connection `id`.
    pub(crate) fn set_station(&self, id: u64, station: Option<&str>) {
        if let Some(entry) = self.lock().get_mut(&id)
            && entry.station.as_deref() != station
        {
            entry.station = station.map(str::to_owned);
        }
    }

    pub(crate) fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// Disconnects every connection of `station_id`; how many there were.
    pub(crate) fn disconnect_station(&self, station_id: &str) -> usize {
        let connections = self.lock();
        let mut count = 0;
        for entry in connections.values() {
            if entry.station.as_deref() == Some(station_id) {
                entry.kick.notify_one();
                count += 1;
            }
        }
        count
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}

/// Removes its connection from the registry when dropped.
#[derive(Debug)]
pub(crate) struct Registered {
    pub registry: Arc<Registry>,
    pub id: u64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.registry.remove(self.id);
    }
}
