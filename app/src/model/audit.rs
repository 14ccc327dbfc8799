//! The audit log: its events, the filter of its page, and the actions it records, each with its
//! one code (as stored) and its one label (as shown).

use serde::{Deserialize, Serialize};

/// Events on one page of the audit log.
pub const PAGE_SIZE: u32 = 50;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

/// Declares [`Action`]: each variant with the code the log stores and the words the console shows.
macro_rules! actions {
    ($($(#[$doc:meta])* $variant:ident = $code:literal, $label:literal;)*) => {
        /// Something the audit log records.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action {
            $($(#[$doc])* $variant,)*
        }

        impl Action {
            /// Every action, in the order the audit page offers them.
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            /// The code stored in the log (and used in filters): `area.thing.verb`.
            pub fn code(self) -> &'static str {
                match self {
                    $(Action::$variant => $code,)*
                }
            }

            /// The words the console shows for it.
            pub fn label(self) -> &'static str {
                match self {
                    $(Action::$variant => $label,)*
                }
            }
        }
    };
}

actions! {
    ConsoleSignIn = "console.sign_in", "Console sign-in";
    ConsoleSignOut = "console.sign_out", "Console sign-out";
    AccountCreate = "account.create", "Console account created";
    AccountRemove = "account.remove", "Console account removed";
    AccountRole = "account.role", "Console account role changed";
    AccountPassword = "account.password", "Console account password changed";
    SmbLogon = "smb.logon", "SMB sign-in";
    SmbLockout = "smb.lockout", "SMB account locked out";
    SmbTreeConnect = "smb.tree_connect", "SMB share connection";
    SmbDurableReclaim = "smb.durable.reclaim", "SMB durable open reclaimed after a lost connection";
    SmbDurableExpire = "smb.durable.expire", "SMB durable open closed while waiting for its client";
    /// What the resource budget refused in the last minute, summarised.
    SmbLimit = "smb.limit", "Refused by the resource budget";
    UserCreate = "smb.user.create", "SMB user created";
    UserRemove = "smb.user.remove", "SMB user removed";
    UserPassword = "smb.user.password", "SMB user password changed";
    UserEnable = "smb.user.enable", "SMB user enabled or disabled";
    UserUnlock = "smb.user.unlock", "SMB user unlocked";
    ShareCreate = "smb.share.create", "Share created";
    ShareChange = "smb.share.change", "Share changed";
    ShareRemove = "smb.share.remove", "Share removed";
    SessionClose = "smb.session.close", "SMB session closed by an administrator";
    FileClose = "smb.file.close", "Open file closed by an administrator";
    SettingsChange = "smb.settings.change", "Server setting changed";
    CertImport = "cert.import", "Certificate imported";
    CertGenerate = "cert.generate", "Certificate generated";
    CertRemove = "cert.remove", "Certificate removed";
    QuicConnect = "quic.connect", "SMB over QUIC connection";
    QuicMappingSet = "quic.mapping.set", "SMB over QUIC name mapped";
    QuicMappingRemove = "quic.mapping.remove", "SMB over QUIC name unmapped";
    QuicMappingRenew = "quic.mapping.renew", "SMB over QUIC name moved to a renewed certificate";
    QuicSetup = "quic.setup", "SMB over QUIC set up with the wizard";
    QuicEnable = "quic.enable", "SMB over QUIC turned on";
    QuicDisable = "quic.disable", "SMB over QUIC turned off";
    QuicAccessGrant = "quic.access.grant", "SMB over QUIC client allowed";
    QuicAccessBlock = "quic.access.block", "SMB over QUIC client blocked";
    QuicAccessRevoke = "quic.access.revoke", "SMB over QUIC allow entry removed";
    QuicAccessUnblock = "quic.access.unblock", "SMB over QUIC block entry removed";
    KerberosRealm = "kerberos.realm", "Kerberos realm changed";
    KerberosKeytab = "kerberos.keytab", "Kerberos service keys changed";
    KerberosMapping = "kerberos.mapping", "Kerberos principal mapping changed";
    KerberosName = "kerberos.name", "Domain name recorded or removed";
    /// A request the KDC proxy refused or could not forward.
    KdcProxy = "kerberos.kdc_proxy", "KDC proxy request failed";
    /// Engine events that came faster than the log could take them.
    AuditLost = "audit.lost", "Audit events lost";
}

impl Action {
    /// The action stored under `code`.
    pub fn from_code(code: &str) -> Option<Action> {
        Action::ALL.iter().copied().find(|action| action.code() == code)
    }

    /// The words for a stored code; a code this version does not know is shown as it is.
    pub fn label_of(code: &str) -> &str {
        match Action::from_code(code) {
            Some(action) => action.label(),
            None => code,
        }
    }

    /// The client-access action for an entry that allows (or blocks) a client and is added (or
    /// removed).
    pub fn quic_access(allow: bool, add: bool) -> Action {
        match (allow, add) {
            (true, true) => Action::QuicAccessGrant,
            (false, true) => Action::QuicAccessBlock,
            (true, false) => Action::QuicAccessRevoke,
            (false, false) => Action::QuicAccessUnblock,
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// One event of the log, as the console shows it. Its action stays a code: the log keeps
/// what earlier versions recorded too.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub id: i64,
    /// RFC 3339, UTC.
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub outcome: Outcome,
    pub detail: String,
    pub source: String,
}

/// Filters of the audit page; empty strings mean "any".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// An action code or a category prefix such as `account.`.
    pub action: String,
    pub actor: String,
    pub outcome: String,
    /// Free text searched in target and detail.
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    /// 1-based.
    pub page: u32,
    pub page_count: u32,
    pub total: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_its_own_code_and_label_and_is_found_by_its_code() {
        let mut codes = std::collections::HashSet::new();
        let mut labels = std::collections::HashSet::new();
        for action in Action::ALL {
            assert!(codes.insert(action.code()), "{action:?} repeats a code");
            assert!(labels.insert(action.label()), "{action:?} repeats a label");
            assert_eq!(Action::from_code(action.code()), Some(*action));
            let (area, rest) = action.code().split_once('.').expect("area.thing");
            assert!(!area.is_empty() && !rest.is_empty(), "{action:?}");
        }
    }

    #[test]
    fn an_unknown_code_is_shown_as_stored() {
        assert_eq!(Action::label_of("smb.share.create"), "Share created");
        assert_eq!(Action::label_of("legacy.thing"), "legacy.thing");
    }
}
