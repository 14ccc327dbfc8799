//! The engine's own ids, each a type of its own so that one cannot stand in for another (a
//! connection id where an async id belongs, a file's device where its inode belongs). What the
//! engine tells the outside (events, [`crate::EngineHandle`]) carries them as plain numbers.

use std::fmt;

/// A connection, unique for the server's life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(pub u64);

/// An async operation (MS-SMB2 3.3.4.2 AsyncId), unique within its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AsyncId(pub u64);

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
