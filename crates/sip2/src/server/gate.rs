//! The connections not logged in yet, counted per peer and in total, so that idle or
//! half-open connections cannot take every slot (docs/sip2.md, Connection limits).
//!
//! A connection takes a [`Pass`] when it is accepted (or when a logged-in connection is
//! logged out by a refused `93`) and gives it back when it logs in or closes. Peers are
//! keyed by their IPv4 address, or by the /64 of an IPv6 address (one host usually holds a
//! whole /64); an IPv4 address mapped into IPv6 counts as the IPv4 address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// What the per-peer cap counts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum PeerKey {
    V4(u32),
    /// The first 64 bits.
    V6(u64),
}

impl PeerKey {
    pub(crate) fn of(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V4(v4) => PeerKey::V4(u32::from(v4)),
            IpAddr::V6(v6) => PeerKey::V6((u128::from(v6) >> 64) as u64),
        }
    }
}

#[derive(Debug, Default)]
struct Counts {
    per_peer: HashMap<PeerKey, usize>,
    total: usize,
}

/// The counts of connections not logged in, with their caps.
#[derive(Debug)]
pub(crate) struct Gate {
    per_peer_cap: usize,
    total_cap: usize,
    counts: Mutex<Counts>,
}

/// One connection not logged in; counted until dropped.
#[derive(Debug)]
pub(crate) struct Pass {
    gate: Arc<Gate>,
    key: PeerKey,
}

impl Gate {
    pub(crate) fn new(per_peer_cap: usize, total_cap: usize) -> Arc<Self> {
        Arc::new(Self {
            per_peer_cap: per_peer_cap.max(1),
            total_cap: total_cap.max(1),
            counts: Mutex::default(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        // Single increments and decrements: a poisoned lock holds consistent counts.
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A pass for one more connection from `ip`, or `None` when it would pass the cap of
    /// its peer or the total.
    pub(crate) fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Pass> {
        let key = PeerKey::of(ip);
        let mut counts = self.lock();
        let of_peer = counts.per_peer.get(&key).copied().unwrap_or(0);
        if of_peer >= self.per_peer_cap || counts.total >= self.total_cap {
            return None;
        }
        counts.per_peer.insert(key, of_peer + 1);
        counts.total += 1;
        Some(Pass {
            gate: self.clone(),
            key,
        })
    }

    /// Connections not logged in now: in total, and from `ip`'s peer.
    #[cfg(test)]
    fn count(&self, ip: IpAddr) -> (usize, usize) {
        let counts = self.lock();
        (
            counts.total,
            counts.per_peer.get(&PeerKey::of(ip)).copied().unwrap_or(0),
        )
    }
}

impl Drop for Pass {
    fn drop(&mut self) {
        let mut counts = self.gate.lock();
        counts.total = counts.total.saturating_sub(1);
        if let Some(n) = counts.per_peer.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                counts.per_peer.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn four_per_peer_then_refused_until_one_leaves() {
        let gate = Gate::new(4, 32);
        let passes: Vec<Pass> = (0..4)
            .map(|_| gate.admit(ip("127.0.0.2")).unwrap())
            .collect();
        assert!(
            gate.admit(ip("127.0.0.2")).is_none(),
            "the fifth from one address"
        );
        assert!(
            gate.admit(ip("::ffff:127.0.0.2")).is_none(),
            "the same, IPv4-mapped"
        );
        let other = gate
            .admit(ip("127.0.0.3"))
            .expect("another address has room");
        assert_eq!(gate.count(ip("127.0.0.2")), (5, 4));
        drop(passes);
        assert_eq!(gate.count(ip("127.0.0.2")), (1, 0));
        assert!(gate.admit(ip("127.0.0.2")).is_some());
        drop(other);
        assert!(gate.lock().per_peer.is_empty(), "no entry left behind");
    }

    #[test]
    fn an_ipv6_peer_is_its_slash_64() {
        let gate = Gate::new(2, 32);
        let _a = gate.admit(ip("2001:db8:1:2::1")).unwrap();
        let _b = gate.admit(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")).unwrap();
        assert!(gate.admit(ip("2001:db8:1:2::99")).is_none(), "same /64");
        assert!(gate.admit(ip("2001:db8:1:3::1")).is_some(), "next /64");
    }

    #[test]
    fn the_total_caps_every_peer_together() {
        let gate = Gate::new(4, 32);
        let passes: Vec<Pass> = (1..=32)
            .map(|i| gate.admit(ip(&format!("10.0.0.{i}"))).unwrap())
            .collect();
        assert!(gate.admit(ip("10.0.1.1")).is_none(), "the 33rd in total");
        drop(passes);
        assert!(gate.admit(ip("10.0.1.1")).is_some());
        assert_eq!(PeerKey::of(ip("10.0.0.1")), PeerKey::V4(0x0a00_0001));
    }
}
