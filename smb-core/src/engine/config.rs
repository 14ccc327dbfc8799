//! The engine's configuration: what the server persists and applies live through the handle.

use std::net::{Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use zeroize::{Zeroize, Zeroizing};

use crate::proto::negotiate::{Cipher, Dialect, SigningAlgorithm};

/// A share permission (as on Windows' share permissions page).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Access {
    /// No access: denies even when another entry (e.g. Everyone) would allow.
    Deny,
    Read,
    Change,
    Full,
}

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Deny => "deny",
            Access::Read => "read",
            Access::Change => "change",
            Access::Full => "full",
        }
    }

    pub fn parse(text: &str) -> Option<Access> {
        match text.to_ascii_lowercase().as_str() {
            "deny" | "none" | "no-access" => Some(Access::Deny),
            "read" => Some(Access::Read),
            "change" => Some(Access::Change),
            "full" => Some(Access::Full),
            _ => None,
        }
    }

    /// The largest access mask the permission allows (the masks Windows uses for share
    /// permissions: MS-SRVS 2.2.4.24 / the share security descriptor's generic mapping).
    pub fn mask(self) -> u32 {
        match self {
            Access::Full => 0x001F_01FF,
            Access::Change => 0x0013_01BF,
            Access::Read => 0x0012_00A9,
            Access::Deny => 0,
        }
    }
}

/// The pseudo-user a permission entry names to cover every authenticated user.
pub const EVERYONE: &str = "Everyone";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareConfig {
    pub name: String,
    pub path: PathBuf,
    pub description: String,
    /// Per-user permissions; `Everyone` covers all users; `Deny` wins.
    pub permissions: Vec<(String, Access)>,
    /// Require SMB encryption on this share (MS-SMB2 Share.EncryptData).
    pub encrypt_data: bool,
    /// List only what the user may open (MS-SMB2 SHI1005_FLAGS_ACCESS_BASED_DIRECTORY_ENUM).
    pub access_based_enumeration: bool,
    /// Most users connected at once; `None`: no limit.
    pub max_users: Option<u32>,
}

impl ShareConfig {
    /// The permission `user` has on this share.
    pub fn access_for(&self, user: &str) -> Access {
        let mut best = None;
        for (name, access) in &self.permissions {
            if name.eq_ignore_ascii_case(user) || name.eq_ignore_ascii_case(EVERYONE) {
                if *access == Access::Deny {
                    return Access::Deny;
                }
                best = best.max(Some(*access));
            }
        }
        best.unwrap_or(Access::Deny)
    }
}

/// A local SMB user. The NT hash (MD4 of the UTF-16 password, MS-NLMP 3.3.1) is what NTLM
/// needs; it is password-equivalent and is wiped from memory when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct UserConfig {
    pub name: String,
    pub nt_hash: [u8; 16],
    pub enabled: bool,
    /// Locked out until this time (Unix seconds), as persisted by the server.
    pub locked_until: Option<i64>,
}

impl std::fmt::Debug for UserConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserConfig")
            .field("name", &self.name)
            .field("enabled", &self.enabled)
            .field("locked_until", &self.locked_until)
            .finish_non_exhaustive()
    }
}

impl Drop for UserConfig {
    fn drop(&mut self) {
        self.nt_hash.zeroize();
    }
}

/// Account lockout after failed logons (like Windows' account lockout policy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures that lock an account; 0 never locks.
    pub threshold: u32,
    /// Failures older than this are forgotten.
    pub window: Duration,
    /// How long a locked account stays locked.
    pub duration: Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        LockoutPolicy { threshold: 10, window: Duration::from_secs(600), duration: Duration::from_secs(600) }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerSettings {
    /// NetBIOS-style computer name (NTLM target, share listing).
    pub computer_name: String,
    /// Workgroup (or domain) name shown to clients.
    pub workgroup: String,
    /// The DNS name clients use.
    pub dns_name: String,
    pub server_guid: [u8; 16],
    pub min_dialect: Dialect,
    pub max_dialect: Dialect,
    pub signing_required: bool,
    pub encryption_required: bool,
    /// Ciphers in the server's order of preference.
    pub ciphers: Vec<Cipher>,
    /// Signing algorithms (3.1.1) in the server's order of preference.
    pub signing_algorithms: Vec<SigningAlgorithm>,
    pub lockout: LockoutPolicy,
    /// Largest READ/WRITE/transaction (MS-SMB2 MaxReadSize ...), bytes.
    pub max_io: u32,
    /// Skip SMB encryption when the transport already protects the connection (QUIC, MS-SMB2
    /// ACCEPT_TRANSPORT_LEVEL_SECURITY); false forces SMB encryption over QUIC too.
    pub skip_encryption_on_secure_transport: bool,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            computer_name: "EDGESHARE".into(),
            workgroup: "WORKGROUP".into(),
            dns_name: "edgeshare".into(),
            server_guid: [0; 16],
            min_dialect: Dialect::SMB3_0,
            max_dialect: Dialect::SMB3_1_1,
            signing_required: true,
            encryption_required: false,
            ciphers: vec![Cipher::AES_128_GCM, Cipher::AES_256_GCM, Cipher::AES_128_CCM, Cipher::AES_256_CCM],
            signing_algorithms: vec![
                SigningAlgorithm::AES_GMAC,
                SigningAlgorithm::AES_CMAC,
                SigningAlgorithm::HMAC_SHA256,
            ],
            lockout: LockoutPolicy::default(),
            max_io: 8 << 20,
            skip_encryption_on_secure_transport: true,
        }
    }
}

/// A server name's certificate for SMB over QUIC, like Windows' `New-SmbServerCertificateMapping`
/// (MS-SMB2 3.3.5.1: the client's SNI selects it).
#[derive(Clone, PartialEq, Eq)]
pub struct CertificateMapping {
    /// The DNS name clients connect to, lower case.
    pub name: String,
    /// SHA-1 of the certificate, upper-case hex (as Windows shows it).
    pub thumbprint: String,
    /// The certificate chain, leaf first, DER.
    pub chain: Vec<Vec<u8>>,
    /// The leaf's private key, PEM (PKCS#8, PKCS#1 or SEC1); wiped from memory when dropped,
    /// never printed.
    pub key: Zeroizing<Vec<u8>>,
    /// Named pipes (IPC$) are refused over QUIC unless this is set (Windows'
    /// RestrictNamedpipeAccessViaQuic).
    pub allow_named_pipes: bool,
    /// Clients must present a certificate that chains to one of [`QuicSettings::client_cas`]
    /// (MS-SMB2 3.3.1.18, Windows Server 2025's client access control).
    pub require_client_auth: bool,
    /// Validate the client's chain but ignore [`CertificateMapping::access`].
    pub skip_client_access_check: bool,
    /// Allow and block entries for client certificates.
    pub access: Vec<ClientAccess>,
}

/// What a client access entry matches: any certificate of the client's chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientMatch {
    /// SHA-256 of the certificate, upper-case hex.
    Sha256(String),
    /// The certificate's issuer distinguished name, as `edgeshare cert show` prints it.
    Issuer(String),
}

/// One client access entry of a mapping: a block anywhere in the chain wins; otherwise at least
/// one allow must match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientAccess {
    pub matches: ClientMatch,
    pub allow: bool,
}

impl std::fmt::Debug for CertificateMapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateMapping")
            .field("name", &self.name)
            .field("thumbprint", &self.thumbprint)
            .field("allow_named_pipes", &self.allow_named_pipes)
            .finish_non_exhaustive()
    }
}

/// SMB over QUIC: whether it listens, where, and which certificate answers each server name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuicSettings {
    pub enabled: bool,
    /// The UDP address to listen on (the standard port is 443).
    pub address: SocketAddr,
    pub mappings: Vec<CertificateMapping>,
    /// The mapping (by name) that answers clients sending no server name (SNI), e.g. those
    /// connecting by IP address. `None`: such clients are refused.
    pub default_mapping: Option<String>,
    /// A connection silent for this long is closed.
    pub idle_timeout: Duration,
    /// The server sends keep-alives at this interval, so that idle but wanted connections live.
    pub keep_alive: Duration,
    /// Certificates (DER) that client certificate chains must lead to, for mappings that
    /// require client authentication.
    pub client_cas: Vec<Vec<u8>>,
}

impl Default for QuicSettings {
    fn default() -> Self {
        QuicSettings {
            enabled: false,
            address: SocketAddr::from((Ipv6Addr::UNSPECIFIED, 443)),
            mappings: Vec::new(),
            default_mapping: None,
            idle_timeout: Duration::from_secs(30),
            keep_alive: Duration::from_secs(10),
            client_cas: Vec::new(),
        }
    }
}

impl QuicSettings {
    /// The mapping that answers a client that sent `server_name` (or none).
    pub fn mapping_for(&self, server_name: Option<&str>) -> Option<&CertificateMapping> {
        match server_name {
            Some(name) => self.mappings.iter().find(|m| m.name.eq_ignore_ascii_case(name)),
            None => {
                let default = self.default_mapping.as_deref()?;
                self.mappings.iter().find(|m| m.name.eq_ignore_ascii_case(default))
            }
        }
    }
}

/// Everything the engine serves, replaced as a whole by [`crate::EngineHandle::apply`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EngineConfig {
    pub server: ServerSettings,
    pub users: Vec<UserConfig>,
    pub shares: Vec<ShareConfig>,
    pub quic: QuicSettings,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(permissions: &[(&str, Access)]) -> ShareConfig {
        ShareConfig {
            name: "s".into(),
            path: "/tmp".into(),
            description: String::new(),
            permissions: permissions.iter().map(|(u, a)| ((*u).to_owned(), *a)).collect(),
            encrypt_data: false,
            access_based_enumeration: false,
            max_users: None,
        }
    }

    #[test]
    fn the_best_allow_applies_and_deny_wins() {
        let s = share(&[("Everyone", Access::Read), ("alice", Access::Full), ("mallory", Access::Deny)]);
        assert_eq!(s.access_for("ALICE"), Access::Full);
        assert_eq!(s.access_for("bob"), Access::Read);
        assert_eq!(s.access_for("mallory"), Access::Deny);
    }

    #[test]
    fn users_without_an_entry_have_no_access() {
        assert_eq!(share(&[("alice", Access::Change)]).access_for("bob"), Access::Deny);
    }

    fn mapping(name: &str) -> CertificateMapping {
        CertificateMapping {
            name: name.into(),
            thumbprint: "AB".into(),
            chain: vec![vec![1]],
            key: Zeroizing::new(vec![0x5A; 32]),
            allow_named_pipes: false,
            require_client_auth: false,
            skip_client_access_check: false,
            access: Vec::new(),
        }
    }

    #[test]
    fn the_server_name_selects_its_mapping_case_insensitively() {
        let quic = QuicSettings { mappings: vec![mapping("a.example"), mapping("b.example")], ..Default::default() };
        assert_eq!(quic.mapping_for(Some("B.Example")).unwrap().name, "b.example");
        assert!(quic.mapping_for(Some("c.example")).is_none());
    }

    #[test]
    fn clients_without_a_server_name_get_the_default_mapping_only_when_one_is_set() {
        let mut quic = QuicSettings { mappings: vec![mapping("a.example")], ..Default::default() };
        assert!(quic.mapping_for(None).is_none());
        quic.default_mapping = Some("a.example".into());
        assert_eq!(quic.mapping_for(None).unwrap().name, "a.example");
    }

    #[test]
    fn a_private_key_never_appears_in_debug_output() {
        let text = format!("{:?}", mapping("a.example"));
        assert!(!text.contains("90") && !text.contains("key"), "{text}");
    }

    #[test]
    fn the_nt_hash_never_appears_in_debug_output() {
        let user = UserConfig { name: "alice".into(), nt_hash: [0xAB; 16], enabled: true, locked_until: None };
        assert!(!format!("{user:?}").to_lowercase().contains("ab, "));
        assert!(!format!("{user:?}").contains("171"));
    }
}
