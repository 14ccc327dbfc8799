//! Kerberos for SESSION_SETUP (SPNEGO with the Kerberos mechanism): the service's long-term keys
//! from a keytab ([`keytab`]), the encryption types and checksums they work with ([`crypto`]) and
//! the AP exchange's messages in their GSS-API framing ([`messages`]), and the cache that refuses
//! an authenticator presented twice ([`replay`]); the acceptor step that checks an AP-REQ with
//! them ([`acceptor`]), the ticket's PAC it verifies and decodes ([`pac`]) and the MIC tokens
//! of SPNEGO's mechanism list ([`mic`]).
//! Like the rest of the core, no I/O: the keytab arrives as bytes, randomness as arguments.
//!
//! What the rest of the program sees is small: [`read_keytab`] turns a keytab file into
//! [`ServiceKey`]s, which the engine's configuration carries.

pub(crate) mod acceptor;
pub(crate) mod crypto;
pub(crate) mod keytab;
pub mod kkdcp;
pub(crate) mod messages;
pub(crate) mod mic;
pub(crate) mod pac;
pub(crate) mod replay;
pub mod service_ticket;

use zeroize::Zeroizing;

use self::crypto::{Enctype, Key};
use self::keytab::{Keytab, KeytabEntry, Principal, Version};

/// One long-term key of a service principal, as a keytab holds it. Its `Debug` never shows the
/// key.
#[derive(Clone, PartialEq, Eq)]
pub struct ServiceKey {
    pub realm: String,
    /// The name's components: `["cifs", "fs.example.com"]`.
    pub components: Vec<String>,
    pub kvno: u32,
    /// The enctype's number (RFC 3961 section 8): 17, 18, 19, 20 or 23.
    pub enctype: i32,
    /// When the key was written into the keytab (Unix seconds; informational).
    pub timestamp: u32,
    pub key: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for ServiceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceKey")
            .field("principal", &self.principal())
            .field("kvno", &self.kvno)
            .field("enctype", &enctype_name(self.enctype))
            .finish_non_exhaustive()
    }
}

impl ServiceKey {
    /// `cifs/fs.example.com@EXAMPLE.COM`.
    pub fn principal(&self) -> String {
        self.name().to_string()
    }

    fn name(&self) -> Principal {
        Principal {
            realm: self.realm.clone(),
            components: self.components.clone(),
            name_type: keytab::name_type::PRINCIPAL,
        }
    }
}

/// A keytab entry EdgeShare cannot use (DES, 3DES, Camellia...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedKey {
    pub principal: String,
    pub kvno: u32,
    pub enctype: i32,
}

/// What a keytab file holds.
#[derive(Clone, Debug)]
pub struct KeytabContents {
    pub keys: Vec<ServiceKey>,
    pub skipped: Vec<SkippedKey>,
}

/// Reads a keytab file (as `ktpass`, `samba-tool domain exportkeytab`, `kadmin ktadd` and
/// `ktutil` write it). The error names what is wrong, for the administrator.
pub fn read_keytab(bytes: &[u8]) -> Result<KeytabContents, String> {
    let keytab = Keytab::parse(bytes).map_err(|error| format!("not a usable keytab: {error}"))?;
    let keys = keytab
        .entries
        .into_iter()
        .map(|entry| ServiceKey {
            realm: entry.principal.realm,
            components: entry.principal.components,
            kvno: entry.kvno,
            enctype: entry.key.enctype().number(),
            timestamp: entry.timestamp,
            key: Zeroizing::new(entry.key.bytes().to_vec()),
        })
        .collect();
    let skipped = keytab
        .skipped
        .into_iter()
        .map(|entry| SkippedKey {
            principal: entry.principal.to_string(),
            kvno: entry.kvno,
            enctype: i32::from(entry.enctype),
        })
        .collect();
    Ok(KeytabContents { keys, skipped })
}

/// The enctype's name as MIT writes it (`aes256-cts-hmac-sha1-96`), or its number.
pub fn enctype_name(enctype: i32) -> String {
    Enctype::from_number(enctype).map_or_else(|| format!("enctype {enctype}"), |e| e.name().to_owned())
}

/// The keys of the configuration as the acceptor uses them; keys that do not fit their enctype
/// (which [`read_keytab`] never yields) are left out.
pub(crate) fn keytab_of(keys: &[ServiceKey]) -> Keytab {
    let entries = keys
        .iter()
        .filter_map(|key| {
            let enctype = Enctype::from_number(key.enctype)?;
            Some(KeytabEntry {
                principal: key.name(),
                timestamp: key.timestamp,
                kvno: key.kvno,
                key: Key::new(enctype, &key.key).ok()?,
            })
        })
        .collect();
    Keytab { version: Version::V2, entries, skipped: Vec::new() }
}
