//! Enterprise identity as the console shows it: Kerberos realms and their KDCs, the service keys
//! (never their bytes), the names clients use and whether a key covers each, principal mappings,
//! domain names with their SIDs and the NTLM policy; and the equivalent command lines.

use serde::{Deserialize, Serialize};

use crate::model::shell_word;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealmView {
    pub name: String,
    /// `host` or `host:port`, in order.
    pub kdcs: Vec<String>,
}

/// A stored service key, described: never its bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyView {
    pub principal: String,
    pub kvno: u32,
    /// e.g. `aes256-cts-hmac-sha1-96`.
    pub enctype: String,
    /// RFC 3339, UTC.
    pub imported_at: String,
    /// The file the key came from.
    pub source: String,
}

/// A name clients use (the server's own, or an SMB over QUIC mapping's) and the `cifs/` keys
/// that let Kerberos clients sign in through it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameCoverage {
    pub name: String,
    /// `cifs/NAME@REALM` principals with keys, empty when none covers the name.
    pub principals: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingView {
    pub principal: String,
    pub user: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainNameView {
    pub name: String,
    pub sid: String,
}

/// The KDC proxy: its settings, and in a running server where it listens and what it did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdcProxyView {
    pub enabled: bool,
    /// The local address it listens on (`::` for every address).
    pub address: String,
    pub port: u16,
    pub timeout_seconds: u64,
    /// Where it listens now (known to the server's own console only).
    pub listening: Option<String>,
    /// Why the enabled proxy does not listen.
    pub error: Option<String>,
    /// The names it has a certificate for (the SMB over QUIC mappings'): TLS to any other name
    /// is refused, so clients must be told one of these.
    pub names: Vec<String>,
    /// Requests answered by a KDC, and the others (refused, or no KDC answered).
    pub forwarded: u64,
    pub failed: u64,
}

/// Everything of Kerberos and NTLM the Identity page and `edgeshare kerberos status` show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityStatus {
    pub realms: Vec<RealmView>,
    pub keys: Vec<KeyView>,
    pub coverage: Vec<NameCoverage>,
    pub mappings: Vec<MappingView>,
    pub domain_names: Vec<DomainNameView>,
    /// `allow` or `refuse`.
    pub ntlm_policy: String,
    pub max_skew_seconds: u64,
    pub kdc_proxy: KdcProxyView,
}

impl IdentityStatus {
    /// Whether SESSION_SETUP offers Kerberos: a key is stored.
    pub fn kerberos_on(&self) -> bool {
        !self.keys.is_empty()
    }

    /// The names clients use that no key covers.
    pub fn uncovered(&self) -> impl Iterator<Item = &str> {
        self.coverage.iter().filter(|name| name.principals.is_empty()).map(|name| name.name.as_str())
    }
}

/// Whether one KDC answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdcCheck {
    pub kdc: String,
    /// It answered a Kerberos request.
    pub reachable: bool,
    /// "answered in 3 ms, its clock agrees with ours", or why not.
    pub detail: String,
    /// Its clock minus ours, in seconds, when it answered (RFC 4120 section 1.6: logons fail
    /// past the allowed skew).
    pub clock_offset_seconds: Option<i64>,
}

/// What a keytab import did, for the page and the command line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeytabImported {
    pub added: usize,
    pub replaced: usize,
    /// Entries left out, described (`host/x@R kvno 3 des-cbc-crc`).
    pub skipped: Vec<String>,
    pub principals: Vec<String>,
}

/// `edgeshare kdc-proxy enable --port N --address A`, naming only what differs from the defaults.
pub fn kdc_proxy_command(port: &str, address: &str) -> String {
    let mut command = "edgeshare kdc-proxy enable".to_owned();
    if !port.trim().is_empty() && port.trim() != "443" {
        command.push_str(&format!(" --port {}", shell_word(port.trim())));
    }
    if !address.trim().is_empty() && address.trim() != "::" {
        command.push_str(&format!(" --address {}", shell_word(address.trim())));
    }
    command
}

/// `edgeshare kerberos realm add REALM --kdc A --kdc B`.
pub fn realm_command(realm: &str, kdcs: &[String]) -> String {
    let realm = if realm.trim().is_empty() { "REALM" } else { realm.trim() };
    let mut command = format!("edgeshare kerberos realm add {}", shell_word(realm));
    let kdcs: Vec<&str> = kdcs.iter().map(|kdc| kdc.trim()).filter(|kdc| !kdc.is_empty()).collect();
    if kdcs.is_empty() {
        command.push_str(" --kdc HOST[:PORT]");
    }
    for kdc in kdcs {
        command.push_str(&format!(" --kdc {}", shell_word(kdc)));
    }
    command
}

/// The Windows client setting that sends a realm's Kerberos traffic through the KDC proxy
/// (Group Policy "Specify KDC proxy servers for Kerberos clients", and its registry value).
pub fn windows_kdc_proxy_policy(realm: &str, name: &str, port: u16) -> (String, String) {
    let server = format!("<https {name}:{port}:kdcproxy />");
    let registry = format!(
        "reg add \"HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System\\Kerberos\\KdcProxy\\ProxyServers\" /v {realm} /t REG_SZ /d \"{server}\" /f"
    );
    (format!("{realm} = {server}"), registry)
}

/// The `krb5.conf` realm section of a Linux or macOS client that reaches the KDC through the
/// proxy (MIT krb5 1.13 and later, with the `krb5-k5tls` module).
pub fn linux_krb5_conf(realm: &str, name: &str, port: u16) -> String {
    let address = if port == 443 { name.to_owned() } else { format!("{name}:{port}") };
    format!(
        "[realms]\n    {realm} = {{\n        kdc = https://{address}/KdcProxy\n        # when the proxy's certificate is not from a CA the system trusts:\n        # http_anchors = FILE:/etc/ssl/certs/edgeshare-ca.pem\n    }}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_realm_command_quotes_what_the_shell_needs_and_shows_placeholders() {
        assert_eq!(realm_command("", &[]), "edgeshare kerberos realm add REALM --kdc HOST[:PORT]");
        assert_eq!(
            realm_command("CORP.EXAMPLE.COM", &["dc1.corp.example.com".into(), "[2001:db8::1]:88".into()]),
            "edgeshare kerberos realm add CORP.EXAMPLE.COM --kdc dc1.corp.example.com --kdc '[2001:db8::1]:88'"
        );
    }

    #[test]
    fn client_snippets_name_the_proxy_as_windows_and_mit_write_it() {
        let (policy, registry) = windows_kdc_proxy_policy("CORP.EXAMPLE.COM", "fs.example.com", 443);
        assert_eq!(policy, "CORP.EXAMPLE.COM = <https fs.example.com:443:kdcproxy />");
        assert!(registry.contains("/v CORP.EXAMPLE.COM /t REG_SZ /d \"<https fs.example.com:443:kdcproxy />\""));
        let (policy, _) = windows_kdc_proxy_policy("CORP.EXAMPLE.COM", "fs.example.com", 8443);
        assert_eq!(policy, "CORP.EXAMPLE.COM = <https fs.example.com:8443:kdcproxy />");
        assert!(
            linux_krb5_conf("EXAMPLE.COM", "fs.example.com", 443).contains("kdc = https://fs.example.com/KdcProxy")
        );
        assert!(linux_krb5_conf("EXAMPLE.COM", "fs", 8443).contains("kdc = https://fs:8443/KdcProxy"));
    }
}
