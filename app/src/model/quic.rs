//! SMB over QUIC as the console shows it: name mappings, client access entries, certificate
//! choices and the whole status.

use serde::{Deserialize, Serialize};

/// A server name clients use, and the certificate that answers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingRow {
    pub name: String,
    pub thumbprint: String,
    /// The certificate's subject, or empty when it is missing from the store.
    pub subject: String,
    pub days_left: Option<i64>,
    pub require_client_auth: bool,
    pub skip_client_access_check: bool,
    pub allow_named_pipes: bool,
    pub is_default: bool,
}

/// One allow or block entry of a server name's client access list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRow {
    pub name: String,
    pub allow: bool,
    /// `sha256` or `issuer`.
    pub kind: String,
    pub value: String,
}

/// A certificate a name can be mapped to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateChoice {
    pub thumbprint: String,
    pub subject: String,
    pub dns_names: Vec<String>,
    pub usable: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuicStatus {
    pub enabled: bool,
    /// The configured UDP address and port.
    pub address: String,
    pub port: u16,
    /// Where the engine listens now, if it does.
    pub listening: Option<String>,
    /// Why it does not listen, if it should.
    pub error: Option<String>,
    pub connections_now: usize,
    pub sessions_now: usize,
    pub encrypt_smb: bool,
    pub auto_remap: bool,
    pub mappings: Vec<MappingRow>,
    pub access: Vec<AccessRow>,
    pub certificates: Vec<CertificateChoice>,
}

/// What the access lists would do with a client certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessPreview {
    pub allowed: bool,
    /// The certificate and the entry that decides, in words.
    pub reason: String,
}
