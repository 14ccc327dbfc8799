//! Kerberos for SESSION_SETUP (SPNEGO with the Kerberos mechanism): the service's long-term keys
//! from a keytab ([`keytab`]), the encryption types and checksums they work with ([`crypto`]) and
//! the AP exchange's messages in their GSS-API framing ([`messages`]), and the cache that refuses
//! an authenticator presented twice ([`replay`]).
//! Like the rest of the core, no I/O: the keytab arrives as bytes, randomness as arguments.

// The acceptor (the next step: AP-REQ, ticket and PAC checks) is the user of these; until it
// lands only the tests are.
#![allow(dead_code)]

pub(crate) mod crypto;
pub(crate) mod keytab;
pub(crate) mod messages;
pub(crate) mod replay;
