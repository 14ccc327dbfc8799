//! The service's own ticket-granting ticket, for user-to-user Kerberos (draft-ietf-cat-user2user,
//! MS-KILE 3.4.5.7). A client that asks for it (a KERB-TGT-REQUEST as its first token, as the
//! SSPI of Windows and of sspi-rs send when the caller asks for USE_SESSION_KEY) gets the TGT,
//! asks its KDC for a service ticket under the TGT's session key, and presents that ticket; the
//! service decrypts it with the session key it holds. A file server without the TGT cannot
//! serve such clients at all.
//!
//! The core makes no I/O: the server's side sends the [`AsExchange::request`] to the realm's
//! KDCs, gives the answer to [`AsExchange::reply`] and hands the engine the
//! [`ServiceTicket`]s it holds; this module only builds and reads the messages.

use std::time::Duration;

use super::ServiceKey;
use super::crypto::{CONFOUNDER_LEN, Enctype, Key};
use super::keytab::{Principal, name_type};
use super::messages::error::KrbError;
use super::messages::kdc::{AsReply, AsRequest};

/// The enctypes in the order a TGT is asked for with them: the strongest key first.
const PREFERENCE: [Enctype; 5] = [
    Enctype::Aes256CtsHmacSha384,
    Enctype::Aes256CtsHmacSha1,
    Enctype::Aes128CtsHmacSha256,
    Enctype::Aes128CtsHmacSha1,
    Enctype::Rc4Hmac,
];

/// A TGT the service holds for one of its principals. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct ServiceTicket {
    pub(crate) principal: Principal,
    /// The TGT as the KDC issued it (`[APPLICATION 1] Ticket`).
    pub(crate) ticket: Vec<u8>,
    pub(crate) session_key: Key,
    /// When the KDC issued it, by the KDC's clock (Unix seconds).
    pub authtime: i64,
    /// When it ends (Unix seconds, by the KDC's clock).
    pub endtime: i64,
}

impl std::fmt::Debug for ServiceTicket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceTicket")
            .field("principal", &self.principal.to_string())
            .field("session_key", &self.session_key.enctype())
            .field("authtime", &self.authtime)
            .field("endtime", &self.endtime)
            .finish_non_exhaustive()
    }
}

impl ServiceTicket {
    /// `cifs/fs.example.com@EXAMPLE.COM`.
    pub fn principal(&self) -> String {
        self.principal.to_string()
    }
}

/// Why a KDC gave no TGT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AsFailure {
    /// The KDC answered with a KRB-ERROR: its code, name and text, and its clock (`stime`).
    Kdc { code: i32, name: String, text: Option<String>, kdc_time: i64 },
    /// The answer was neither a valid AS-REP for our request nor a KRB-ERROR.
    Malformed(String),
}

impl std::fmt::Display for AsFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AsFailure::Kdc { name, text: Some(text), .. } => write!(f, "the KDC refused: {name} ({text})"),
            AsFailure::Kdc { name, text: None, .. } => write!(f, "the KDC refused: {name}"),
            AsFailure::Malformed(reason) => write!(f, "not a usable KDC reply: {reason}"),
        }
    }
}

/// One AS exchange: a service principal asking its realm's KDC for a TGT with its keytab key.
pub struct AsExchange {
    client: Principal,
    key: Key,
    nonce: u32,
}

impl AsExchange {
    /// The exchanges for `keys`: one per service principal, with its newest key of the
    /// strongest enctype. `nonces` supplies each request's random nonce.
    pub fn for_keys(keys: &[ServiceKey], mut nonce: impl FnMut() -> u32) -> Vec<AsExchange> {
        let mut chosen: Vec<(&ServiceKey, usize)> = Vec::new();
        for key in keys {
            let Some(rank) = PREFERENCE.iter().position(|e| e.number() == key.enctype) else { continue };
            let same =
                |(other, _): &&mut (&ServiceKey, usize)| other.realm == key.realm && other.components == key.components;
            match chosen.iter_mut().find(same) {
                Some(entry) if (key.kvno, std::cmp::Reverse(rank)) > (entry.0.kvno, std::cmp::Reverse(entry.1)) => {
                    *entry = (key, rank);
                }
                Some(_) => {}
                None => chosen.push((key, rank)),
            }
        }
        chosen
            .into_iter()
            .filter_map(|(key, rank)| {
                Some(AsExchange {
                    client: Principal {
                        realm: key.realm.clone(),
                        components: key.components.clone(),
                        name_type: name_type::PRINCIPAL,
                    },
                    key: Key::new(PREFERENCE[rank], &key.key).ok()?,
                    nonce: nonce() & 0x7FFF_FFFF,
                })
            })
            .collect()
    }

    /// The principal asking: `cifs/fs.example.com@EXAMPLE.COM`.
    pub fn principal(&self) -> String {
        self.client.to_string()
    }

    pub fn realm(&self) -> &str {
        &self.client.realm
    }

    /// The AS-REQ (without the TCP length prefix), stamped with `now` and asking for `lifetime`.
    pub fn request(
        &self,
        now: (i64, u32),
        lifetime: Duration,
        confounder: &[u8; CONFOUNDER_LEN],
    ) -> Result<Vec<u8>, String> {
        let till = now.0.saturating_add(i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX));
        let request = AsRequest { client: &self.client, key: Some(&self.key), now, till, nonce: self.nonce };
        request.encode(confounder).map_err(|error| error.to_string())
    }

    /// Reads the KDC's answer (without the TCP length prefix).
    pub fn reply(&self, bytes: &[u8]) -> Result<ServiceTicket, AsFailure> {
        if let Ok(error) = KrbError::decode(bytes) {
            return Err(AsFailure::Kdc {
                code: error.error_code.0,
                name: format!("{:?}", error.error_code),
                text: error.e_text,
                kdc_time: error.stime,
            });
        }
        let reply = AsReply::decode(bytes, &self.client, &self.key, self.nonce)
            .map_err(|error| AsFailure::Malformed(error.to_string()))?;
        Ok(ServiceTicket {
            principal: self.client.clone(),
            ticket: reply.ticket,
            session_key: reply.session_key,
            authtime: reply.authtime,
            endtime: reply.endtime,
        })
    }
}

/// The client name of [`clock_probe`]: a name no realm has, so that the KDC answers with a
/// KRB-ERROR (KDC_ERR_C_PRINCIPAL_UNKNOWN) and issues nothing.
pub const CLOCK_PROBE_CLIENT: &str = "edgeshare-clock-check";

/// An AS-REQ (without the TCP length prefix) that asks `realm`'s KDC nothing it can grant: its
/// KRB-ERROR answer carries the KDC's clock ([`kdc_time`]), which the health report compares
/// with ours (RFC 4120 section 1.6: logons fail past the allowed skew).
pub fn clock_probe(realm: &str, now: (i64, u32), nonce: u32) -> Result<Vec<u8>, String> {
    let client = Principal {
        realm: realm.to_owned(),
        components: vec![CLOCK_PROBE_CLIENT.to_owned()],
        name_type: name_type::PRINCIPAL,
    };
    let request =
        AsRequest { client: &client, key: None, now, till: now.0.saturating_add(60), nonce: nonce & 0x7FFF_FFFF };
    request.encode(&[0; CONFOUNDER_LEN]).map_err(|error| error.to_string())
}

/// The KDC's clock (Unix seconds) from its KRB-ERROR answer (without the TCP length prefix);
/// `None` for anything else.
pub fn kdc_time(reply: &[u8]) -> Option<i64> {
    KrbError::decode(reply).ok().map(|error| error.stime)
}
