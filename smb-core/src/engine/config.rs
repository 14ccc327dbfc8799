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

/// The form in which user and share names are compared: every comparison of names (logon,
/// lockout, share permissions, share lookup, uniqueness in the database) goes through it, so that
/// two spellings are one name everywhere or nowhere.
///
/// Windows compares account names with `RtlUpcaseUnicodeString`: each character to its simple
/// upper case, never expanding one into several (ß stays ß). This maps each character to its
/// simple upper case, then that to its simple lower case, a character that would expand keeping
/// its own: names Windows finds equal fold equal, and so do the few that Unicode case folding
/// also joins (the Kelvin sign and k, ẞ and ß, ς and σ). Characters map one to one, so folding
/// never changes a name's length in characters. No normalization: like Windows, precomposed é
/// and e + U+0301 are different names.
pub fn fold_name(name: &str) -> String {
    name.chars().map(fold_char).collect()
}

/// Whether two names are one name (see [`fold_name`]).
pub fn same_name(a: &str, b: &str) -> bool {
    a.chars().map(fold_char).eq(b.chars().map(fold_char))
}

fn fold_char(c: char) -> char {
    /// The only character of a case mapping; `None` when it expands (the full mapping of
    /// SpecialCasing.txt, which simple mappings do not use).
    fn single(mut mapped: impl Iterator<Item = char>) -> Option<char> {
        let first = mapped.next()?;
        mapped.next().is_none().then_some(first)
    }
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    let upper = single(c.to_uppercase()).unwrap_or(c);
    single(upper.to_lowercase()).unwrap_or(upper)
}

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
    /// Continuously available (MS-SMB2 Share.IsCA): persistent handles are granted, kept in the
    /// server's journal across its restarts, and every write goes through to the disk.
    pub continuous_availability: bool,
}

impl ShareConfig {
    /// The permission the local user `user` has on this share.
    pub fn access_for(&self, user: &str) -> Access {
        self.access_of(|name, _| same_name(name, user))
    }

    /// The permission of whoever `names` says an entry (its name and access) applies to,
    /// besides Everyone.
    pub(crate) fn access_of(&self, names: impl Fn(&str, Access) -> bool) -> Access {
        let mut best = None;
        for (name, access) in &self.permissions {
            if names(name, *access) || same_name(name, EVERYONE) {
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

/// What clients can make the server hold: the resource budget. Every limit applies before and
/// after authentication; what is refused is counted ([`crate::engine::shared::Refusal`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Connections at once, TCP and QUIC together.
    pub max_connections: u32,
    /// Connections at once from one client address.
    pub max_connections_per_client: u32,
    /// A connection must have an authenticated session this soon after it opens (NEGOTIATE and
    /// SESSION_SETUP done), or it is closed.
    pub preauth_timeout: Duration,
    /// A connection that has no session (all logged off) and is silent this long is closed.
    pub idle_without_session: Duration,
    /// Largest message accepted before the connection has an authenticated session: only
    /// NEGOTIATE and SESSION_SETUP are valid there (room for a large Kerberos ticket).
    pub preauth_max_message: u32,
    /// Sessions per connection, and of those, sessions still authenticating.
    pub max_sessions_per_connection: u32,
    pub max_sessions_in_progress: u32,
    /// Open files and directories per session, and in the whole server (the latter also kept
    /// below the process's descriptor limit).
    pub max_opens_per_session: u32,
    pub max_opens: u32,
    /// Response bytes queued for one connection: past this, the connection's requests wait
    /// until the client reads; a client that reads nothing for `send_timeout` is dropped.
    pub max_queued_response_bytes: u32,
    /// Response bytes queued for all connections together: past this, connections wait for
    /// room, and clients that read nothing are dropped after [`Limits::PRESSURE_SEND_TIMEOUT`].
    pub max_queued_response_bytes_total: u32,
    pub send_timeout: Duration,
    /// Requests of one connection waiting asynchronously (change notifications, locks, opens
    /// waiting for a lease break).
    pub max_pending_per_connection: u32,
    /// Largest RPC call reassembled from fragments on a named pipe.
    pub max_rpc_call: u32,
    /// QUIC handshakes in progress; past this, new clients must first prove their address
    /// (QUIC Retry, RFC 9000 8.1.2).
    pub quic_handshakes_before_retry: u32,
    /// Offences (see [`crate::engine::offenders`]) an address may commit a minute; at this
    /// level its new connections are refused until the level leaks below it. 0: no refusal.
    pub offences_per_minute: u32,
}

impl Limits {
    /// The send timeout while more than half of the total response budget is taken: clients
    /// that read nothing make room for those that do.
    pub const PRESSURE_SEND_TIMEOUT: Duration = Duration::from_secs(5);
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 4096,
            max_connections_per_client: 256,
            preauth_timeout: Duration::from_secs(30),
            idle_without_session: Duration::from_secs(120),
            preauth_max_message: 128 << 10,
            max_sessions_per_connection: 64,
            max_sessions_in_progress: 8,
            max_opens_per_session: 4096,
            max_opens: 65_536,
            max_queued_response_bytes: 32 << 20,
            max_queued_response_bytes_total: 256 << 20,
            send_timeout: Duration::from_secs(60),
            max_pending_per_connection: 1024,
            max_rpc_call: 1 << 20,
            quic_handshakes_before_retry: 64,
            offences_per_minute: 20,
        }
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
    /// Offer multichannel: a client's other connections may bind its sessions (MS-SMB2
    /// 3.3.5.5), over TCP and QUIC alike.
    pub multichannel: bool,
    /// How long a durable open waits for its client after a lost connection when the client
    /// asks for no particular time (durable handles v1 always; v2 with a zero timeout).
    pub durable_timeout: Duration,
    pub limits: Limits,
}

impl ServerSettings {
    /// Largest message accepted from an authenticated client: the largest READ/WRITE plus room
    /// for headers and a compound. Also the most a compound's responses may add up to.
    pub fn max_message(&self) -> usize {
        self.max_io as usize + (1 << 20)
    }
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
            multichannel: true,
            durable_timeout: crate::engine::durable::DEFAULT_TIMEOUT,
            limits: Limits::default(),
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

/// Whether SESSION_SETUP accepts NTLM, like Windows' "Network security: Restrict NTLM" for the
/// server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NtlmPolicy {
    #[default]
    Allow,
    /// Only Kerberos signs in; NTLM is refused and no longer offered.
    Refuse,
}

impl NtlmPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            NtlmPolicy::Allow => "allow",
            NtlmPolicy::Refuse => "refuse",
        }
    }

    pub fn parse(text: &str) -> Option<NtlmPolicy> {
        match text.to_ascii_lowercase().as_str() {
            "allow" => Some(NtlmPolicy::Allow),
            "refuse" | "deny" => Some(NtlmPolicy::Refuse),
            _ => None,
        }
    }
}

/// Kerberos logons (MS-KILE): the service's keys and how tickets map to identities.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KerberosSettings {
    /// The service principals' keys from imported keytabs. None: Kerberos is not offered.
    pub keys: Vec<crate::auth::kerberos::ServiceKey>,
    /// The largest difference between the client's clock and ours (RFC 4120 section 1.6).
    pub max_skew: Duration,
    pub ntlm: NtlmPolicy,
    /// Principals (`bob@EXAMPLE.COM`) that sign in as a local user instead of as themselves.
    pub principal_map: Vec<(String, String)>,
    /// Domain users and groups that share permissions may name (`CORP\Sales`), with their SIDs
    /// (`S-1-5-21-...`): a ticket's PAC carries SIDs, not group names.
    pub domain_names: Vec<(String, String)>,
}

impl Default for KerberosSettings {
    fn default() -> Self {
        KerberosSettings {
            keys: Vec::new(),
            max_skew: Duration::from_secs(300),
            ntlm: NtlmPolicy::Allow,
            principal_map: Vec::new(),
            domain_names: Vec::new(),
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
    pub kerberos: KerberosSettings,
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
            continuous_availability: false,
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

    #[test]
    fn a_deny_for_a_non_ascii_name_holds_for_every_case_of_it() {
        let s = share(&[("everyone", Access::Full), ("Émile", Access::Deny)]);
        assert_eq!(s.access_for("émile"), Access::Deny);
        assert_eq!(s.access_for("ÉMILE"), Access::Deny);
        assert_eq!(share(&[("ÉVA", Access::Change)]).access_for("éva"), Access::Change);
        assert_eq!(share(&[("EVERYONE", Access::Read)]).access_for("zoé"), Access::Read);
    }

    #[test]
    fn names_fold_as_windows_compares_account_names() {
        assert_eq!(fold_name("Émile"), "émile");
        assert!(same_name("ÉMILE", "émile"));
        assert!(same_name("\u{212A}ARL", "karl"), "the Kelvin sign is a K");
        assert!(same_name("STRA\u{1E9E}E", "straße"));
        assert!(!same_name("straße", "STRASSE"), "a character never folds to several");
        assert!(!same_name("e\u{301}mile", "émile"), "no normalization");
        assert!(!same_name("émile", "émilie"));
    }

    #[test]
    fn ascii_names_fold_as_sqlite_lower_does() {
        // Migration 0006 fills the folded names of existing rows with lower().
        let ascii: String = (0..128_u8).map(char::from).collect();
        assert_eq!(fold_name(&ascii), ascii.to_ascii_lowercase());
    }

    #[test]
    fn every_character_folds_once_to_what_its_cases_fold_to() {
        for c in (0..=0x10_FFFF_u32).filter_map(char::from_u32) {
            let folded = fold_char(c);
            assert_eq!(fold_char(folded), folded, "{c:?} folds to {folded:?}, which folds further");
            for cased in [c.to_uppercase().collect::<Vec<_>>(), c.to_lowercase().collect()] {
                if let [one] = cased[..] {
                    assert_eq!(fold_char(one), folded, "{c:?} and its case {one:?} fold apart");
                }
            }
        }
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
