//! Throttling of failed console sign-ins, per account name and per client address.
//!
//! The first [`FREE_FAILURES`] failures cost nothing; each further one blocks the key for twice as
//! long as the previous (15 s, 30 s, ... up to [`MAX_BLOCK`]). Failures are forgotten
//! [`FORGET_AFTER`] seconds after the last one, and a successful sign-in forgets them at once.
//! Kept in the database so that a restart does not reset an attack in progress.

use sqlx::SqlitePool;

use crate::backend::now;
use crate::error::AppResult;

pub const FREE_FAILURES: i64 = 5;
const FIRST_BLOCK: i64 = 15;
const MAX_BLOCK: i64 = 15 * 60;
const FORGET_AFTER: i64 = 60 * 60;

/// Seconds a key stays blocked after its `failures`-th failure.
pub fn block_seconds(failures: i64) -> i64 {
    if failures < FREE_FAILURES {
        return 0;
    }
    let doublings = (failures - FREE_FAILURES).min(16) as u32;
    (FIRST_BLOCK << doublings).min(MAX_BLOCK)
}

/// The keys a sign-in attempt counts against.
pub fn keys(name: &str, source: &str) -> [String; 2] {
    [format!("name:{}", name.trim().to_ascii_lowercase()), format!("address:{source}")]
}

/// Seconds until the first of `keys` is free again, when one is blocked now.
pub async fn blocked_for(db: &SqlitePool, keys: &[String]) -> AppResult<Option<u64>> {
    let now = now();
    let mut longest = 0;
    for key in keys {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT failures, last_failure_at FROM sign_in_throttle WHERE key = ?")
                .bind(key)
                .fetch_optional(db)
                .await?;
        if let Some((failures, last)) = row {
            longest = longest.max(last + block_seconds(failures) - now);
        }
    }
    Ok((longest > 0).then_some(longest as u64))
}

pub async fn record_failure(db: &SqlitePool, keys: &[String]) -> AppResult<()> {
    let now = now();
    for key in keys {
        sqlx::query(
            "INSERT INTO sign_in_throttle (key, failures, last_failure_at) VALUES (?1, 1, ?2)
             ON CONFLICT (key) DO UPDATE SET
               failures = CASE WHEN ?2 - last_failure_at > ?3 THEN 1 ELSE failures + 1 END,
               last_failure_at = ?2",
        )
        .bind(key)
        .bind(now)
        .bind(FORGET_AFTER)
        .execute(db)
        .await?;
    }
    sqlx::query("DELETE FROM sign_in_throttle WHERE last_failure_at < ?").bind(now - FORGET_AFTER).execute(db).await?;
    Ok(())
}

pub async fn clear(db: &SqlitePool, keys: &[String]) -> AppResult<()> {
    for key in keys {
        sqlx::query("DELETE FROM sign_in_throttle WHERE key = ?").bind(key).execute(db).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_failures_are_free_then_blocks_double_up_to_the_cap() {
        assert_eq!(block_seconds(FREE_FAILURES - 1), 0);
        assert_eq!(block_seconds(FREE_FAILURES), 15);
        assert_eq!(block_seconds(FREE_FAILURES + 1), 30);
        assert_eq!(block_seconds(FREE_FAILURES + 20), MAX_BLOCK);
    }

    #[test]
    fn names_are_throttled_without_regard_to_case() {
        assert_eq!(keys(" Alice ", "10.0.0.1")[0], keys("alice", "10.0.0.2")[0]);
    }
}
