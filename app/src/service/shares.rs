//! Shares: list, create, change (wholly, as the console's form does, or in part, as
//! `edgeshare share set` does) and remove them.

use smb_core::{Access, ShareConfig, same_name};
use sqlx::SqlitePool;

use crate::backend::{rfc3339, smb};
use crate::error::{AppError, AppResult};
use crate::model::audit::Action;
use crate::model::shares::{
    AccessLevel, Permission, ShareEdit, ShareForm, ShareSummary, check_description, check_max_users,
};
use crate::service::{Actor, Control};

fn level(access: Access) -> AccessLevel {
    match access {
        Access::Full => AccessLevel::Full,
        Access::Change => AccessLevel::Change,
        Access::Read => AccessLevel::Read,
        Access::Deny => AccessLevel::Deny,
    }
}

fn access(level: AccessLevel) -> Access {
    match level {
        AccessLevel::Full => Access::Full,
        AccessLevel::Change => Access::Change,
        AccessLevel::Read => Access::Read,
        AccessLevel::Deny => Access::Deny,
    }
}

fn summary(share: smb::Share) -> ShareSummary {
    let config = share.config;
    ShareSummary {
        name: config.name,
        path: config.path.display().to_string(),
        description: config.description,
        permissions: config
            .permissions
            .into_iter()
            .map(|(principal, access)| Permission { principal, access: level(access) })
            .collect(),
        encrypt_data: config.encrypt_data,
        access_based_enumeration: config.access_based_enumeration,
        max_users: config.max_users,
        continuous_availability: config.continuous_availability,
        created_at: rfc3339(share.created_at),
    }
}

/// The form that describes a stored share.
fn form_of(config: &ShareConfig) -> ShareForm {
    ShareForm {
        name: config.name.clone(),
        path: config.path.display().to_string(),
        description: config.description.clone(),
        permissions: config
            .permissions
            .iter()
            .map(|(principal, access)| Permission { principal: principal.clone(), access: level(*access) })
            .collect(),
        encrypt_data: config.encrypt_data,
        access_based_enumeration: config.access_based_enumeration,
        max_users: config.max_users.map(|n| n.to_string()).unwrap_or_default(),
        continuous_availability: config.continuous_availability,
    }
}

/// Every share, by name.
pub async fn list(db: &SqlitePool) -> AppResult<Vec<ShareSummary>> {
    Ok(smb::list_shares(db).await?.into_iter().map(summary).collect())
}

/// The engine's configuration of the share `form` describes, after every check.
async fn checked(db: &SqlitePool, form: &ShareForm) -> AppResult<ShareConfig> {
    let name = smb::check_share_name(&form.name)?.to_owned();
    let path = smb::check_share_path(&form.path)?;
    let description = check_description(&form.description)?.to_owned();
    let max_users = check_max_users(&form.max_users)?;
    let entries: Vec<(String, Access)> =
        form.permissions.iter().map(|p| (p.principal.clone(), access(p.access))).collect();
    let permissions = smb::check_permissions(db, &entries).await?;
    Ok(ShareConfig {
        name,
        path,
        description,
        permissions,
        encrypt_data: form.encrypt_data,
        access_based_enumeration: form.access_based_enumeration,
        max_users,
        continuous_availability: form.continuous_availability,
    })
}

/// Shares a directory as `form` describes; returns the share's name as stored.
pub async fn create(control: &Control, actor: &Actor, form: &ShareForm) -> AppResult<String> {
    let config = checked(&control.db, form).await?;
    smb::add_share(&control.db, &config).await?;
    control.apply().await?;
    control.audit(actor.did(Action::ShareCreate, &config.name).detail(form_of(&config).describe())).await;
    Ok(config.name)
}

/// Changes the share named `original` to what `form` describes, in one transaction; returns its
/// name as stored now.
pub async fn update(control: &Control, actor: &Actor, original: &str, form: &ShareForm) -> AppResult<String> {
    let config = checked(&control.db, form).await?;
    let previous = smb::update_share(&control.db, original, &config, None).await?;
    changed(control, actor, &previous, config).await
}

/// Makes `edit` to the share named `name` in one transaction: a change made by someone else
/// between reading the share and writing it is not overwritten (the edit is made again on
/// top of it). Returns the share's name as stored now.
pub async fn edit(control: &Control, actor: &Actor, name: &str, edit: &ShareEdit) -> AppResult<String> {
    if edit.is_empty() {
        return Err(AppError::invalid("share", "Name at least one setting to change."));
    }
    const ATTEMPTS: usize = 3;
    for _ in 0..ATTEMPTS {
        let current = smb::find_share(&control.db, name).await?;
        let config = checked(&control.db, &edit.apply(&form_of(&current), same_name)).await?;
        match smb::update_share(&control.db, &current.name, &config, Some(&current)).await {
            Ok(previous) => return changed(control, actor, &previous, config).await,
            Err(AppError::Conflict(_)) => continue,
            Err(error) => return Err(error),
        }
    }
    Err(AppError::Conflict(format!("The share '{}' kept changing while this change was made; try again.", name.trim())))
}

/// Applies and audits a change from `previous` to `config`.
async fn changed(control: &Control, actor: &Actor, previous: &ShareConfig, config: ShareConfig) -> AppResult<String> {
    control.apply().await?;
    let (before, after) = (form_of(previous), form_of(&config));
    let mut detail = format!("{} -> {}", before.describe(), after.describe());
    if previous.name != config.name {
        detail = format!("renamed from '{}'; {detail}", previous.name);
    }
    if previous.description != config.description {
        detail.push_str(&format!("; description '{}' -> '{}'", previous.description, config.description));
    }
    control.audit(actor.did(Action::ShareChange, &config.name).detail(detail)).await;
    Ok(config.name)
}

/// Stops sharing a directory (its files stay); returns the name as it was stored.
pub async fn remove(control: &Control, actor: &Actor, name: &str) -> AppResult<String> {
    let removed = smb::remove_share(&control.db, name).await?;
    control.apply().await?;
    control.audit(actor.did(Action::ShareRemove, &removed).detail("files untouched")).await;
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::shares::EVERYONE;

    async fn control() -> Control {
        // One connection: every connection to `sqlite::memory:` would be a database of its own.
        let db = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect("sqlite::memory:").await.unwrap();
        sqlx::migrate!("../server/migrations").run(&db).await.unwrap();
        Control::command_line(db)
    }

    fn permission(principal: &str, access: AccessLevel) -> Permission {
        Permission { principal: principal.into(), access }
    }

    /// (actor, action, target, detail, source) of every audit event, oldest first.
    async fn events(db: &SqlitePool) -> Vec<(String, String, String, String, String)> {
        sqlx::query_as("SELECT actor, action, target, detail, source FROM audit_events ORDER BY id")
            .fetch_all(db)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn an_edit_changes_only_what_it_names_in_one_audited_change() {
        let control = control().await;
        let actor = Actor::CommandLine { uid: 1000 };
        let dir = tempfile::tempdir().unwrap();
        for user in ["alice", "bob"] {
            smb::add_user(&control.db, user, "a long password").await.unwrap();
        }
        let form = ShareForm {
            name: "projects".into(),
            path: dir.path().display().to_string(),
            description: "Project files".into(),
            permissions: vec![permission("alice", AccessLevel::Full), permission(EVERYONE, AccessLevel::Read)],
            max_users: "5".into(),
            ..ShareForm::default()
        };
        create(&control, &actor, &form).await.unwrap();
        let version = smb::config_version(&control.db).await.unwrap();

        let edit = ShareEdit {
            grant: vec![permission("BOB", AccessLevel::Change)],
            revoke: vec!["everyone".into()],
            encrypt_data: Some(true),
            max_users: Some(String::new()),
            ..ShareEdit::default()
        };
        assert_eq!(super::edit(&control, &actor, "PROJECTS", &edit).await.unwrap(), "projects");

        let share = smb::find_share(&control.db, "projects").await.unwrap();
        assert_eq!(share.description, "Project files");
        assert_eq!(share.permissions, vec![("alice".to_owned(), Access::Full), ("bob".to_owned(), Access::Change)]);
        assert!(share.encrypt_data);
        assert_eq!(share.max_users, None);
        assert_eq!(smb::config_version(&control.db).await.unwrap(), version + 1);
        let events = events(&control.db).await;
        assert_eq!(events.len(), 2);
        let (who, action, target, detail, source) = &events[1];
        assert_eq!((who.as_str(), action.as_str(), target.as_str()), ("command line", "smb.share.change", "projects"));
        assert_eq!(source, "command line (uid 1000)");
        assert!(detail.ends_with("alice: full, bob: change, encrypted"), "{detail}");
    }

    #[tokio::test]
    async fn a_refused_edit_changes_nothing_and_records_nothing() {
        let control = control().await;
        let actor = Actor::CommandLine { uid: 0 };
        let dir = tempfile::tempdir().unwrap();
        let form = ShareForm {
            name: "docs".into(),
            path: dir.path().display().to_string(),
            permissions: vec![permission(EVERYONE, AccessLevel::Read)],
            ..ShareForm::default()
        };
        create(&control, &actor, &form).await.unwrap();
        let before = smb::find_share(&control.db, "docs").await.unwrap();

        let ghost = ShareEdit { grant: vec![permission("ghost", AccessLevel::Full)], ..ShareEdit::default() };
        let error = super::edit(&control, &actor, "docs", &ghost).await.unwrap_err();
        assert_eq!(error.for_field("permissions"), Some("There is no SMB user named 'ghost'."));
        let emptied = ShareEdit { revoke: vec![EVERYONE.into()], ..ShareEdit::default() };
        assert!(super::edit(&control, &actor, "docs", &emptied).await.unwrap_err().for_field("permissions").is_some());
        assert!(super::edit(&control, &actor, "docs", &ShareEdit::default()).await.is_err());
        let missing = ShareEdit { description: Some("x".into()), ..ShareEdit::default() };
        assert!(matches!(super::edit(&control, &actor, "nope", &missing).await, Err(AppError::NotFound(_))));

        assert_eq!(smb::find_share(&control.db, "docs").await.unwrap(), before);
        assert_eq!(events(&control.db).await.len(), 1);
    }
}
