//! Helpers shared by users and shares: unique names as stored.

use smb_core::fold_name;

use crate::error::AppError;

/// `name` is taken by `existing`, the same name or one differing only in case ([`fold_name`]).
pub(super) fn taken(what: &str, field: &str, name: &str, existing: Option<String>) -> AppError {
    let message = match existing {
        Some(existing) if existing != name => {
            format!("A {what} named '{existing}' already exists: {what} names that differ only in case are one name.")
        }
        _ => format!("A {what} named '{name}' already exists."),
    };
    AppError::Invalid { field: field.into(), message }
}

/// The stored spelling of the user or share (`table`) whose name folds as `name` does.
pub(super) async fn stored_name<'e>(db: impl sqlx::SqliteExecutor<'e>, table: &str, name: &str) -> Option<String> {
    let query = format!("SELECT name FROM {table} WHERE name_key = ?");
    sqlx::query_scalar(&query).bind(fold_name(name)).fetch_optional(db).await.ok().flatten()
}

pub(super) fn unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}
