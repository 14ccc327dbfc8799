//! Shares: list, create, change and remove them (like `Get-SmbShare`, `New-SmbShare`,
//! `Set-SmbShare`, `Grant-SmbShareAccess` and `Remove-SmbShare`), and the `edgeshare share`
//! command line that does the same.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

/// The pseudo-user that covers every SMB user (smb_core's `EVERYONE`, which the browser lacks).
pub const EVERYONE: &str = "Everyone";
/// Windows shows share remarks in one line; longer ones are cut off by clients anyway.
pub const MAX_DESCRIPTION_CHARS: usize = 256;

/// A share permission, as the console and the database spell it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessLevel {
    Full,
    Change,
    Read,
    /// No access: wins over every other entry, as a Windows share's Deny does.
    Deny,
}

impl AccessLevel {
    pub const ALL: [AccessLevel; 4] = [AccessLevel::Full, AccessLevel::Change, AccessLevel::Read, AccessLevel::Deny];

    pub fn as_str(self) -> &'static str {
        match self {
            AccessLevel::Full => "full",
            AccessLevel::Change => "change",
            AccessLevel::Read => "read",
            AccessLevel::Deny => "deny",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AccessLevel::Full => "Full",
            AccessLevel::Change => "Change",
            AccessLevel::Read => "Read",
            AccessLevel::Deny => "No access",
        }
    }

    pub fn parse(text: &str) -> Option<AccessLevel> {
        AccessLevel::ALL.into_iter().find(|level| level.as_str() == text)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permission {
    /// An SMB user's name, or `Everyone`.
    pub principal: String,
    pub access: AccessLevel,
}

/// A share as the Shares page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareSummary {
    pub name: String,
    pub path: String,
    pub description: String,
    pub permissions: Vec<Permission>,
    pub encrypt_data: bool,
    pub access_based_enumeration: bool,
    pub max_users: Option<u32>,
    /// RFC 3339, UTC.
    pub created_at: String,
}

/// What the share form sends: the same for a new share and a changed one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ShareForm {
    pub name: String,
    pub path: String,
    pub description: String,
    pub permissions: Vec<Permission>,
    pub encrypt_data: bool,
    pub access_based_enumeration: bool,
    /// Empty for no limit.
    pub max_users: String,
}

impl ShareForm {
    pub fn from_summary(share: &ShareSummary) -> ShareForm {
        ShareForm {
            name: share.name.clone(),
            path: share.path.clone(),
            description: share.description.clone(),
            permissions: share.permissions.clone(),
            encrypt_data: share.encrypt_data,
            access_based_enumeration: share.access_based_enumeration,
            max_users: share.max_users.map(|n| n.to_string()).unwrap_or_default(),
        }
    }
}

/// The concurrent user limit: empty for none, otherwise a whole number of at least one.
pub fn check_max_users(text: &str) -> AppResult<Option<u32>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<u32>() {
        Ok(n) if n >= 1 => Ok(Some(n)),
        _ => Err(AppError::invalid(
            "max_users",
            format!("Enter a whole number from 1 to {}, or leave it empty for no limit.", u32::MAX),
        )),
    }
}

pub fn check_description(text: &str) -> AppResult<&str> {
    let text = text.trim();
    if text.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(AppError::invalid("description", format!("Use at most {MAX_DESCRIPTION_CHARS} characters.")));
    }
    if text.chars().any(char::is_control) {
        return Err(AppError::invalid("description", "Use one line of text."));
    }
    Ok(text)
}

/// A word for a POSIX shell, quoted only when it needs to be.
pub fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':' | '@' | '%' | '+' | '='));
    if plain { word.to_owned() } else { format!("'{}'", word.replace('\'', r"'\''")) }
}

/// The `edgeshare share add` command that creates `share` as the form describes it.
pub fn add_command(share: &ShareForm) -> String {
    let mut words = vec![
        "edgeshare".to_owned(),
        "share".into(),
        "add".into(),
        shell_word(share.name.trim()),
        shell_word(share.path.trim()),
    ];
    for permission in &share.permissions {
        words.push(format!("--{}", permission.access.as_str()));
        words.push(shell_word(&permission.principal));
    }
    if share.encrypt_data {
        words.push("--encrypt".into());
    }
    if share.access_based_enumeration {
        words.push("--access-based-enumeration".into());
    }
    if !share.max_users.trim().is_empty() {
        words.push("--max-users".into());
        words.push(shell_word(share.max_users.trim()));
    }
    if !share.description.trim().is_empty() {
        words.push("--description".into());
        words.push(shell_word(share.description.trim()));
    }
    words.join(" ")
}

pub fn remove_command(name: &str) -> String {
    format!("edgeshare share remove {}", shell_word(name))
}

#[server(endpoint = "list_shares")]
pub async fn list_shares() -> Result<Vec<ShareSummary>, AppError> {
    crate::backend::respond(async move {
        use crate::backend::{rfc3339, session, smb, state};
        let state = state()?;
        session::require_signed_in().await?;
        Ok(smb::list_shares(&state.db)
            .await?
            .into_iter()
            .map(|share| ShareSummary {
                name: share.config.name,
                path: share.config.path.display().to_string(),
                description: share.config.description,
                permissions: share
                    .config
                    .permissions
                    .into_iter()
                    .map(|(principal, access)| Permission { principal, access: level(access) })
                    .collect(),
                encrypt_data: share.config.encrypt_data,
                access_based_enumeration: share.config.access_based_enumeration,
                max_users: share.config.max_users,
                created_at: rfc3339(share.created_at),
            })
            .collect())
    })
    .await
}

#[cfg(feature = "ssr")]
fn level(access: smb_core::Access) -> AccessLevel {
    match access {
        smb_core::Access::Full => AccessLevel::Full,
        smb_core::Access::Change => AccessLevel::Change,
        smb_core::Access::Read => AccessLevel::Read,
        smb_core::Access::Deny => AccessLevel::Deny,
    }
}

/// The engine's configuration of a share the form describes, after every check.
#[cfg(feature = "ssr")]
async fn share_config(db: &sqlx::SqlitePool, form: &ShareForm) -> AppResult<smb_core::ShareConfig> {
    use crate::backend::smb;
    use smb_core::Access;
    let name = smb::check_share_name(&form.name)?.to_owned();
    let path = smb::check_share_path(&form.path)?;
    let description = check_description(&form.description)?.to_owned();
    let max_users = check_max_users(&form.max_users)?;
    let entries: Vec<(String, Access)> = form
        .permissions
        .iter()
        .map(|p| {
            let access = match p.access {
                AccessLevel::Full => Access::Full,
                AccessLevel::Change => Access::Change,
                AccessLevel::Read => Access::Read,
                AccessLevel::Deny => Access::Deny,
            };
            (p.principal.clone(), access)
        })
        .collect();
    let permissions = smb::check_permissions(db, &entries).await?;
    Ok(smb_core::ShareConfig {
        name,
        path,
        description,
        permissions,
        encrypt_data: form.encrypt_data,
        access_based_enumeration: form.access_based_enumeration,
        max_users,
    })
}

/// Permissions and options in one line, for the audit log.
#[cfg(feature = "ssr")]
fn describe(share: &smb_core::ShareConfig) -> String {
    let mut parts: Vec<String> =
        share.permissions.iter().map(|(user, access)| format!("{user}: {}", access.as_str())).collect();
    if share.encrypt_data {
        parts.push("encrypted".into());
    }
    if share.access_based_enumeration {
        parts.push("access-based enumeration".into());
    }
    if let Some(max) = share.max_users {
        parts.push(format!("at most {max} users"));
    }
    format!("{}; {}", share.path.display(), parts.join(", "))
}

/// Creates a share; returns its name as stored.
#[server(endpoint = "create_share")]
pub async fn create_share(share: ShareForm) -> Result<String, AppError> {
    crate::backend::respond(async move {
        use crate::backend::{audit, session, smb, state};
        let state = state()?;
        let actor = session::require_admin().await?;
        let config = share_config(&state.db, &share).await?;
        smb::add_share(&state.db, &config).await?;
        state.apply_configuration().await?;
        audit::record(
            &state.db,
            audit::Entry::success(&actor.name, "smb.share.create", &config.name)
                .detail(describe(&config))
                .source(&session::client_address().await),
        )
        .await;
        Ok(config.name)
    })
    .await
}

/// Changes the share named `original` in one step; returns its name as stored now.
#[server(endpoint = "update_share")]
pub async fn update_share(original: String, share: ShareForm) -> Result<String, AppError> {
    crate::backend::respond(async move {
        use crate::backend::{audit, session, smb, state};
        let state = state()?;
        let actor = session::require_admin().await?;
        let config = share_config(&state.db, &share).await?;
        let previous = smb::update_share(&state.db, &original, &config).await?;
        state.apply_configuration().await?;
        let mut detail = format!("{} -> {}", describe(&previous), describe(&config));
        if previous.name != config.name {
            detail = format!("renamed from '{}'; {detail}", previous.name);
        }
        if previous.description != config.description {
            detail.push_str(&format!("; description '{}' -> '{}'", previous.description, config.description));
        }
        audit::record(
            &state.db,
            audit::Entry::success(&actor.name, "smb.share.change", &config.name)
                .detail(detail)
                .source(&session::client_address().await),
        )
        .await;
        Ok(config.name)
    })
    .await
}

/// Stops sharing a directory (its files stay); returns the name as it was stored.
#[server(endpoint = "remove_share")]
pub async fn remove_share(name: String) -> Result<String, AppError> {
    crate::backend::respond(async move {
        use crate::backend::{audit, session, smb, state};
        let state = state()?;
        let actor = session::require_admin().await?;
        let removed = smb::remove_share(&state.db, &name).await?;
        state.apply_configuration().await?;
        audit::record(
            &state.db,
            audit::Entry::success(&actor.name, "smb.share.remove", &removed)
                .detail("files untouched")
                .source(&session::client_address().await),
        )
        .await;
        Ok(removed)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_word("/srv/sales"), "/srv/sales");
        assert_eq!(shell_word("Sales Team"), "'Sales Team'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word("admin$"), "'admin$'");
        assert_eq!(shell_word(""), "''");
    }

    #[test]
    fn the_add_command_carries_every_choice_of_the_form() {
        let form = ShareForm {
            name: "Sales Team".into(),
            path: "/srv/sales".into(),
            description: "Quarterly numbers".into(),
            permissions: vec![
                Permission { principal: "alice".into(), access: AccessLevel::Change },
                Permission { principal: EVERYONE.into(), access: AccessLevel::Read },
                Permission { principal: "mallory".into(), access: AccessLevel::Deny },
            ],
            encrypt_data: true,
            access_based_enumeration: true,
            max_users: "5".into(),
        };
        assert_eq!(
            add_command(&form),
            "edgeshare share add 'Sales Team' /srv/sales --change alice --read Everyone --deny mallory --encrypt \
             --access-based-enumeration --max-users 5 --description 'Quarterly numbers'"
        );
    }

    #[test]
    fn the_user_limit_is_empty_or_a_positive_whole_number() {
        assert_eq!(check_max_users(" ").unwrap(), None);
        assert_eq!(check_max_users("12").unwrap(), Some(12));
        for bad in ["0", "-1", "1.5", "many", "99999999999"] {
            assert!(check_max_users(bad).unwrap_err().for_field("max_users").is_some(), "{bad:?}");
        }
    }

    #[test]
    fn descriptions_are_one_line_of_bounded_length() {
        assert_eq!(check_description("  Sales  ").unwrap(), "Sales");
        assert!(check_description("two\nlines").is_err());
        assert!(check_description(&"x".repeat(MAX_DESCRIPTION_CHARS + 1)).is_err());
    }

    #[test]
    fn access_levels_round_trip_through_their_names() {
        for level in AccessLevel::ALL {
            assert_eq!(AccessLevel::parse(level.as_str()), Some(level));
        }
        assert_eq!(AccessLevel::Deny.label(), "No access");
    }
}
