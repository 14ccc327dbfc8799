//! The acceptor's replay cache (RFC 4120 section 3.2.3, which Windows keeps): an authenticator
//! presented again while its ctime is still within the clock skew is refused with
//! KRB_AP_ERR_REPEAT, so that a captured AP-REQ cannot open a second session.
//!
//! Identity. An authenticator is its client and server principals, its ctime and cusec (the
//! fields RFC 4120 names) and a hash of its ciphertext (MIT's "hash of the message" extension).
//! The ciphertext makes two authenticators with the same timestamp distinct: Windows clients
//! stamp them from a coarse clock, and several made within one tick (concurrent connections)
//! are legitimate. It opens no hole: a replay copies the bytes, and only a holder of the session
//! key can make a second valid ciphertext. Each entry is one SHA-256 digest of all of that and
//! the second it expires, 40 bytes in a [`BTreeSet`] ordered by expiry.
//!
//! Time. No clock is read here: every call takes the engine's [`Now`], of which the wall clock
//! counts, since ctime is wall-clock time. An entry is needed while its ctime passes the skew
//! check, that is until `ctime + skew`. The contract with the caller: check the skew first and
//! answer KRB_AP_ERR_SKEW (with the server's time, MS-KILE 3.4.5); the cache checks it again
//! and refuses an authenticator outside the window as [`Refusal::Skew`] rather than admit one
//! it could not recognise again, so the same authenticator after its window is refused (as
//! skewed), never accepted. Expired entries are forgotten only when the cache needs their room:
//! if the wall clock steps back, entries whose room was not needed yet still catch replays of
//! authenticators the step brought back into the window.
//!
//! Bound. At most `capacity` entries. Full of unexpired entries, the cache refuses new
//! authenticators ([`Refusal::Full`]) instead of forgetting one: a forgotten entry is a replay
//! let through, while a refused sign-in is visible (an audit event, and the client retries).

use std::collections::BTreeSet;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::keytab::Principal;
use super::messages::error::ErrorCode;
use crate::engine::clock::Now;

/// Entries held at most by default: 65,536 authenticators within one skew window, 40 bytes each
/// (2.5 MiB) plus the tree's slack.
pub(crate) const DEFAULT_CAPACITY: usize = 65_536;

/// The default maximum clock skew: 5 minutes, as MIT's `clockskew` and Windows' "maximum
/// tolerance for computer clock synchronization" default to.
pub(crate) const DEFAULT_SKEW: Duration = Duration::from_secs(300);

/// One presentation of an authenticator: the SHA-256 of what identifies it, and its ctime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Presented {
    digest: [u8; 32],
    ctime: i64,
}

impl Presented {
    /// `ciphertext` is the authenticator's cipher as it arrived (EncryptedData cipher).
    pub(crate) fn new(client: &Principal, server: &Principal, ctime: i64, cusec: u32, ciphertext: &[u8]) -> Presented {
        let mut hash = Sha256::new();
        // Every variable-length field is length-prefixed, so no two field lists hash alike. The
        // name types are left out: they are hints, not part of the name (RFC 4120 section 6.2).
        let mut counted = |bytes: &[u8]| {
            hash.update((bytes.len() as u64).to_be_bytes());
            hash.update(bytes);
        };
        for principal in [client, server] {
            counted(principal.realm.as_bytes());
            counted(&(principal.components.len() as u64).to_be_bytes());
            for component in &principal.components {
                counted(component.as_bytes());
            }
        }
        counted(&ctime.to_be_bytes());
        counted(&cusec.to_be_bytes());
        counted(&Sha256::digest(ciphertext));
        Presented { digest: hash.finalize().into(), ctime }
    }
}

/// Why the cache refused an authenticator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Presented before within its window: a replay.
    Replay,
    /// Its ctime is more than the skew from now; the caller's own skew check should have
    /// refused it first.
    Skew,
    /// The cache is full of unexpired entries. Not the client's fault, or not provably: the
    /// caller records an audit event (many sign-ins within one window, perhaps a flood) and
    /// fails the sign-in with an NT status of resources (STATUS_INSUFFICIENT_RESOURCES), not
    /// of credentials.
    Full,
}

impl Refusal {
    /// The KRB-ERROR code the acceptor answers with (RFC 4120 section 7.5.9).
    pub(crate) fn error_code(self) -> ErrorCode {
        match self {
            Refusal::Replay => ErrorCode::KRB_AP_ERR_REPEAT,
            Refusal::Skew => ErrorCode::KRB_AP_ERR_SKEW,
            Refusal::Full => ErrorCode::KRB_ERR_GENERIC,
        }
    }
}

#[derive(Debug)]
pub(crate) struct ReplayCache {
    skew: i64,
    capacity: usize,
    /// (the last Unix second the entry is needed, digest), soonest expiry first. The expiry is
    /// a function of the ctime, so a lookup knows where to look.
    entries: BTreeSet<(i64, [u8; 32])>,
}

impl Default for ReplayCache {
    fn default() -> ReplayCache {
        ReplayCache::new(DEFAULT_SKEW, DEFAULT_CAPACITY)
    }
}

impl ReplayCache {
    /// A cache for authenticators within `skew` (whole seconds) of the wall clock, holding at
    /// most `capacity` of them (0 refuses every authenticator as [`Refusal::Full`]).
    pub(crate) fn new(skew: Duration, capacity: usize) -> ReplayCache {
        ReplayCache { skew: i64::try_from(skew.as_secs()).unwrap_or(i64::MAX), capacity, entries: BTreeSet::new() }
    }

    /// Admits `presented` at `now` and remembers it until its window closes, or refuses it.
    pub(crate) fn admit(&mut self, presented: &Presented, now: Now) -> Result<(), Refusal> {
        let now = now.unix().0;
        if presented.ctime < now.saturating_sub(self.skew) || presented.ctime > now.saturating_add(self.skew) {
            return Err(Refusal::Skew);
        }
        let entry = (presented.ctime.saturating_add(self.skew), presented.digest);
        if self.entries.contains(&entry) {
            return Err(Refusal::Replay);
        }
        if self.entries.len() >= self.capacity {
            self.forget_expired(now);
            if self.entries.len() >= self.capacity {
                return Err(Refusal::Full);
            }
        }
        self.entries.insert(entry);
        Ok(())
    }

    /// Changes the skew; what the cache holds is kept for the new window (each entry stays
    /// until its ctime plus the new skew), so a larger skew lets no remembered authenticator in.
    pub(crate) fn set_skew(&mut self, skew: Duration) {
        let skew = i64::try_from(skew.as_secs()).unwrap_or(i64::MAX);
        if skew != self.skew {
            let shift = skew.saturating_sub(self.skew);
            self.entries = std::mem::take(&mut self.entries)
                .into_iter()
                .map(|(expiry, digest)| (expiry.saturating_add(shift), digest))
                .collect();
            self.skew = skew;
        }
    }

    /// Forgets the entries whose window closed before `now`.
    fn forget_expired(&mut self, now: i64) {
        while self.entries.first().is_some_and(|(expiry, _)| *expiry < now) {
            self.entries.pop_first();
        }
    }

    /// Entries held now, expired ones not yet forgotten included.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Instant, UNIX_EPOCH};

    use super::*;

    /// 2026-12-07T04:04:16Z.
    const T: i64 = 1_796_616_256;

    fn at(unix: i64) -> Now {
        let system = UNIX_EPOCH + Duration::from_secs(unix.try_into().unwrap());
        Now { instant: Instant::now(), system }
    }

    fn alice() -> Principal {
        Principal::new("EXAMPLE.COM", &["alice"], 1)
    }

    fn cifs() -> Principal {
        Principal::new("EXAMPLE.COM", &["cifs", "fs.example.com"], 3)
    }

    fn presented(ctime: i64, cusec: u32) -> Presented {
        Presented::new(&alice(), &cifs(), ctime, cusec, b"ciphertext")
    }

    #[test]
    fn a_second_presentation_within_the_window_is_refused_as_a_replay() {
        let mut cache = ReplayCache::default();
        assert_eq!(cache.admit(&presented(T, 391_887), at(T)), Ok(()));
        assert_eq!(cache.admit(&presented(T, 391_887), at(T)), Err(Refusal::Replay));
        // To the last second of the window, on either side of ctime.
        assert_eq!(cache.admit(&presented(T, 391_887), at(T + 300)), Err(Refusal::Replay));
        assert_eq!(cache.admit(&presented(T + 300, 0), at(T)), Ok(()));
        assert_eq!(cache.admit(&presented(T + 300, 0), at(T + 600)), Err(Refusal::Replay));
        assert_eq!(Refusal::Replay.error_code(), ErrorCode::KRB_AP_ERR_REPEAT);
    }

    #[test]
    fn after_its_window_the_same_authenticator_is_refused_as_skewed_never_accepted() {
        let mut cache = ReplayCache::default();
        assert_eq!(cache.admit(&presented(T, 1), at(T)), Ok(()));
        assert_eq!(cache.admit(&presented(T, 1), at(T + 301)), Err(Refusal::Skew));
        assert_eq!(cache.admit(&presented(T, 1), at(T - 301)), Err(Refusal::Skew));
        assert_eq!(cache.admit(&presented(T, 1), at(i64::MAX / 2)), Err(Refusal::Skew));
        assert_eq!(Refusal::Skew.error_code(), ErrorCode::KRB_AP_ERR_SKEW);
    }

    #[test]
    fn another_cusec_ctime_client_server_or_ciphertext_is_another_authenticator() {
        let mut cache = ReplayCache::default();
        let bob = Principal::new("EXAMPLE.COM", &["bob"], 1);
        let host = Principal::new("EXAMPLE.COM", &["host", "fs.example.com"], 3);
        let other_realm = Principal::new("OTHER.EXAMPLE", &["alice"], 1);
        let all = [
            presented(T, 1),
            presented(T, 2),
            presented(T + 1, 1),
            Presented::new(&bob, &cifs(), T, 1, b"ciphertext"),
            Presented::new(&other_realm, &cifs(), T, 1, b"ciphertext"),
            Presented::new(&alice(), &host, T, 1, b"ciphertext"),
            // Two made within one tick of a coarse client clock.
            Presented::new(&alice(), &cifs(), T, 1, b"other ciphertext"),
        ];
        for presented in &all {
            assert_eq!(cache.admit(presented, at(T)), Ok(()), "{presented:?}");
        }
        for presented in &all {
            assert_eq!(cache.admit(presented, at(T)), Err(Refusal::Replay), "{presented:?}");
        }
        // The name type is a hint: the same name under another type is the same client.
        let typed = Presented::new(&Principal::new("EXAMPLE.COM", &["alice"], 0), &cifs(), T, 1, b"ciphertext");
        assert_eq!(typed, all[0]);
        // Components are counted: "a/b" + "c" is not "a" + "b/c" nor "ab" + "c".
        let split = |components: &[&str]| Presented::new(&Principal::new("R", components, 1), &cifs(), T, 1, b"");
        assert_ne!(split(&["a", "bc"]), split(&["ab", "c"]));
        assert_ne!(split(&["a", ""]), split(&["a"]));
    }

    #[test]
    fn the_cache_never_holds_more_than_its_capacity_and_forgets_expired_entries_to_make_room() {
        let mut cache = ReplayCache::new(DEFAULT_SKEW, DEFAULT_CAPACITY);
        for cusec in 0..DEFAULT_CAPACITY as u32 {
            assert_eq!(cache.admit(&presented(T, cusec), at(T)), Ok(()));
        }
        assert_eq!(cache.len(), DEFAULT_CAPACITY);
        // Past the window every entry has expired; the next authenticator reclaims them all.
        let later = T + 301;
        for cusec in 0..10 {
            assert_eq!(cache.admit(&presented(later, cusec), at(later)), Ok(()));
            assert!(cache.len() <= DEFAULT_CAPACITY);
        }
        assert_eq!(cache.len(), 10);
    }

    #[test]
    fn a_cache_full_of_unexpired_entries_refuses_new_authenticators_and_still_recognises_replays() {
        let mut cache = ReplayCache::new(DEFAULT_SKEW, 64);
        for cusec in 0..64 {
            assert_eq!(cache.admit(&presented(T, cusec), at(T)), Ok(()));
        }
        assert_eq!(cache.admit(&presented(T, 64), at(T)), Err(Refusal::Full));
        assert_eq!(cache.admit(&presented(T + 1, 0), at(T + 300)), Err(Refusal::Full));
        assert_eq!(cache.admit(&presented(T, 0), at(T + 300)), Err(Refusal::Replay), "nothing was forgotten");
        assert_eq!(cache.len(), 64);
        assert_eq!(Refusal::Full.error_code(), ErrorCode::KRB_ERR_GENERIC);

        // Entries expire one by one as their windows close, making room for as many.
        let mut cache = ReplayCache::new(DEFAULT_SKEW, 2);
        assert_eq!(cache.admit(&presented(T, 0), at(T)), Ok(()));
        assert_eq!(cache.admit(&presented(T + 10, 0), at(T)), Ok(()));
        assert_eq!(cache.admit(&presented(T + 20, 0), at(T + 300)), Err(Refusal::Full));
        assert_eq!(cache.admit(&presented(T + 20, 0), at(T + 301)), Ok(()));
        assert_eq!(cache.admit(&presented(T + 20, 1), at(T + 301)), Err(Refusal::Full));
        assert_eq!(cache.admit(&presented(T + 10, 0), at(T + 301)), Err(Refusal::Replay));

        assert_eq!(ReplayCache::new(DEFAULT_SKEW, 0).admit(&presented(T, 0), at(T)), Err(Refusal::Full));
    }

    #[test]
    fn an_entry_outlives_its_window_while_there_is_room_so_a_clock_stepped_back_still_finds_it() {
        let mut cache = ReplayCache::new(DEFAULT_SKEW, 16);
        assert_eq!(cache.admit(&presented(T, 0), at(T)), Ok(()));
        assert_eq!(cache.admit(&presented(T + 400, 0), at(T + 400)), Ok(()));
        // The wall clock steps back five minutes: T is inside the window again, and still known.
        assert_eq!(cache.admit(&presented(T, 0), at(T + 100)), Err(Refusal::Replay));
    }

    #[test]
    fn a_wall_clock_before_1970_or_at_the_ends_of_time_does_not_panic() {
        let mut cache = ReplayCache::new(Duration::MAX, 4);
        let before = Now { instant: Instant::now(), system: UNIX_EPOCH - Duration::from_secs(10) };
        assert_eq!(cache.admit(&presented(-10, 0), before), Ok(()));
        // A skew of Duration::MAX admits every ctime the arithmetic reaches, and saturates.
        assert_eq!(cache.admit(&presented(i64::MAX - 10, 0), before), Ok(()));
        assert_eq!(cache.admit(&presented(i64::MAX, 0), before), Err(Refusal::Skew));
        assert_eq!(cache.admit(&presented(i64::MIN, 0), before), Ok(()));
        assert_eq!(cache.admit(&presented(i64::MAX - 10, 0), before), Err(Refusal::Replay));
        assert_eq!(crate::engine::clock::unix(UNIX_EPOCH - Duration::from_millis(1_500)).0, -2);
        assert_eq!(crate::engine::clock::unix(UNIX_EPOCH + Duration::from_millis(1_500)).0, 1);
    }
}
