//! The audit log: every administrative action and security event, newest first.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

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

/// The action codes recorded so far, with the words the page shows for them.
pub const ACTIONS: &[(&str, &str)] = &[
    ("console.sign_in", "Console sign-in"),
    ("console.sign_out", "Console sign-out"),
    ("account.create", "Console account created"),
    ("account.remove", "Console account removed"),
    ("account.role", "Console account role changed"),
    ("account.password", "Console account password changed"),
    ("smb.logon", "SMB sign-in"),
    ("smb.lockout", "SMB account locked out"),
    ("smb.connect", "SMB client connected"),
    ("smb.disconnect", "SMB client disconnected"),
    ("smb.tree_connect", "SMB share connection"),
    ("smb.user.create", "SMB user created"),
    ("smb.user.remove", "SMB user removed"),
    ("smb.user.password", "SMB user password changed"),
    ("smb.user.enable", "SMB user enabled or disabled"),
    ("smb.user.unlock", "SMB user unlocked"),
    ("smb.share.create", "Share created"),
    ("smb.share.change", "Share changed"),
    ("smb.share.remove", "Share removed"),
    ("smb.session.close", "SMB session closed by an administrator"),
    ("smb.file.close", "Open file closed by an administrator"),
    ("smb.settings.change", "Server setting changed"),
    ("cert.import", "Certificate imported"),
    ("cert.generate", "Certificate generated"),
    ("cert.remove", "Certificate removed"),
    ("quic.mapping.set", "SMB over QUIC name mapped"),
    ("quic.mapping.remove", "SMB over QUIC name unmapped"),
    ("quic.mapping.renew", "SMB over QUIC name moved to a renewed certificate"),
    ("quic.setup", "SMB over QUIC set up with the wizard"),
    ("quic.enable", "SMB over QUIC turned on"),
    ("quic.disable", "SMB over QUIC turned off"),
    ("quic.access.grant", "SMB over QUIC client allowed"),
    ("quic.access.block", "SMB over QUIC client blocked"),
    ("quic.access.revoke", "SMB over QUIC allow entry removed"),
    ("quic.access.unblock", "SMB over QUIC block entry removed"),
];

pub fn action_label(code: &str) -> &str {
    ACTIONS.iter().find(|(c, _)| *c == code).map_or(code, |(_, label)| label)
}

#[server(endpoint = "list_audit")]
pub async fn list_audit(filter: AuditFilter, page: u32) -> Result<AuditPage, AppError> {
    crate::backend::respond(async move {
        use crate::backend::{audit, session, state};
        session::require_signed_in().await?;
        audit::list(&state()?.db, &filter, page.max(1)).await
    })
    .await
}
