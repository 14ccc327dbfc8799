//! The engine: per-connection protocol state driven by parsed requests ([`connection`]), the
//! one dispatch table ([`dispatch`]) and one handler per command ([`handlers`]), and the state
//! connections share ([`shared`]). No sockets here: transports feed it bytes.

pub mod clock;
pub mod config;
pub mod connection;
pub mod credits;
pub mod dispatch;
pub mod events;
pub mod files;
pub mod handlers;
pub mod leases;
pub mod notify;
pub mod offenders;
pub mod session;
pub mod shared;
