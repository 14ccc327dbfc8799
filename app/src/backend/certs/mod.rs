//! The certificate store of SMB over QUIC: import, generation (self-signed, or issued by a local
//! CA), the requirement checks Windows applies, and the server-name mappings the engine serves
//! (like `New-SmbServerCertificateMapping`). Private keys stay in the database; nothing here
//! returns one.

mod inspect;
mod mappings;
mod store;

pub use inspect::*;
pub use mappings::*;
pub use store::*;

#[cfg(test)]
mod tests {
    use crate::backend::now;

    use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyUsagePurpose};

    use super::*;

    /// A certificate made by rcgen with `edit` applied to its parameters.
    fn made(edit: impl FnOnce(&mut CertificateParams)) -> CertInfo {
        let mut params = CertificateParams::new(vec!["fs.example.com".to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, "fs.example.com");
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        validity(&mut params, 100);
        edit(&mut params);
        let key = KeyKind::EcdsaP256.generate().unwrap();
        inspect(params.self_signed(&key).unwrap().der()).unwrap()
    }

    fn status(checks: &[Check], name: &str) -> CheckStatus {
        checks.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no check {name}")).status
    }

    #[test]
    fn a_generated_server_certificate_passes_with_a_trust_warning_only() {
        let info = made(|_| {});
        let checks = checks(&info, true, None, now());
        let not_passed: Vec<_> = checks.iter().filter(|c| c.status != CheckStatus::Pass).map(|c| c.name).collect();
        assert_eq!(not_passed, ["Trust"]);
        assert_eq!(info.thumbprint.len(), 40);
        assert_eq!(info.sha256.len(), 64);
        assert_eq!(info.key, "ECDSA P-256");
    }

    #[test]
    fn a_certificate_without_server_authentication_fails() {
        let info = made(|p| p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth]);
        assert_eq!(status(&checks(&info, true, None, now()), "Enhanced key usage"), CheckStatus::Fail);
    }

    #[test]
    fn ip_address_names_get_a_warning_and_a_missing_key_fails() {
        let info = made(|p| p.subject_alt_names.push(rcgen::SanType::IpAddress("192.0.2.7".parse().unwrap())));
        let checks = checks(&info, false, None, now());
        assert_eq!(status(&checks, "IP address names"), CheckStatus::Warning);
        assert_eq!(status(&checks, "Private key"), CheckStatus::Fail);
    }

    #[test]
    fn expiry_within_thirty_days_warns_and_after_it_fails() {
        let info = made(|_| {});
        let soon = info.not_after - 10 * 86_400;
        assert_eq!(status(&checks(&info, true, None, soon), "Validity"), CheckStatus::Warning);
        assert_eq!(status(&checks(&info, true, None, info.not_after + 1), "Validity"), CheckStatus::Fail);
        assert_eq!(status(&checks(&info, true, None, info.not_before - 1), "Validity"), CheckStatus::Fail);
    }

    #[test]
    fn a_certificate_without_dns_names_fails() {
        let info = made(|p| p.subject_alt_names = vec![rcgen::SanType::IpAddress("192.0.2.7".parse().unwrap())]);
        assert_eq!(status(&checks(&info, true, None, now()), "Subject alternative names"), CheckStatus::Fail);
    }

    #[test]
    fn dns_names_follow_the_label_rules() {
        assert!(valid_dns_name("fs.example.com") && valid_dns_name("*.example.com") && valid_dns_name("localhost"));
        assert!(!valid_dns_name("fs..example.com") && !valid_dns_name("-fs.example.com") && !valid_dns_name("fs_1.x"));
        assert!(!valid_dns_name("") && !valid_dns_name(&"a".repeat(64)));
    }

    #[test]
    fn a_wildcard_covers_exactly_one_label() {
        assert!(name_matches("*.example.com", "fs.example.com"));
        assert!(!name_matches("*.example.com", "a.fs.example.com") && !name_matches("*.example.com", "example.com"));
        assert!(name_matches("FS.example.com", "fs.EXAMPLE.com"));
    }

    #[test]
    fn thumbprints_may_be_typed_with_spaces_colons_and_any_case() {
        let typed = "e5:a0 6b726b41f7cdd9ca0d4ab0aa692086882f1e";
        assert_eq!(normalize_thumbprint(typed).unwrap(), "E5A06B726B41F7CDD9CA0D4AB0AA692086882F1E");
        assert!(normalize_thumbprint("E5A0").is_err());
    }
}
