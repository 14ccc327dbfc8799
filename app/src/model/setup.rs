//! The setup wizard: what it asks for, what it did, and the client commands it prints.

use serde::{Deserialize, Serialize};

/// Everything the wizard gathered.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupRequest {
    pub thumbprint: String,
    /// The server names clients will use, comma-separated.
    pub names: String,
    pub address: String,
    pub port: String,
    pub share: String,
    pub path: String,
    pub user: String,
    pub password: String,
    pub confirm: String,
    /// The optional Kerberos step; `None` when skipped.
    #[serde(default)]
    pub kerberos: Option<KerberosSetup>,
}

/// The wizard's optional step "Use Kerberos through the KDC proxy": the realm and its KDCs, the
/// keytab of the names clients use, and the TCP port of the KDC proxy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KerberosSetup {
    pub realm: String,
    /// `host[:port]`, separated by commas or spaces.
    pub kdcs: String,
    /// The keytab file as the browser read it.
    pub keytab_base64: String,
    pub keytab_name: String,
    pub proxy_port: String,
}

/// What the Kerberos step set up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KerberosSummary {
    pub realm: String,
    /// The service principals whose keys were imported.
    pub principals: Vec<String>,
    pub proxy_port: u16,
    /// Where the KDC proxy listens, or why it does not.
    pub proxy_listening: Option<String>,
    pub proxy_error: Option<String>,
}

/// What the wizard set up, for the summary of what clients must do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupSummary {
    pub names: Vec<String>,
    pub share: String,
    pub user: String,
    /// `address:port` SMB over QUIC listens on.
    pub listening: String,
    pub port: u16,
    pub thumbprint: String,
    /// `None`: a CA clients already trust issued the certificate. `Some(true)`: clients must
    /// trust the local CA that issued it; `Some(false)`: the self-signed certificate itself.
    pub trust_export_ca: Option<bool>,
    /// The Kerberos step's result, when it was not skipped.
    pub kerberos: Option<KerberosSummary>,
}

/// The commands that map the share on a client.
pub fn client_commands(summary: &SetupSummary) -> Vec<String> {
    let name = summary.names.first().map_or("server", String::as_str);
    let unc = format!("\\\\{name}\\{}", summary.share);
    // Another port than 443 needs clients that can name it (Windows 11 24H2 and later).
    let (net_use_port, mapping_port) = match summary.port {
        443 => (String::new(), String::new()),
        port => (format!(" /QUICPORT:{port}"), format!(" -QuicPort {port}")),
    };
    vec![
        format!("NET USE * {unc} /TRANSPORT:QUIC{net_use_port}"),
        format!("New-SmbMapping -LocalPath Z: -RemotePath {unc} -TransportType QUIC{mapping_port}"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_commands_name_the_share_and_a_port_other_than_443() {
        let mut summary = SetupSummary {
            names: vec!["fs.example.com".into()],
            share: "sales".into(),
            user: "carol".into(),
            listening: "[::]:443".into(),
            port: 443,
            thumbprint: String::new(),
            trust_export_ca: None,
            kerberos: None,
        };
        assert_eq!(client_commands(&summary)[0], "NET USE * \\\\fs.example.com\\sales /TRANSPORT:QUIC");
        summary.port = 8443;
        assert_eq!(client_commands(&summary)[0], "NET USE * \\\\fs.example.com\\sales /TRANSPORT:QUIC /QUICPORT:8443");
        assert!(client_commands(&summary)[1].ends_with("-TransportType QUIC -QuicPort 8443"));
    }
}
