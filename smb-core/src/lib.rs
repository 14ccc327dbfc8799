//! EdgeShare's SMB engine.
//!
//! [`proto`] is the wire codec: it does no I/O and never trusts a length or offset it has not
//! checked. The engine state, the transports and the handle through which the rest of the program
//! drives them build on it.

pub mod proto;
