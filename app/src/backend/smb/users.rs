//! Local SMB users: names, NT hashes, enabled and lockout state.

use smb_core::{fold_name, same_name};
use sqlx::SqlitePool;

use super::*;
use crate::backend::now;
use crate::error::{AppError, AppResult};

pub const MIN_SMB_PASSWORD_CHARS: usize = 8;

/// SAM account names: at most 20 characters.
pub const MAX_USER_NAME_CHARS: usize = 20;

/// An SMB user as the console and command line show it (never with its hash).
#[derive(Clone, Debug)]
pub struct SmbUser {
    pub name: String,
    pub enabled: bool,
    pub locked_until: Option<i64>,
    pub created_at: i64,
    pub password_changed_at: i64,
}

pub fn check_user_name(name: &str) -> AppResult<&str> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::invalid("name", "Enter a user name."));
    }
    if name.chars().count() > MAX_USER_NAME_CHARS {
        return Err(AppError::invalid("name", format!("Use at most {MAX_USER_NAME_CHARS} characters.")));
    }
    // Windows forbids these in account names (and '@' would read as a UPN).
    if let Some(bad) = name.chars().find(|c| c.is_control() || "\"/\\[]:;|=,+*?<>@%".contains(*c)) {
        return Err(AppError::invalid("name", format!("'{bad}' is not allowed in a user name.")));
    }
    if name.ends_with('.') {
        return Err(AppError::invalid("name", "A user name cannot end with a dot."));
    }
    if same_name(name, smb_core::EVERYONE) {
        return Err(AppError::invalid("name", "'Everyone' names all users; choose another name."));
    }
    Ok(name)
}

pub fn check_smb_password(password: &str) -> AppResult<()> {
    if password.chars().count() < MIN_SMB_PASSWORD_CHARS {
        return Err(AppError::invalid("password", format!("Use at least {MIN_SMB_PASSWORD_CHARS} characters.")));
    }
    if password.len() > 256 {
        return Err(AppError::invalid("password", "Use at most 256 bytes."));
    }
    Ok(())
}

pub async fn add_user(db: &SqlitePool, name: &str, password: &str) -> AppResult<String> {
    let name = check_user_name(name)?;
    check_smb_password(password)?;
    let hash = smb_core::auth::ntlm::nt_hash(password);
    let at = now();
    let added = sqlx::query(
        "INSERT INTO smb_users (name, name_key, nt_hash, created_at, password_changed_at) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(name)
    .bind(fold_name(name))
    .bind(&hash[..])
    .bind(at)
    .bind(at)
    .execute(db)
    .await;
    match added {
        Err(e) if unique_violation(&e) => {
            return Err(taken("user", "name", name, stored_name(db, "smb_users", name).await));
        }
        other => other?,
    };
    bump_version(db).await?;
    Ok(name.to_owned())
}

pub(super) fn no_user(name: &str) -> AppError {
    AppError::NotFound(format!("There is no SMB user named '{}'.", name.trim()))
}

pub async fn set_user_password(db: &SqlitePool, name: &str, password: &str) -> AppResult<String> {
    check_smb_password(password)?;
    let hash = smb_core::auth::ntlm::nt_hash(password);
    let done = sqlx::query("UPDATE smb_users SET nt_hash = ?, password_changed_at = ? WHERE name_key = ?")
        .bind(&hash[..])
        .bind(now())
        .bind(fold_name(name.trim()))
        .execute(db)
        .await?;
    if done.rows_affected() == 0 {
        return Err(no_user(name));
    }
    bump_version(db).await?;
    canonical_user(db, name).await
}

pub(super) async fn canonical_user(db: &SqlitePool, name: &str) -> AppResult<String> {
    sqlx::query_scalar("SELECT name FROM smb_users WHERE name_key = ?")
        .bind(fold_name(name.trim()))
        .fetch_optional(db)
        .await?
        .ok_or_else(|| no_user(name))
}

pub async fn remove_user(db: &SqlitePool, name: &str) -> AppResult<String> {
    let canonical = canonical_user(db, name).await?;
    sqlx::query("DELETE FROM smb_users WHERE name_key = ?").bind(fold_name(&canonical)).execute(db).await?;
    sqlx::query("DELETE FROM share_permissions WHERE principal_key = ?")
        .bind(fold_name(&canonical))
        .execute(db)
        .await?;
    bump_version(db).await?;
    Ok(canonical)
}

pub async fn set_user_enabled(db: &SqlitePool, name: &str, enabled: bool) -> AppResult<String> {
    let canonical = canonical_user(db, name).await?;
    sqlx::query("UPDATE smb_users SET enabled = ? WHERE name_key = ?")
        .bind(enabled)
        .bind(fold_name(&canonical))
        .execute(db)
        .await?;
    bump_version(db).await?;
    Ok(canonical)
}

/// Records (or clears, with `None`) a lockout; the engine's own lockout is told separately.
pub async fn set_user_locked_until(db: &SqlitePool, name: &str, until: Option<i64>) -> AppResult<()> {
    sqlx::query("UPDATE smb_users SET locked_until = ? WHERE name_key = ?")
        .bind(until)
        .bind(fold_name(name.trim()))
        .execute(db)
        .await?;
    bump_version(db).await
}

pub async fn list_users(db: &SqlitePool) -> AppResult<Vec<SmbUser>> {
    let rows: Vec<(String, bool, Option<i64>, i64, i64)> = sqlx::query_as(
        "SELECT name, enabled, locked_until, created_at, password_changed_at FROM smb_users ORDER BY name COLLATE NOCASE",
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(name, enabled, locked_until, created_at, password_changed_at)| SmbUser {
            name,
            enabled,
            locked_until: locked_until.filter(|t| *t > now()),
            created_at,
            password_changed_at,
        })
        .collect())
}

/// An SMB user by name (any case), as stored.
pub async fn find_user(db: &SqlitePool, name: &str) -> AppResult<SmbUser> {
    list_users(db).await?.into_iter().find(|u| same_name(&u.name, name.trim())).ok_or_else(|| no_user(name))
}
