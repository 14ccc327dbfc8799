//! The engine: per-connection protocol state driven by parsed requests ([`connection`]), the
//! one dispatch table ([`dispatch`]) and one handler per command ([`handlers`]), and the state
//! connections share ([`shared`]). No sockets here: transports feed it bytes.

pub(crate) mod channels;
pub mod clock;
pub(crate) mod config;
pub mod connection;
pub(crate) mod credits;
pub(crate) mod dispatch;
pub(crate) mod durable;
pub(crate) mod events;
pub(crate) mod files;
pub(crate) mod handlers;
pub mod ids;
pub mod leases;
pub(crate) mod notify;
pub(crate) mod offenders;
pub mod persistent;
pub(crate) mod session;
pub mod shared;

/// MS-SMB2 2.2.13.1 access masks, for clients of the engine's own tests and benchmarks.
pub use files::access;
