//! Client access control of SMB over QUIC (MS-SMB2 3.3.1.18; Windows Server 2025's
//! `Grant-/Block-SmbClientAccessToServer`): which client certificates a mapping admits. rustls
//! has already validated the chain against the client CAs; this decides on the allow and block
//! entries, which rustls' verifier cannot (it does not see the server name).

use x509_parser::prelude::{FromDer, X509Certificate};

use crate::engine::config::{CertificateMapping, ClientAccess, ClientMatch};

/// What identifies one certificate of a client's chain, for matching and for the audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientCertificate {
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub sha1: String,
    pub sha256: String,
}

impl std::fmt::Display for ClientCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "client certificate {} (issuer {}, serial {}, SHA-1 {}, SHA-256 {})",
            self.subject, self.issuer, self.serial, self.sha1, self.sha256
        )
    }
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Reads one DER certificate of a client's chain.
pub fn identify(der: &[u8]) -> Result<ClientCertificate, String> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| format!("unreadable client certificate: {e}"))?;
    let digest = |algorithm| hex_upper(aws_lc_rs::digest::digest(algorithm, der).as_ref());
    Ok(ClientCertificate {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial: hex_upper(cert.raw_serial()),
        sha1: digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY),
        sha256: digest(&aws_lc_rs::digest::SHA256),
    })
}

fn matches(entry: &ClientAccess, cert: &ClientCertificate) -> bool {
    match &entry.matches {
        ClientMatch::Sha256(hash) => hash.eq_ignore_ascii_case(&cert.sha256),
        ClientMatch::Issuer(issuer) => issuer.trim().eq_ignore_ascii_case(cert.issuer.trim()),
    }
}

fn describe(entry: &ClientAccess) -> String {
    let verb = if entry.allow { "allow" } else { "block" };
    match &entry.matches {
        ClientMatch::Sha256(hash) => format!("{verb} entry SHA-256 {hash}"),
        ClientMatch::Issuer(issuer) => format!("{verb} entry issuer '{issuer}'"),
    }
}

/// Whether `mapping` admits a client that presented `chain` (leaf first, already validated).
/// `Ok` carries what to log about an admitted certificate (empty when none was asked for);
/// `Err` the reason for refusing, naming the certificate and the entry that decided.
pub fn decide(mapping: &CertificateMapping, chain: &[Vec<u8>]) -> Result<String, String> {
    if !mapping.require_client_auth {
        return Ok(String::new());
    }
    if chain.is_empty() {
        return Err("the mapping requires a client certificate and the client presented none".into());
    }
    let certs = chain.iter().map(|der| identify(der)).collect::<Result<Vec<_>, _>>()?;
    let client = &certs[0];
    if mapping.skip_client_access_check {
        return Ok(format!("{client}: chain valid, access check skipped"));
    }
    for entry in mapping.access.iter().filter(|e| !e.allow) {
        if certs.iter().any(|cert| matches(entry, cert)) {
            return Err(format!("{client}: blocked by the {}", describe(entry)));
        }
    }
    match mapping.access.iter().filter(|e| e.allow).find(|entry| certs.iter().any(|cert| matches(entry, cert))) {
        Some(entry) => Ok(format!("{client}: admitted by the {}", describe(entry))),
        None => Err(format!("{client}: no allow entry matches")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroize::Zeroizing;

    /// A CA and a client certificate it issued (DER), made with rcgen.
    fn chain() -> Vec<Vec<u8>> {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::default();
        ca.distinguished_name.push(DnType::CommonName, "Client CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca, ca_key);
        let key = KeyPair::generate().unwrap();
        let mut leaf = CertificateParams::default();
        leaf.distinguished_name.push(DnType::CommonName, "laptop-17");
        let leaf = leaf.signed_by(&key, &issuer).unwrap();
        vec![leaf.der().to_vec(), ca_cert.der().to_vec()]
    }

    fn mapping(access: Vec<ClientAccess>) -> CertificateMapping {
        CertificateMapping {
            name: "fs.example.com".into(),
            thumbprint: String::new(),
            chain: Vec::new(),
            key: Zeroizing::new(Vec::new()),
            allow_named_pipes: false,
            require_client_auth: true,
            skip_client_access_check: false,
            access,
        }
    }

    fn allow(matches: ClientMatch) -> ClientAccess {
        ClientAccess { matches, allow: true }
    }

    fn block(matches: ClientMatch) -> ClientAccess {
        ClientAccess { matches, allow: false }
    }

    #[test]
    fn an_allow_entry_for_any_certificate_of_the_chain_admits() {
        let chain = chain();
        let ca_hash = identify(&chain[1]).unwrap().sha256;
        assert!(decide(&mapping(vec![allow(ClientMatch::Sha256(ca_hash))]), &chain).is_ok());
        assert!(decide(&mapping(vec![allow(ClientMatch::Issuer("CN=Client CA".into()))]), &chain).is_ok());
    }

    #[test]
    fn a_block_anywhere_wins_over_an_allow() {
        let chain = chain();
        let leaf = identify(&chain[0]).unwrap();
        let entries =
            vec![allow(ClientMatch::Issuer("CN=Client CA".into())), block(ClientMatch::Sha256(leaf.sha256.clone()))];
        let refusal = decide(&mapping(entries), &chain).unwrap_err();
        assert!(
            refusal.contains("blocked") && refusal.contains(&leaf.sha1) && refusal.contains("laptop-17"),
            "{refusal}"
        );
    }

    #[test]
    fn without_a_matching_allow_entry_the_client_is_refused() {
        let refusal = decide(&mapping(vec![allow(ClientMatch::Issuer("CN=Other CA".into()))]), &chain()).unwrap_err();
        assert!(refusal.contains("no allow entry"), "{refusal}");
        assert!(decide(&mapping(Vec::new()), &chain()).is_err(), "no entries admit no one");
    }

    #[test]
    fn a_missing_certificate_is_refused_and_skipping_the_check_admits_a_valid_chain() {
        assert!(decide(&mapping(Vec::new()), &[]).is_err());
        let skipping = CertificateMapping { skip_client_access_check: true, ..mapping(Vec::new()) };
        assert!(decide(&skipping, &chain()).is_ok());
        let open = CertificateMapping { require_client_auth: false, ..mapping(Vec::new()) };
        assert_eq!(decide(&open, &[]), Ok(String::new()));
    }
}
