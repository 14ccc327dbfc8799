//! What a certificate is: parsed from DER (names, key, signature, validity, usages) and checked
//! against what SMB over QUIC clients require, as Windows checks it.

use std::net::IpAddr;

use x509_parser::prelude::{FromDer, GeneralName, ParsedExtension, X509Certificate};

use crate::error::{AppError, AppResult};

/// A certificate expiring within this many days gets a warning.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// What a stored certificate is, as the console and command line show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertInfo {
    /// SHA-1, upper-case hex (Windows' thumbprint).
    pub thumbprint: String,
    pub sha256: String,
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_before: i64,
    pub not_after: i64,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<IpAddr>,
    pub is_ca: bool,
    pub self_signed: bool,
    /// e.g. "ECDSA P-256", "RSA 2048".
    pub key: String,
    /// e.g. "ECDSA with SHA-256".
    pub signature: String,
    /// `None`: no key usage extension (any use).
    pub digital_signature: Option<bool>,
    /// `None`: no extended key usage extension.
    pub server_auth: Option<bool>,
    /// Key strength and algorithm pass Windows' rules.
    pub key_acceptable: bool,
    pub signature_acceptable: bool,
}

pub(super) fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

pub(super) fn digest(algorithm: &'static aws_lc_rs::digest::Algorithm, der: &[u8]) -> String {
    hex_upper(aws_lc_rs::digest::digest(algorithm, der).as_ref())
}

/// Parses a DER certificate into what the store shows and checks.
pub fn inspect(der: &[u8]) -> AppResult<CertInfo> {
    let (_, cert) = X509Certificate::from_der(der)
        .map_err(|e| AppError::invalid("certificate", format!("This is not an X.509 certificate: {e}.")))?;
    let mut dns_names = Vec::new();
    let mut ip_addresses = Vec::new();
    let mut digital_signature = None;
    let mut server_auth = None;
    for extension in cert.extensions() {
        match extension.parsed_extension() {
            ParsedExtension::SubjectAlternativeName(san) => {
                for name in &san.general_names {
                    match name {
                        GeneralName::DNSName(dns) => dns_names.push((*dns).to_owned()),
                        GeneralName::IPAddress(bytes) => {
                            if let Ok(v4) = <[u8; 4]>::try_from(*bytes) {
                                ip_addresses.push(IpAddr::from(v4));
                            } else if let Ok(v6) = <[u8; 16]>::try_from(*bytes) {
                                ip_addresses.push(IpAddr::from(v6));
                            }
                        }
                        _ => {}
                    }
                }
            }
            ParsedExtension::KeyUsage(usage) => digital_signature = Some(usage.digital_signature()),
            ParsedExtension::ExtendedKeyUsage(eku) => server_auth = Some(eku.server_auth || eku.any),
            _ => {}
        }
    }
    let (key, key_acceptable) = describe_key(&cert);
    let (signature, signature_acceptable) = describe_signature(&cert);
    Ok(CertInfo {
        thumbprint: digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, der),
        sha256: digest(&aws_lc_rs::digest::SHA256, der),
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial: hex_upper(cert.raw_serial()),
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        dns_names,
        ip_addresses,
        is_ca: cert.is_ca(),
        self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
        key,
        signature,
        digital_signature,
        server_auth,
        key_acceptable,
        signature_acceptable,
    })
}

pub(super) fn describe_key(cert: &X509Certificate<'_>) -> (String, bool) {
    use x509_parser::public_key::PublicKey;
    match cert.public_key().parsed() {
        Ok(PublicKey::RSA(rsa)) => {
            let bits = rsa.key_size();
            (format!("RSA {bits}"), bits >= 2048)
        }
        Ok(PublicKey::EC(point)) => {
            let curve = cert
                .public_key()
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| oid.to_id_string())
                .unwrap_or_default();
            match curve.as_str() {
                "1.2.840.10045.3.1.7" => ("ECDSA P-256".into(), true),
                "1.3.132.0.34" => ("ECDSA P-384".into(), true),
                "1.3.132.0.35" => ("ECDSA P-521".into(), true),
                other => (format!("EC curve {other} ({} bits)", point.key_size()), false),
            }
        }
        Ok(other) => (format!("{other:?}").split('(').next().unwrap_or("unknown").to_owned(), false),
        Err(_) => ("unreadable key".into(), false),
    }
}

pub(super) fn describe_signature(cert: &X509Certificate<'_>) -> (String, bool) {
    let oid = cert.signature_algorithm.algorithm.to_id_string();
    let (name, acceptable) = match oid.as_str() {
        "1.2.840.113549.1.1.11" => ("RSA with SHA-256", true),
        "1.2.840.113549.1.1.12" => ("RSA with SHA-384", true),
        "1.2.840.113549.1.1.13" => ("RSA with SHA-512", true),
        "1.2.840.113549.1.1.10" => ("RSA-PSS", true),
        "1.2.840.10045.4.3.2" => ("ECDSA with SHA-256", true),
        "1.2.840.10045.4.3.3" => ("ECDSA with SHA-384", true),
        "1.2.840.10045.4.3.4" => ("ECDSA with SHA-512", true),
        "1.2.840.113549.1.1.5" => ("RSA with SHA-1", false),
        "1.2.840.10045.4.1" => ("ECDSA with SHA-1", false),
        "1.2.840.113549.1.1.4" => ("RSA with MD5", false),
        _ => return (format!("algorithm {oid}"), false),
    };
    (name.to_owned(), acceptable)
}

/// A DNS name as certificates carry it: labels of letters, digits and '-', optionally a
/// leading `*.` wildcard.
pub fn valid_dns_name(name: &str) -> bool {
    let name = name.strip_prefix("*.").unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// Whether a certificate name (possibly `*.example.com`) covers `name`.
pub fn name_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => {
            name.split_once('.').is_some_and(|(first, rest)| !first.is_empty() && rest.eq_ignore_ascii_case(suffix))
        }
        None => pattern.eq_ignore_ascii_case(name),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckStatus {
    Pass,
    Warning,
    Fail,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Warning => "warning",
            CheckStatus::Fail => "fail",
        }
    }
}

/// One requirement of SMB over QUIC's certificates, with its result and how to fix a failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub status: CheckStatus,
    pub detail: String,
    /// What to do about a warning or failure.
    pub fix: Option<&'static str>,
}

pub(super) fn check(name: &'static str, status: CheckStatus, detail: impl Into<String>, fix: &'static str) -> Check {
    Check { name, status, detail: detail.into(), fix: (status != CheckStatus::Pass).then_some(fix) }
}

/// The requirements Windows Server applies to SMB over QUIC certificates, checked at `at`
/// (Unix seconds). `has_key`: the store holds the private key; `local_ca`: the issuer is a CA
/// in this store.
pub fn checks(info: &CertInfo, has_key: bool, local_ca: Option<&str>, at: i64) -> Vec<Check> {
    use CheckStatus::{Fail, Pass, Warning};
    let mut out = Vec::new();
    out.push(match info.digital_signature {
        Some(true) => check("Key usage", Pass, "digital signature", ""),
        None => check("Key usage", Pass, "no key usage extension: any use", ""),
        Some(false) => check(
            "Key usage",
            Fail,
            "the key usage extension lacks digital signature",
            "Request a certificate whose key usage includes digital signature.",
        ),
    });
    out.push(match info.server_auth {
        Some(true) => check("Enhanced key usage", Pass, "server authentication (1.3.6.1.5.5.7.3.1)", ""),
        Some(false) => check(
            "Enhanced key usage",
            Fail,
            "server authentication (1.3.6.1.5.5.7.3.1) is missing",
            "Request a certificate with the Server Authentication enhanced key usage.",
        ),
        None => check(
            "Enhanced key usage",
            Fail,
            "no enhanced key usage extension",
            "Request a certificate with the Server Authentication enhanced key usage.",
        ),
    });
    out.push(check(
        "Signature algorithm",
        if info.signature_acceptable { Pass } else { Fail },
        info.signature.clone(),
        "Reissue the certificate signed with SHA-256 or stronger.",
    ));
    out.push(check(
        "Key",
        if info.key_acceptable { Pass } else { Fail },
        info.key.clone(),
        "Use an ECDSA P-256, P-384 or P-521 key, or RSA of 2048 bits or more.",
    ));
    let bad_names: Vec<&String> = info.dns_names.iter().filter(|n| !valid_dns_name(n)).collect();
    out.push(if info.dns_names.is_empty() {
        check(
            "Subject alternative names",
            Fail,
            "no DNS name",
            "Include every name clients use (e.g. fs.example.com) as a DNS subject alternative name.",
        )
    } else if !bad_names.is_empty() {
        let list: Vec<&str> = bad_names.iter().map(|n| n.as_str()).collect();
        check(
            "Subject alternative names",
            Fail,
            format!("not valid DNS names: {}", list.join(", ")),
            "Use DNS names of letters, digits, '-' and '.' only.",
        )
    } else {
        check("Subject alternative names", Pass, info.dns_names.join(", "), "")
    });
    if !info.ip_addresses.is_empty() {
        let list: Vec<String> = info.ip_addresses.iter().map(IpAddr::to_string).collect();
        out.push(check(
            "IP address names",
            Warning,
            list.join(", "),
            "Clients connecting by IP address fall back to NTLM and break behind NAT: have them use a DNS name.",
        ));
    }
    out.push(if info.subject.trim().is_empty() {
        check("Subject", Fail, "empty", "Reissue the certificate with a subject (e.g. CN=fs.example.com).")
    } else {
        check("Subject", Pass, info.subject.clone(), "")
    });
    out.push(if has_key {
        check("Private key", Pass, "present", "")
    } else {
        check("Private key", Fail, "missing", "Import the certificate together with its private key.")
    });
    let days_left = (info.not_after - at).div_euclid(86_400);
    out.push(if at < info.not_before {
        check("Validity", Fail, "not valid yet", "Check the server's clock, or wait until the certificate is valid.")
    } else if at > info.not_after {
        check("Validity", Fail, "expired", "Renew the certificate and import the new one: mappings move to it.")
    } else if days_left < EXPIRY_WARNING_DAYS {
        check(
            "Validity",
            Warning,
            format!("expires in {days_left} days"),
            "Renew the certificate and import the new one: mappings move to it.",
        )
    } else {
        check("Validity", Pass, format!("{days_left} days left"), "")
    });
    out.push(if info.self_signed {
        check(
            "Trust",
            Warning,
            "self-signed",
            "Clients must trust this certificate: install it in their trusted root store, or use one from a CA they trust.",
        )
    } else if let Some(ca) = local_ca {
        check(
            "Trust",
            Warning,
            format!("issued by the local CA {ca}"),
            "Clients must trust the local CA: export it (cert export --ca) and install it on them.",
        )
    } else {
        check("Trust", Pass, format!("issued by {}", info.issuer), "")
    });
    out
}

impl CertInfo {
    /// Whether the certificate names `name`: a DNS subject alternative name (wildcards
    /// included) or, as clients still accept, the subject's common name.
    pub fn covers(&self, name: &str) -> bool {
        let common_name = self.subject.strip_prefix("CN=").unwrap_or_default();
        self.dns_names.iter().any(|pattern| name_matches(pattern, name)) || name_matches(common_name, name)
    }
}
