//! Shares: names, directories, permissions and options, and the checks that keep them apart
//! from the server's own data.

use std::path::{Path, PathBuf};

use smb_core::{Access, ShareConfig, fold_name, same_name};
use sqlx::SqlitePool;

use super::*;
use crate::backend::now;
use crate::error::{AppError, AppResult};

/// Windows limits share names to 80 characters (MS-SRVS 2.2.4.x `shi*_netname`).
pub const MAX_SHARE_NAME_CHARS: usize = 80;

/// Names that are the server's own: IPC$ and the administrative shares Windows clients expect.
pub(super) const RESERVED_SHARES: &[&str] = &["IPC$", "ADMIN$", "PRINT$", "C$", "D$", "E$"];

/// A share with its configuration and bookkeeping.
#[derive(Clone, Debug)]
pub struct Share {
    pub config: ShareConfig,
    pub created_at: i64,
}

pub fn check_share_name(name: &str) -> AppResult<&str> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::invalid("name", "Enter a share name."));
    }
    if name.chars().count() > MAX_SHARE_NAME_CHARS {
        return Err(AppError::invalid("name", format!("Use at most {MAX_SHARE_NAME_CHARS} characters.")));
    }
    if let Some(bad) = name.chars().find(|c| c.is_control() || "\"/\\[]:|<>+=;,*?".contains(*c)) {
        return Err(AppError::invalid("name", format!("'{bad}' is not allowed in a share name.")));
    }
    if RESERVED_SHARES.iter().any(|r| same_name(r, name)) {
        return Err(AppError::invalid("name", format!("'{name}' is reserved by the server.")));
    }
    Ok(name)
}

/// A share's directory must be an absolute path to an existing directory.
pub fn check_share_path(path: &str) -> AppResult<PathBuf> {
    let path = Path::new(path.trim());
    if !path.is_absolute() {
        return Err(AppError::invalid("path", "Give an absolute path, such as /srv/shares/sales."));
    }
    if path.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
        return Err(AppError::invalid("path", "The path cannot contain '..'."));
    }
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Ok(path.to_owned()),
        Ok(_) => Err(AppError::invalid("path", format!("{} is not a directory.", path.display()))),
        Err(_) => Err(AppError::invalid("path", format!("{} does not exist.", path.display()))),
    }
}

/// A share may neither contain the server's data directory (its database, keys and console
/// certificate) nor lie inside it: clients would reach the server's secrets, or write into its
/// state. The directory is the database's, as SQLite reports it.
pub(super) async fn check_apart_from_data(db: &SqlitePool, path: &Path) -> AppResult<()> {
    let rows: Vec<(i64, String, String)> = sqlx::query_as("PRAGMA database_list").fetch_all(db).await?;
    let Some(file) = rows.into_iter().find(|(_, name, _)| name == "main").map(|(_, _, file)| file) else {
        return Ok(());
    };
    let Some(data) = Path::new(&file).parent().and_then(|dir| dir.canonicalize().ok()) else { return Ok(()) };
    let share = path.canonicalize().unwrap_or_else(|_| path.to_owned());
    if data.starts_with(&share) || share.starts_with(&data) {
        return Err(AppError::invalid(
            "path",
            format!(
                "{} overlaps the server's data directory ({}); choose a directory apart from it.",
                path.display(),
                data.display()
            ),
        ));
    }
    Ok(())
}

/// Stores a share's permission entries (in the caller's transaction).
pub(super) async fn write_permissions(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    share_id: i64,
    permissions: &[(String, Access)],
) -> AppResult<()> {
    for (principal, access) in permissions {
        sqlx::query(
            "INSERT INTO share_permissions (share_id, principal, principal_key, access) VALUES (?, ?, ?, ?)
             ON CONFLICT (share_id, principal_key) DO UPDATE SET principal = excluded.principal, access = excluded.access",
        )
        .bind(share_id)
        .bind(principal)
        .bind(fold_name(principal))
        .bind(access.as_str())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

/// Binds a share's stored columns, in the order both the INSERT and the UPDATE name them:
/// name, name_key, path, description, encrypt_data, access_based_enumeration, max_users,
/// continuous_availability.
fn bind_columns<'q>(query: Query<'q>, name: &'q str, path: &Path, share: &'q ShareConfig) -> Query<'q> {
    query
        .bind(name)
        .bind(fold_name(name))
        .bind(path.display().to_string())
        .bind(&share.description)
        .bind(share.encrypt_data)
        .bind(share.access_based_enumeration)
        .bind(share.max_users.map(i64::from))
        .bind(share.continuous_availability)
}

pub async fn add_share(db: &SqlitePool, share: &ShareConfig) -> AppResult<()> {
    let name = check_share_name(&share.name)?;
    let path = check_share_path(&share.path.display().to_string())?;
    check_apart_from_data(db, &path).await?;
    let mut tx = db.begin().await?;
    let insert = sqlx::query(
        "INSERT INTO shares (name, name_key, path, description, encrypt_data, access_based_enumeration, max_users,
         continuous_availability, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    let added = bind_columns(insert, name, &path, share).bind(now()).execute(&mut *tx).await;
    let id = match added {
        Err(e) if unique_violation(&e) => {
            return Err(taken("share", "name", name, stored_name(&mut *tx, "shares", name).await));
        }
        other => other?.last_insert_rowid(),
    };
    write_permissions(&mut tx, id, &share.permissions).await?;
    tx.commit().await?;
    bump_version(db).await
}

pub async fn remove_share(db: &SqlitePool, name: &str) -> AppResult<String> {
    let canonical: String = sqlx::query_scalar("SELECT name FROM shares WHERE name_key = ?")
        .bind(fold_name(name.trim()))
        .fetch_optional(db)
        .await?
        .ok_or_else(|| no_share(name))?;
    sqlx::query("DELETE FROM shares WHERE name_key = ?").bind(fold_name(&canonical)).execute(db).await?;
    bump_version(db).await?;
    Ok(canonical)
}

pub(super) fn no_share(name: &str) -> AppError {
    AppError::NotFound(format!("There is no share named '{}'.", name.trim()))
}

/// The share named `name` (any case), as stored.
pub async fn find_share(db: &SqlitePool, name: &str) -> AppResult<ShareConfig> {
    list_shares(db)
        .await?
        .into_iter()
        .map(|share| share.config)
        .find(|share| same_name(&share.name, name.trim()))
        .ok_or_else(|| no_share(name))
}

/// Changes the share now named `current` to `share` (name, directory, options and the whole
/// permission list) in one transaction that also bumps the configuration version, so the engine
/// never sees half of a change. With `expected`, the change is made only if the share is still
/// as expected (otherwise [`AppError::Conflict`]). Returns the share as it was.
pub async fn update_share(
    db: &SqlitePool,
    current: &str,
    share: &ShareConfig,
    expected: Option<&ShareConfig>,
) -> AppResult<ShareConfig> {
    let name = check_share_name(&share.name)?;
    let path = check_share_path(&share.path.display().to_string())?;
    check_apart_from_data(db, &path).await?;
    // IMMEDIATE: take the write lock first, so that reading the old state cannot race a writer.
    let mut tx = db.begin_with("BEGIN IMMEDIATE").await?;
    let row: ShareRow = sqlx::query_as(
        "SELECT id, name, path, description, encrypt_data, access_based_enumeration, max_users,
         continuous_availability, created_at
         FROM shares WHERE name_key = ?",
    )
    .bind(fold_name(current.trim()))
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| no_share(current))?;
    let permissions: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT share_id, principal, access FROM share_permissions WHERE share_id = ? ORDER BY principal COLLATE NOCASE",
    )
    .bind(row.id)
    .fetch_all(&mut *tx)
    .await?;
    let id = row.id;
    let previous = row.into_share(&permissions).config;
    if expected.is_some_and(|expected| *expected != previous) {
        return Err(AppError::Conflict(format!("The share '{}' changed meanwhile.", previous.name)));
    }
    let update = sqlx::query(
        "UPDATE shares SET name = ?, name_key = ?, path = ?, description = ?, encrypt_data = ?,
         access_based_enumeration = ?, max_users = ?, continuous_availability = ? WHERE id = ?",
    );
    let updated = bind_columns(update, name, &path, share).bind(id).execute(&mut *tx).await;
    match updated {
        Err(e) if unique_violation(&e) => {
            return Err(taken("share", "name", name, stored_name(&mut *tx, "shares", name).await));
        }
        other => other?,
    };
    sqlx::query("DELETE FROM share_permissions WHERE share_id = ?").bind(id).execute(&mut *tx).await?;
    write_permissions(&mut tx, id, &share.permissions).await?;
    sqlx::query("UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'config_version'")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(previous)
}

/// Checks a permission list for a share: each entry names Everyone, an existing SMB user, a
/// domain user or group whose SID is recorded (`CORP\\Sales`), a SID (`S-1-5-21-...`) or a
/// Kerberos principal of a configured realm (`bob@EXAMPLE.COM`), each returned as stored; at most
/// once each, and at least one entry is given.
pub async fn check_permissions(db: &SqlitePool, entries: &[(String, Access)]) -> AppResult<Vec<(String, Access)>> {
    use crate::backend::kerberos;
    if entries.is_empty() {
        return Err(AppError::invalid(
            "permissions",
            "Add at least one permission: a share without any admits no one.",
        ));
    }
    let users: Vec<String> = sqlx::query_scalar("SELECT name FROM smb_users").fetch_all(db).await?;
    let domain_names = kerberos::list_domain_names(db).await?;
    let realms = kerberos::list_realms(db).await?;
    let mut checked: Vec<(String, Access)> = Vec::with_capacity(entries.len());
    for (principal, access) in entries {
        let principal = principal.trim();
        let refuse = |message: String| AppError::invalid("permissions", message);
        let name = if same_name(principal, smb_core::EVERYONE) {
            smb_core::EVERYONE.to_owned()
        } else if let Some(user) = users.iter().find(|u| same_name(u, principal)) {
            user.clone()
        } else if let Some((name, _)) = domain_names.iter().find(|(name, _)| same_name(name, principal)) {
            name.clone()
        } else if principal.contains('\\') {
            return Err(refuse(format!(
                "'{principal}' is not a recorded domain user or group: record its SID first (Identity page, or edgeshare kerberos name add)."
            )));
        } else if principal.get(..4).is_some_and(|prefix| prefix.eq_ignore_ascii_case("S-1-")) {
            kerberos::check_sid(principal).map_err(|e| refuse(e.to_string()))?
        } else if principal.contains('@') {
            let name = kerberos::check_principal(principal).map_err(|e| refuse(e.to_string()))?;
            let realm = name.rsplit_once('@').map_or("", |(_, realm)| realm);
            if !realms.iter().any(|r| r.name == realm) {
                return Err(refuse(format!("'{principal}' is in the realm {realm}, which is not configured.")));
            }
            name
        } else {
            return Err(refuse(format!("There is no SMB user named '{principal}'.")));
        };
        if checked.iter().any(|(n, _)| same_name(n, &name)) {
            return Err(AppError::invalid("permissions", format!("'{name}' is listed twice.")));
        }
        checked.push((name, *access));
    }
    Ok(checked)
}

#[derive(sqlx::FromRow)]
pub(super) struct ShareRow {
    id: i64,
    name: String,
    path: String,
    description: String,
    encrypt_data: bool,
    access_based_enumeration: bool,
    max_users: Option<i64>,
    continuous_availability: bool,
    created_at: i64,
}

pub async fn list_shares(db: &SqlitePool) -> AppResult<Vec<Share>> {
    let rows: Vec<ShareRow> = sqlx::query_as(
        "SELECT id, name, path, description, encrypt_data, access_based_enumeration, max_users,
         continuous_availability, created_at
         FROM shares ORDER BY name COLLATE NOCASE",
    )
    .fetch_all(db)
    .await?;
    let permissions: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT share_id, principal, access FROM share_permissions ORDER BY principal COLLATE NOCASE")
            .fetch_all(db)
            .await?;
    Ok(rows.into_iter().map(|row| row.into_share(&permissions)).collect())
}

impl ShareRow {
    /// The share of this row, with its entries from `permissions` (share id, principal, access).
    fn into_share(self, permissions: &[(i64, String, String)]) -> Share {
        let ShareRow {
            id,
            name,
            path,
            description,
            encrypt_data,
            access_based_enumeration,
            max_users,
            continuous_availability,
            created_at,
        } = self;
        Share {
            config: ShareConfig {
                name,
                path: path.into(),
                description,
                permissions: permissions
                    .iter()
                    .filter(|(share, _, _)| *share == id)
                    .filter_map(|(_, principal, access)| Some((principal.clone(), Access::parse(access)?)))
                    .collect(),
                encrypt_data,
                access_based_enumeration,
                max_users: max_users.map(|m| m.clamp(0, i64::from(u32::MAX)) as u32),
                continuous_availability,
            },
            created_at,
        }
    }
}
