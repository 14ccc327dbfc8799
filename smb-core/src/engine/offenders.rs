//! Client addresses that keep breaking the resource limits. Each offence (a connection closed at
//! the pre-authentication deadline, a frame too large before sign-in, responses left unread past
//! the send timeout, too many unfinished sign-ins) is a strike against the client's address; an
//! address with `per_minute` strikes in its leaky bucket is refused new connections at once,
//! before any handshake, until the bucket has leaked one strike (it leaks `per_minute` a minute).
//! An address that keeps offending thus gets a trickle of connections instead of a flood, and one
//! that stops is back within about a minute (the bucket holds at most twice `per_minute`).
//!
//! Only connections that got past admission can offend, so a spoofed source address (which
//! cannot complete a TCP or QUIC handshake) cannot get someone else refused. IPv6 clients are
//! counted by their /64, which one attacker usually holds whole. No clock is read here: the
//! caller passes `now`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Addresses tracked at most; when full, strikes of new addresses are not recorded (fail open)
/// after forgetting those whose bucket has leaked empty.
pub(crate) const MAX_TRACKED: usize = 16_384;

const MINUTE: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
pub(crate) struct Offenders {
    buckets: HashMap<IpAddr, Bucket>,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    level: f64,
    at: Instant,
}

impl Bucket {
    /// The level at `now`, after leaking `per_minute` a minute since the last strike.
    fn level(self, per_minute: u32, now: Instant) -> f64 {
        let leaked =
            now.saturating_duration_since(self.at).as_secs_f64() * f64::from(per_minute) / MINUTE.as_secs_f64();
        (self.level - leaked).max(0.0)
    }
}

/// The key an address is counted under: IPv4 (or IPv4-mapped IPv6) as is, IPv6 by its /64.
fn key(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(_) => client,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
    }
}

impl Offenders {
    /// Records one offence of `client` at `now`. `per_minute` 0 turns the tracking off.
    pub(crate) fn strike(&mut self, client: IpAddr, per_minute: u32, now: Instant) {
        if per_minute == 0 {
            return;
        }
        let key = key(client);
        if self.buckets.len() >= MAX_TRACKED && !self.buckets.contains_key(&key) {
            self.buckets.retain(|_, bucket| bucket.level(per_minute, now) > 0.0);
            if self.buckets.len() >= MAX_TRACKED {
                return;
            }
        }
        let bucket = self.buckets.entry(key).or_insert(Bucket { level: 0.0, at: now });
        let level = bucket.level(per_minute, now) + 1.0;
        *bucket = Bucket { level: level.min(2.0 * f64::from(per_minute)), at: now };
    }

    /// Whether a new connection from `client` is refused at `now`.
    pub(crate) fn refuses(&mut self, client: IpAddr, per_minute: u32, now: Instant) -> bool {
        if per_minute == 0 {
            return false;
        }
        let key = key(client);
        let Some(bucket) = self.buckets.get(&key) else { return false };
        let level = bucket.level(per_minute, now);
        if level == 0.0 {
            self.buckets.remove(&key);
        }
        level > f64::from(per_minute) - 1.0
    }

    /// Addresses tracked now.
    #[cfg(test)]
    pub(crate) fn tracked(&self) -> usize {
        self.buckets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    const A: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn an_address_is_refused_once_its_strikes_reach_the_rate_and_others_are_not() {
        let (mut offenders, now) = (Offenders::default(), Instant::now());
        for _ in 0..19 {
            offenders.strike(A, 20, now);
        }
        assert!(!offenders.refuses(A, 20, now));
        offenders.strike(A, 20, now);
        assert!(offenders.refuses(A, 20, now));
        assert!(!offenders.refuses(B, 20, now));
    }

    #[test]
    fn a_refused_address_gets_a_connection_again_as_its_bucket_leaks() {
        let (mut offenders, now) = (Offenders::default(), Instant::now());
        for _ in 0..20 {
            offenders.strike(A, 20, now);
        }
        // 20 a minute leak one strike every 3 s.
        assert!(offenders.refuses(A, 20, now + Duration::from_millis(2_900)));
        assert!(!offenders.refuses(A, 20, now + Duration::from_millis(3_100)));
    }

    #[test]
    fn an_address_that_stops_offending_is_back_within_about_a_minute_however_many_its_strikes() {
        let (mut offenders, now) = (Offenders::default(), Instant::now());
        for _ in 0..10_000 {
            offenders.strike(A, 20, now);
        }
        // At most 40 strikes are kept; 21 leak in 63 s.
        assert!(offenders.refuses(A, 20, now + Duration::from_secs(62)));
        assert!(!offenders.refuses(A, 20, now + Duration::from_secs(64)));
        assert!(!offenders.refuses(A, 20, now + Duration::from_secs(121)));
        assert_eq!(offenders.tracked(), 0, "an empty bucket is forgotten");
    }

    #[test]
    fn a_rate_of_zero_turns_refusal_off() {
        let (mut offenders, now) = (Offenders::default(), Instant::now());
        for _ in 0..100 {
            offenders.strike(A, 0, now);
        }
        assert!(!offenders.refuses(A, 0, now));
        assert_eq!(offenders.tracked(), 0);
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64_and_mapped_ipv4_as_ipv4() {
        let (mut offenders, now) = (Offenders::default(), Instant::now());
        for n in 0..20_u16 {
            offenders.strike(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 1, n, n, n, n)), 20, now);
        }
        assert!(offenders.refuses(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 9, 9, 9, 9)), 20, now));
        assert!(!offenders.refuses(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 2, 0, 0, 0, 1)), 20, now));
        for _ in 0..20 {
            offenders.strike(IpAddr::V6(Ipv4Addr::new(192, 0, 2, 2).to_ipv6_mapped()), 20, now);
        }
        assert!(offenders.refuses(B, 20, now));
    }

    #[test]
    fn tracking_is_bounded_and_forgets_empty_buckets_first() {
        let (mut offenders, now) = (Offenders::default(), Instant::now());
        for n in 0..MAX_TRACKED as u32 {
            offenders.strike(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n)), 20, now);
        }
        assert_eq!(offenders.tracked(), MAX_TRACKED);
        // Still full: a new address is not recorded.
        for _ in 0..20 {
            offenders.strike(A, 20, now);
        }
        assert!(!offenders.refuses(A, 20, now));
        // One strike leaks in 3 s: four seconds later the old buckets are empty and make room.
        let later = now + Duration::from_secs(4);
        for _ in 0..20 {
            offenders.strike(A, 20, later);
        }
        assert!(offenders.refuses(A, 20, later));
        assert_eq!(offenders.tracked(), 1);
    }
}
