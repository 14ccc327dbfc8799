//! The engine's own ids, each a type of its own so that one cannot stand in for another (a
//! connection id where an async id belongs, a session id where a tree id belongs, a file's device
//! where its inode belongs). What the engine tells the outside (events, [`crate::EngineHandle`])
//! carries them as plain numbers, and so does the wire ([`crate::proto`]): the engine converts
//! where it reads a header or writes one.

use std::fmt;

/// A connection, unique for the server's life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(pub u64);

/// An async operation (MS-SMB2 3.3.4.2 AsyncId), unique within its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AsyncId(pub u64);

/// A session (MS-SMB2 2.2.1 SessionId, 3.3.1.8 Session.SessionId), handed out by the server
/// across all its connections. Zero on the wire means no session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub u64);

/// A tree connect (MS-SMB2 2.2.1.2 TreeId, 3.3.1.9 TreeConnect.TreeId), unique within its
/// session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TreeId(pub u32);

pub use crate::vfs::local::FileKey;

/// A request waiting for something on a file (a lock, a lease break): its connection and async id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Waiter {
    pub connection: ConnectionId,
    pub async_id: AsyncId,
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for AsyncId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for TreeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
