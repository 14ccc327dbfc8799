//! Console accounts in the database. Passwords are kept only as argon2id hashes (PHC strings).

use sqlx::SqlitePool;

use crate::backend::{now, passwords, rfc3339};
use crate::error::{AppError, AppResult};
use crate::model::accounts::{AccountSummary, check_account_name};
use crate::model::auth::{Role, Viewer};

#[derive(Clone, Debug)]
pub struct Account {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// Unix seconds of the last password change; sessions from before it are void.
    pub password_changed_at: i64,
}

impl Account {
    pub fn viewer(&self) -> Viewer {
        Viewer { name: self.name.clone(), role: self.role }
    }
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: i64,
    name: String,
    role: String,
    password_changed_at: i64,
}

impl TryFrom<AccountRow> for Account {
    type Error = AppError;

    fn try_from(row: AccountRow) -> AppResult<Self> {
        Ok(Account {
            id: row.id,
            name: row.name,
            role: row.role.parse()?,
            password_changed_at: row.password_changed_at,
        })
    }
}

const SELECT_ACCOUNT: &str = "SELECT id, name, role, password_changed_at FROM console_accounts";

pub async fn any_exists(db: &SqlitePool) -> AppResult<bool> {
    Ok(sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM console_accounts)").fetch_one(db).await?)
}

pub async fn find_by_id(db: &SqlitePool, id: i64) -> AppResult<Option<Account>> {
    sqlx::query_as::<_, AccountRow>(&format!("{SELECT_ACCOUNT} WHERE id = ?"))
        .bind(id)
        .fetch_optional(db)
        .await?
        .map(Account::try_from)
        .transpose()
}

pub async fn find_by_name(db: &SqlitePool, name: &str) -> AppResult<Option<Account>> {
    sqlx::query_as::<_, AccountRow>(&format!("{SELECT_ACCOUNT} WHERE name = ?"))
        .bind(name.trim())
        .fetch_optional(db)
        .await?
        .map(Account::try_from)
        .transpose()
}

async fn require_by_name(db: &SqlitePool, name: &str) -> AppResult<Account> {
    find_by_name(db, name)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("There is no console account named '{}'.", name.trim())))
}

pub async fn list(db: &SqlitePool) -> AppResult<Vec<AccountSummary>> {
    let rows: Vec<(String, String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT name, role, created_at, last_sign_in_at FROM console_accounts ORDER BY name COLLATE NOCASE",
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|(name, role, created_at, last_sign_in_at)| {
            Ok(AccountSummary {
                name,
                role: role.parse()?,
                created_at: rfc3339(created_at),
                last_sign_in_at: last_sign_in_at.map(rfc3339),
            })
        })
        .collect()
}

pub async fn count_by_role(db: &SqlitePool) -> AppResult<(u64, u64)> {
    let (admins, readers): (i64, i64) = sqlx::query_as(
        "SELECT COALESCE(SUM(role = 'admin'), 0), COALESCE(SUM(role = 'reader'), 0) FROM console_accounts",
    )
    .fetch_one(db)
    .await?;
    Ok((admins as u64, readers as u64))
}

/// The account, when the name exists and the password is right. The caller holds the turn, so
/// that it can count the attempt between getting the turn and the check.
pub async fn verify(db: &SqlitePool, turn: passwords::Turn, name: &str, password: &str) -> AppResult<Option<Account>> {
    let row: Option<(i64, String)> = sqlx::query_as("SELECT id, password_hash FROM console_accounts WHERE name = ?")
        .bind(name.trim())
        .fetch_optional(db)
        .await?;
    let Some((id, hash)) = row else {
        passwords::matches(turn, None, password).await;
        return Ok(None);
    };
    if passwords::matches(turn, Some(hash), password).await { find_by_id(db, id).await } else { Ok(None) }
}

pub async fn touch_sign_in(db: &SqlitePool, id: i64) -> AppResult<()> {
    sqlx::query("UPDATE console_accounts SET last_sign_in_at = ? WHERE id = ?")
        .bind(now())
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

fn name_taken(name: &str) -> AppError {
    AppError::Invalid { field: "name".into(), message: format!("An account named '{name}' already exists.") }
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Creates an account. The password is assumed checked by the caller (the rule needs the
/// confirmation the caller holds).
pub async fn create(db: &SqlitePool, name: &str, role: Role, password: &str) -> AppResult<Account> {
    let name = check_account_name(name)?;
    let hash = passwords::hash(passwords::turn().await?, password).await?;
    let at = now();
    let id = sqlx::query(
        "INSERT INTO console_accounts (name, role, password_hash, created_at, password_changed_at)
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(name)
    .bind(role.as_str())
    .bind(&hash)
    .bind(at)
    .bind(at)
    .execute(db)
    .await
    .map_err(|e| if is_unique_violation(&e) { name_taken(name) } else { e.into() })?
    .last_insert_rowid();
    Ok(Account { id, name: name.to_owned(), role, password_changed_at: at })
}

/// One creation of the first administrator at a time.
static CREATING_FIRST_ADMIN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn administrator_exists() -> AppError {
    AppError::Conflict("An administrator already exists. Sign in, or ask an administrator for an account.".into())
}

/// Creates the first administrator. Whether one exists is checked before the password is hashed
/// (argon2 is the expensive part), one creation runs at a time (the others are refused at once
/// rather than each hashing a password that would then be refused), and the insert itself
/// re-checks in the same statement, so that `edgeshare admin add` racing a browser cannot make
/// two first administrators either.
pub async fn create_first_admin(db: &SqlitePool, name: &str, password: &str) -> AppResult<Account> {
    let name = check_account_name(name)?;
    let Ok(_creating) = CREATING_FIRST_ADMIN.try_lock() else {
        return Err(AppError::Conflict(
            "The first administrator is being created from another browser right now. Reload the page in a moment."
                .into(),
        ));
    };
    if any_exists(db).await? {
        return Err(administrator_exists());
    }
    let hash = passwords::hash(passwords::turn().await?, password).await?;
    let at = now();
    let done = sqlx::query(
        "INSERT INTO console_accounts (name, role, password_hash, created_at, password_changed_at)
         SELECT ?, 'admin', ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM console_accounts)",
    )
    .bind(name)
    .bind(&hash)
    .bind(at)
    .bind(at)
    .execute(db)
    .await?;
    if done.rows_affected() == 0 {
        return Err(administrator_exists());
    }
    Ok(Account { id: done.last_insert_rowid(), name: name.to_owned(), role: Role::Admin, password_changed_at: at })
}

/// Removes an account; the last administrator stays, so that the console never locks itself out.
pub async fn remove(db: &SqlitePool, name: &str) -> AppResult<Account> {
    let account = require_by_name(db, name).await?;
    let done = sqlx::query(
        "DELETE FROM console_accounts WHERE id = ?1
           AND (role <> 'admin' OR (SELECT COUNT(*) FROM console_accounts WHERE role = 'admin') > 1)",
    )
    .bind(account.id)
    .execute(db)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::Conflict(format!("'{}' is the last administrator and cannot be removed.", account.name)));
    }
    Ok(account)
}

/// Changes the role; returns the account and its previous role. The last administrator keeps
/// the role.
pub async fn set_role(db: &SqlitePool, name: &str, role: Role) -> AppResult<(Account, Role)> {
    let account = require_by_name(db, name).await?;
    let done = sqlx::query(
        "UPDATE console_accounts SET role = ?2 WHERE id = ?1
           AND (?2 = 'admin' OR role <> 'admin'
                OR (SELECT COUNT(*) FROM console_accounts WHERE role = 'admin') > 1)",
    )
    .bind(account.id)
    .bind(role.as_str())
    .execute(db)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::Conflict(format!("'{}' is the last administrator and must stay one.", account.name)));
    }
    let previous = account.role;
    Ok((Account { role, ..account }, previous))
}

/// Sets a new password; sessions signed in before the change end at their next request.
pub async fn set_password(db: &SqlitePool, name: &str, password: &str) -> AppResult<Account> {
    let account = require_by_name(db, name).await?;
    let hash = passwords::hash(passwords::turn().await?, password).await?;
    // Strictly later than the previous change, even within the same second, so that sessions
    // stamped with the old value are recognisably older.
    let changed_at = now().max(account.password_changed_at + 1);
    sqlx::query("UPDATE console_accounts SET password_hash = ?, password_changed_at = ? WHERE id = ?")
        .bind(&hash)
        .bind(changed_at)
        .bind(account.id)
        .execute(db)
        .await?;
    Ok(Account { password_changed_at: changed_at, ..account })
}
