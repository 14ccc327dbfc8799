//! Client access control of SMB over QUIC (MS-SMB2 3.3.1.18; Windows Server 2025's
//! `Grant-/Block-SmbClientAccessToServer`): which client certificates a mapping admits. rustls
//! has already validated the chain against the client CAs, but it does not say which of the
//! certificates the client sent formed the valid path. A client may send any certificate after
//! its own (a victim's public certificate, a self-made one naming a trusted issuer), so the path
//! is built again here ([`verified_path`]) and the allow and block entries are matched against
//! that path alone: the client's certificate, the intermediates that chain it, and the client CA
//! it leads to. rustls' verifier cannot decide on the entries itself: it does not see the server
//! name.

use std::time::SystemTime;

use rustls::pki_types::{CertificateDer, UnixTime};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::engine::config::{CertificateMapping, ClientAccess, ClientMatch};

/// What identifies one certificate of a client's chain, for matching and for the audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ClientCertificate {
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
pub(crate) fn identify(der: &[u8]) -> Result<ClientCertificate, String> {
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

/// The certificates of the path that validates the client's certificate (`presented[0]`)
/// against `client_cas` for client authentication at `now`: the client's certificate, the
/// intermediates the path uses, and the client CA it ends at (DER, leaf first). Certificates the
/// client sent that the path does not use are left out; they decide nothing.
pub(crate) fn verified_path(
    presented: &[Vec<u8>],
    client_cas: &[Vec<u8>],
    now: SystemTime,
) -> Result<Vec<Vec<u8>>, String> {
    let Some((leaf, rest)) = presented.split_first() else { return Ok(Vec::new()) };
    let leaf_der = CertificateDer::from(leaf.as_slice());
    let end_entity =
        webpki::EndEntityCert::try_from(&leaf_der).map_err(|e| format!("unreadable client certificate: {e}"))?;
    let cas: Vec<CertificateDer<'_>> = client_cas.iter().map(|der| CertificateDer::from(der.as_slice())).collect();
    let anchors = cas
        .iter()
        .filter_map(|der| webpki::anchor_from_trusted_cert(der).ok().map(|anchor| (anchor, der)))
        .collect::<Vec<_>>();
    let trust_anchors: Vec<_> = anchors.iter().map(|(anchor, _)| anchor.clone()).collect();
    let intermediates: Vec<CertificateDer<'_>> = rest.iter().map(|der| CertificateDer::from(der.as_slice())).collect();
    let time = UnixTime::since_unix_epoch(now.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default());
    let algorithms = rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms.all;
    let path = end_entity
        .verify_for_usage(algorithms, &trust_anchors, &intermediates, time, webpki::KeyUsage::client_auth(), None, None)
        .map_err(|e| format!("the client certificate does not chain to a client CA: {e}"))?;
    let mut chain = vec![leaf.clone()];
    chain.extend(path.intermediate_certificates().map(|cert| cert.der().to_vec()));
    let anchor = path.anchor();
    let ca = anchors.iter().find(|(candidate, _)| {
        candidate.subject == anchor.subject && candidate.subject_public_key_info == anchor.subject_public_key_info
    });
    if let Some((_, der)) = ca {
        chain.push(der.to_vec());
    }
    Ok(chain)
}

/// Whether `mapping` admits a client that presented `presented` (its certificate first, then
/// whatever else it chose to send): only the path that validates against `client_cas` decides.
pub(crate) fn admit(
    mapping: &CertificateMapping,
    presented: &[Vec<u8>],
    client_cas: &[Vec<u8>],
    now: SystemTime,
) -> Result<String, String> {
    if !mapping.require_client_auth {
        return Ok(String::new());
    }
    decide(mapping, &verified_path(presented, client_cas, now)?)
}

/// Whether `mapping` admits a client whose certificate validated along `path` (leaf first, as
/// [`verified_path`] gives it). `Ok` carries what to log about an admitted certificate (empty
/// when none was asked for); `Err` the reason for refusing, naming the certificate and the entry
/// that decided.
pub fn decide(mapping: &CertificateMapping, path: &[Vec<u8>]) -> Result<String, String> {
    if !mapping.require_client_auth {
        return Ok(String::new());
    }
    if path.is_empty() {
        return Err("the mapping requires a client certificate and the client presented none".into());
    }
    let certs = path.iter().map(|der| identify(der)).collect::<Result<Vec<_>, _>>()?;
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

    /// A client certificate for `subject` issued by a fresh CA named `ca`: (leaf, CA), DER.
    fn issued(subject: &str, ca: &str) -> (Vec<u8>, Vec<u8>) {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        let ca_key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, ca);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(params, ca_key);
        let mut leaf = CertificateParams::default();
        leaf.distinguished_name.push(DnType::CommonName, subject);
        let leaf = leaf.signed_by(&KeyPair::generate().unwrap(), &issuer).unwrap();
        (leaf.der().to_vec(), ca_cert.der().to_vec())
    }

    #[test]
    fn only_the_verified_path_decides_not_certificates_appended_after_it() {
        let chain = chain();
        let (leaf, ca) = (chain[0].clone(), chain[1].clone());
        let (victim, _) = issued("victim", "Victim CA");
        let (forged, _) = issued("forged", "Client CA");
        let cas = vec![ca.clone()];
        let now = SystemTime::now();
        let path = verified_path(&[leaf.clone(), victim.clone(), forged.clone()], &cas, now).unwrap();
        assert_eq!(path, vec![leaf.clone(), ca.clone()], "the path is the leaf and the client CA, nothing appended");

        let victim_hash = identify(&victim).unwrap().sha256;
        let by_victim = mapping(vec![allow(ClientMatch::Sha256(victim_hash))]);
        assert!(admit(&by_victim, &[leaf.clone(), victim.clone()], &cas, now).is_err());
        let by_issuer = mapping(vec![allow(ClientMatch::Issuer("CN=Victim CA".into()))]);
        assert!(admit(&by_issuer, &[leaf.clone(), victim], &cas, now).is_err());
        let by_own_issuer = mapping(vec![allow(ClientMatch::Issuer("CN=Client CA".into()))]);
        assert!(admit(&by_own_issuer, &[leaf.clone(), forged.clone()], &cas, now).is_ok());
        assert!(
            admit(&by_own_issuer, &[forged], &cas, now).is_err(),
            "a certificate naming the CA is not issued by it"
        );
        assert!(admit(&by_own_issuer, &[leaf], &[], now).is_err(), "no client CA: no path");
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
