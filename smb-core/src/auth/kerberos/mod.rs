//! Kerberos for SESSION_SETUP (SPNEGO with the Kerberos mechanism): the service's long-term keys
//! from a keytab ([`keytab`]), the encryption types and checksums they work with ([`crypto`]) and
//! the AP exchange's messages in their GSS-API framing ([`messages`]), and the cache that refuses
//! an authenticator presented twice ([`replay`]); the acceptor step that checks an AP-REQ with
//! them ([`acceptor`]), and the ticket's PAC it verifies and decodes ([`pac`]).
//! Like the rest of the core, no I/O: the keytab arrives as bytes, randomness as arguments.

// The acceptor is not yet wired into SPNEGO (the next step, with the PAC checks); until it is,
// only the tests call it.
#![allow(dead_code)]

pub(crate) mod acceptor;
pub(crate) mod crypto;
pub(crate) mod keytab;
pub(crate) mod messages;
pub(crate) mod pac;
pub(crate) mod replay;
