//! Certificates as the console shows them: each one's checks, what adding and exporting one
//! returns, and the equivalent command lines.

use serde::{Deserialize, Serialize};

use crate::model::health::Level;
use crate::model::shell_word;

/// One requirement check of a certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertCheck {
    pub name: String,
    pub level: Level,
    pub detail: String,
    pub fix: Option<String>,
}

/// A certificate of the store as the console shows it. No key material.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateRow {
    /// SHA-1, upper-case hex, as Windows shows it.
    pub thumbprint: String,
    pub sha256: String,
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    /// RFC 3339, UTC.
    pub not_before: String,
    pub not_after: String,
    /// Whole days until it expires; negative once expired.
    pub days_left: i64,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<String>,
    /// e.g. "ECDSA P-256".
    pub key: String,
    pub signature: String,
    pub is_ca: bool,
    pub self_signed: bool,
    pub has_key: bool,
    /// `imported`, `generated`, `issued`, ...
    pub origin: String,
    pub local_ca: Option<String>,
    pub mapped_names: Vec<String>,
    /// The worst check.
    pub health: Level,
    pub checks: Vec<CertCheck>,
}

/// What adding a certificate did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddedCertificate {
    pub thumbprint: String,
    pub subject: String,
    /// Server names whose mapping moved to it (renewal).
    pub remapped: Vec<String>,
}

/// A certificate exported as text, for the browser to save.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedCertificate {
    pub file_name: String,
    pub pem: String,
}

/// The names typed in one box: separated by commas, spaces or new lines.
pub fn split_names(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace()).filter(|n| !n.is_empty()).map(str::to_owned).collect()
}

/// The command line that does the same as the generate form.
pub fn generate_command(names: &[String], ca: Option<&str>, key: &str) -> String {
    let mut command = String::from("edgeshare cert generate");
    for name in names {
        command.push_str(&format!(" --dns {}", shell_word(name)));
    }
    if let Some(ca) = ca.map(str::trim).filter(|c| !c.is_empty()) {
        command.push_str(&format!(" --ca {}", shell_word(ca)));
    }
    if key != "ecdsa-p256" {
        command.push_str(&format!(" --key {key}"));
    }
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_typed_in_one_box_split_on_commas_spaces_and_lines() {
        assert_eq!(
            split_names("fs.example.com, files.example.com\nx.example.com  "),
            ["fs.example.com", "files.example.com", "x.example.com"]
        );
        assert!(split_names(" ,\n").is_empty());
    }

    #[test]
    fn the_generate_command_names_every_choice_that_is_not_the_default() {
        let names = vec!["fs.example.com".to_owned()];
        assert_eq!(generate_command(&names, None, "ecdsa-p256"), "edgeshare cert generate --dns fs.example.com");
        assert_eq!(
            generate_command(&names, Some("Office CA"), "rsa-2048"),
            "edgeshare cert generate --dns fs.example.com --ca 'Office CA' --key rsa-2048"
        );
        // A CA name is one word for the shell, whatever it holds.
        assert_eq!(
            generate_command(&names, Some("Bob's CA"), "ecdsa-p256"),
            r"edgeshare cert generate --dns fs.example.com --ca 'Bob'\''s CA'"
        );
    }
}
