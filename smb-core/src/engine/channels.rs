//! Multichannel: one session on several connections (MS-SMB2 3.3.1.8 Session.ChannelList,
//! 3.3.5.5 session binding, 3.3.7.1 channel loss).
//!
//! Every session lives in the server's GlobalSessionTable as a [`SessionSlot`]. A connection
//! serving requests takes the sessions bound to it out of their slots for the time one message
//! (or wake-up, or break) is handled, and puts them back after: handlers see them in
//! `Connection::sessions` as they always did, and two channels of one session take turns.
//! What a binding connection must check before it may use a session ([`Facts`]) is kept beside
//! the slot, so binding never waits for the session itself.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::auth::Acceptor;
use crate::crypto::{PreauthHash, Signer};
use crate::engine::ids::{ConnectionId, SessionId};
use crate::engine::session::Session;
use crate::engine::shared::lock;
use crate::proto::negotiate::{Cipher, Dialect, SigningAlgorithm};

/// The most connections one session may be bound to, as on Windows: the next bind gets
/// STATUS_INSUFFICIENT_RESOURCES.
pub(crate) const MAX_CHANNELS: usize = 32;

/// How long a connection waits for another channel of the same session to finish with it
/// before it treats the session as unavailable for this message.
const TAKE_WAIT: Duration = Duration::from_secs(30);

/// What binding checks about an established session (MS-SMB2 3.3.5.5 step 4), fixed when it
/// was established.
pub(crate) struct Facts {
    pub dialect: Dialect,
    pub signing_algorithm: SigningAlgorithm,
    pub cipher: Option<Cipher>,
    /// Session.SigningKey: verifies the binding request, signs the bind's interim responses.
    pub signer: Arc<Signer>,
    pub user: String,
}

/// A session in the GlobalSessionTable.
#[derive(Default)]
pub(crate) struct SessionSlot {
    inner: Mutex<SlotState>,
    returned: Condvar,
}

#[derive(Default)]
struct SlotState {
    /// None while a connection works with it.
    session: Option<Session>,
    ended: bool,
    /// Session.ChannelList: the connections it is bound to, the first its home.
    channels: Vec<ConnectionId>,
    facts: Option<Arc<Facts>>,
}

impl SessionSlot {
    pub(crate) fn new(first: ConnectionId) -> SessionSlot {
        SessionSlot {
            inner: Mutex::new(SlotState { channels: vec![first], ..SlotState::default() }),
            returned: Condvar::new(),
        }
    }

    /// Takes the session for one message; waits while another channel has it. `None` when it
    /// has ended, or another channel held it too long.
    pub(crate) fn take(&self) -> Option<Session> {
        let state = lock(&self.inner);
        let (mut state, _) = self
            .returned
            .wait_timeout_while(state, TAKE_WAIT, |s| s.session.is_none() && !s.ended)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if state.ended { None } else { state.session.take() }
    }

    /// Puts the session back; records its facts once it is established.
    pub(crate) fn put(&self, session: Session, facts: impl FnOnce(&Session) -> Option<Facts>) {
        let mut state = lock(&self.inner);
        if state.facts.is_none() {
            state.facts = facts(&session).map(Arc::new);
        }
        state.session = Some(session);
        drop(state);
        self.returned.notify_all();
    }

    /// The session has ended (logoff, a failed re-authentication, its last channel lost).
    pub(crate) fn end(&self) {
        let mut state = lock(&self.inner);
        state.ended = true;
        state.session = None;
        drop(state);
        self.returned.notify_all();
    }

    pub(crate) fn ended(&self) -> bool {
        lock(&self.inner).ended
    }

    pub(crate) fn facts(&self) -> Option<Arc<Facts>> {
        let state = lock(&self.inner);
        if state.ended { None } else { state.facts.clone() }
    }

    /// How many connections it is bound to.
    pub(crate) fn channel_count(&self) -> usize {
        lock(&self.inner).channels.len()
    }

    /// Adds a channel; false when the session has [`MAX_CHANNELS`] already or has ended.
    pub(crate) fn bind(&self, connection: ConnectionId) -> bool {
        let mut state = lock(&self.inner);
        if state.ended || state.channels.len() >= MAX_CHANNELS {
            return false;
        }
        if !state.channels.contains(&connection) {
            state.channels.push(connection);
        }
        true
    }

    /// Removes a channel; returns the channels left.
    pub(crate) fn unbind(&self, connection: ConnectionId) -> Vec<ConnectionId> {
        let mut state = lock(&self.inner);
        state.channels.retain(|c| *c != connection);
        state.channels.clone()
    }
}

/// Session.ChannelList seen from one connection: a session bound to it.
pub(crate) struct Channel {
    pub slot: Arc<SessionSlot>,
    /// Channel.SigningKey of a channel added by binding; `None` on the connection that
    /// established the session, whose channel key is the session's.
    pub signer: Option<Arc<Signer>>,
}

/// A binding in progress on a connection (MS-SMB2 3.3.5.5, Connection.PreauthSessionTable): its
/// own authentication exchange and, for 3.1.1, its own preauthentication hash.
pub(crate) struct Bind {
    pub slot: Arc<SessionSlot>,
    pub facts: Arc<Facts>,
    pub acceptor: Acceptor,
    pub preauth: PreauthHash,
}

/// The GlobalSessionTable (MS-SMB2 3.3.1.5).
#[derive(Default)]
pub(crate) struct SessionTable {
    slots: HashMap<SessionId, Arc<SessionSlot>>,
}

impl SessionTable {
    pub(crate) fn insert(&mut self, id: SessionId, slot: Arc<SessionSlot>) {
        self.slots.insert(id, slot);
    }

    pub(crate) fn get(&self, id: SessionId) -> Option<Arc<SessionSlot>> {
        self.slots.get(&id).filter(|slot| !slot.ended()).cloned()
    }

    /// Forgets `slot` under `id` (not a newer session that reused the id).
    pub(crate) fn remove(&mut self, id: SessionId, slot: &Arc<SessionSlot>) {
        if self.slots.get(&id).is_some_and(|s| Arc::ptr_eq(s, slot)) {
            self.slots.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn session(id: u64) -> Session {
        Session::new(SessionId(id), PreauthHash::default(), ConnectionId(1), Instant::now())
    }

    #[test]
    fn a_session_taken_by_one_channel_is_handed_to_the_other_when_put_back() {
        let slot = Arc::new(SessionSlot::new(ConnectionId(1)));
        slot.put(session(7), |_| None);
        let taken = slot.take().expect("available");
        let other = slot.clone();
        let waiter = std::thread::spawn(move || other.take().map(|s| s.id));
        std::thread::sleep(Duration::from_millis(20));
        assert!(!waiter.is_finished(), "the second channel waits while the first has the session");
        slot.put(taken, |_| None);
        assert_eq!(waiter.join().expect("no panic"), Some(SessionId(7)));
    }

    #[test]
    fn an_ended_session_wakes_its_waiting_channels_with_nothing() {
        let slot = Arc::new(SessionSlot::new(ConnectionId(1)));
        slot.put(session(7), |_| None);
        let _taken = slot.take();
        let other = slot.clone();
        let waiter = std::thread::spawn(move || other.take().is_none());
        slot.end();
        assert!(waiter.join().expect("no panic"));
    }

    #[test]
    fn a_session_takes_at_most_thirty_two_channels() {
        let slot = SessionSlot::new(ConnectionId(1));
        for id in 2..=MAX_CHANNELS as u64 {
            assert!(slot.bind(ConnectionId(id)));
        }
        assert!(!slot.bind(ConnectionId(100)));
        assert_eq!(slot.unbind(ConnectionId(1)).first(), Some(&ConnectionId(2)));
    }
}
