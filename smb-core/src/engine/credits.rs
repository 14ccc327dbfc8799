//! The CommandSequenceWindow of MS-SMB2 3.3.1.1: which message ids a client may use, consumed
//! by requests (one per credit charged) and extended by the credits responses grant.

use std::collections::BTreeSet;

/// Most outstanding credits a connection may hold (Windows and Samba use 8192).
pub(crate) const MAX_CREDITS: u64 = 8192;

#[derive(Debug)]
pub(crate) struct Credits {
    /// Lowest id not yet used.
    low: u64,
    /// One past the highest id granted.
    high: u64,
    /// Ids in `low..high` already used (clients may use granted ids out of order).
    used: BTreeSet<u64>,
}

impl Default for Credits {
    /// A new connection may send exactly message id 0 (its NEGOTIATE).
    fn default() -> Self {
        Credits { low: 0, high: 1, used: BTreeSet::new() }
    }
}

impl Credits {
    /// Consumes `charge` ids from `message_id` (MS-SMB2 3.3.5.2.3); false if any is not granted
    /// or already used: the client exceeded its credits.
    pub(crate) fn consume(&mut self, message_id: u64, charge: u16) -> bool {
        let charge = u64::from(charge.max(1));
        let Some(end) = message_id.checked_add(charge) else { return false };
        if message_id < self.low || end > self.high || self.used.range(message_id..end).next().is_some() {
            return false;
        }
        for id in message_id..end {
            self.used.insert(id);
        }
        while self.used.remove(&self.low) {
            self.low += 1;
        }
        true
    }

    /// Grants up to `requested` more credits (at least one when the client would otherwise be
    /// left with none), within [`MAX_CREDITS`]. Returns how many were granted.
    pub(crate) fn grant(&mut self, requested: u16) -> u16 {
        let outstanding = self.outstanding();
        let room = MAX_CREDITS.saturating_sub(self.high - self.low);
        let floor = u64::from(outstanding == 0);
        let granted = u64::from(requested).max(floor).min(room);
        self.high += granted;
        granted as u16
    }

    /// Ids the client may still use.
    pub(crate) fn outstanding(&self) -> u64 {
        self.high - self.low - self.used.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_connection_may_send_only_message_zero() {
        let mut credits = Credits::default();
        assert!(!credits.consume(1, 1));
        assert!(credits.consume(0, 1));
        assert!(!credits.consume(0, 1), "ids are single-use");
    }

    #[test]
    fn granted_credits_may_be_used_out_of_order() {
        let mut credits = Credits::default();
        assert!(credits.consume(0, 1));
        assert_eq!(credits.grant(4), 4);
        assert!(credits.consume(3, 1));
        assert!(credits.consume(1, 2));
        assert!(credits.consume(4, 1));
        assert!(!credits.consume(5, 1), "beyond the grant");
        assert_eq!(credits.outstanding(), 0);
    }

    #[test]
    fn multi_credit_requests_consume_their_whole_charge() {
        let mut credits = Credits::default();
        credits.consume(0, 1);
        credits.grant(8);
        assert!(!credits.consume(1, 9), "charge beyond the window");
        assert!(credits.consume(1, 8));
    }

    #[test]
    fn the_window_never_exceeds_the_maximum_and_never_leaves_a_client_without_credit() {
        let mut credits = Credits::default();
        credits.consume(0, 1);
        assert_eq!(credits.grant(0), 1, "a client with no credits gets one");
        assert_eq!(credits.grant(u16::MAX), (MAX_CREDITS - 1) as u16);
        assert_eq!(credits.grant(10), 0);
    }
}
