//! Writing and reading the audit log.

use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use crate::backend::{now, rfc3339};
use crate::error::AppResult;
use crate::model::audit::{Action, AuditEvent, AuditFilter, AuditPage, Outcome, PAGE_SIZE};

/// One event to record. Built with [`Entry::success`] or [`Entry::failure`].
#[derive(Clone, Debug)]
pub struct Entry {
    pub actor: String,
    pub action: Action,
    pub target: String,
    pub outcome: Outcome,
    pub detail: String,
    pub source: String,
}

impl Entry {
    fn new(actor: &str, action: Action, target: &str, outcome: Outcome) -> Self {
        Entry {
            actor: actor.to_owned(),
            action,
            target: target.to_owned(),
            outcome,
            detail: String::new(),
            source: String::new(),
        }
    }

    pub fn success(actor: &str, action: Action, target: &str) -> Self {
        Self::new(actor, action, target, Outcome::Success)
    }

    pub fn failure(actor: &str, action: Action, target: &str) -> Self {
        Self::new(actor, action, target, Outcome::Failure)
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    /// Where the request came from (client address, or "command line").
    pub fn source(mut self, source: &str) -> Self {
        self.source = source.to_owned();
        self
    }
}

/// The longest text kept of one field: what a client sends (a user name, a server name) can
/// be far longer, and is cut with a mark rather than stored whole.
pub const MAX_FIELD_CHARS: usize = 512;

fn bounded(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(MAX_FIELD_CHARS) {
        Some((end, _)) => format!("{}... ({} characters)", &text[..end], text.chars().count()).into(),
        None => text.into(),
    }
}

/// Records an event. A failure to write the audit log is logged, never hidden, but does not undo
/// the action it describes: that action has already happened.
pub async fn record(db: &SqlitePool, entry: Entry) {
    let result = sqlx::query(
        "INSERT INTO audit_events (at, actor, action, target, outcome, detail, source)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(now())
    .bind(bounded(&entry.actor))
    .bind(entry.action.code())
    .bind(bounded(&entry.target))
    .bind(entry.outcome.as_str())
    .bind(bounded(&entry.detail))
    .bind(bounded(&entry.source))
    .execute(db)
    .await;
    if let Err(error) = result {
        tracing::error!(%error, action = %entry.action, actor = %bounded(&entry.actor), "could not write the audit log");
    }
}

/// Events older than this are removed from the audit log.
pub const RETENTION_DAYS: i64 = 180;
/// The audit log keeps at most this many events (the newest).
pub const MAX_EVENTS: i64 = 1_000_000;

/// Removes what the retention keeps no longer: events older than [`RETENTION_DAYS`], and the
/// oldest beyond [`MAX_EVENTS`]. Returns how many went.
pub async fn prune(db: &SqlitePool) -> AppResult<u64> {
    let old = sqlx::query("DELETE FROM audit_events WHERE at < ?")
        .bind(now() - RETENTION_DAYS * 86_400)
        .execute(db)
        .await?
        .rows_affected();
    let excess = sqlx::query(
        "DELETE FROM audit_events WHERE id <= (SELECT id FROM audit_events ORDER BY id DESC LIMIT 1 OFFSET ?)",
    )
    .bind(MAX_EVENTS)
    .execute(db)
    .await?
    .rows_affected();
    Ok(old + excess)
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    at: i64,
    actor: String,
    action: String,
    target: String,
    outcome: String,
    detail: String,
    source: String,
}

impl From<EventRow> for AuditEvent {
    fn from(row: EventRow) -> Self {
        AuditEvent {
            id: row.id,
            at: rfc3339(row.at),
            actor: row.actor,
            action: row.action,
            target: row.target,
            outcome: if row.outcome == "failure" { Outcome::Failure } else { Outcome::Success },
            detail: row.detail,
            source: row.source,
        }
    }
}

/// `LIKE` pattern matching `text` anywhere, with the wildcards in `text` taken literally.
fn contains_pattern(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

fn push_filter<'a>(query: &mut QueryBuilder<'a, Sqlite>, filter: &'a AuditFilter) {
    query.push(" WHERE 1 = 1");
    let action = filter.action.trim();
    if !action.is_empty() {
        if action.ends_with('.') {
            query.push(" AND substr(action, 1, length(").push_bind(action).push(")) = ").push_bind(action);
        } else {
            query.push(" AND action = ").push_bind(action);
        }
    }
    let actor = filter.actor.trim();
    if !actor.is_empty() {
        query.push(" AND actor LIKE ").push_bind(contains_pattern(actor)).push(" ESCAPE '\\'");
    }
    match filter.outcome.trim() {
        "success" => {
            query.push(" AND outcome = 'success'");
        }
        "failure" => {
            query.push(" AND outcome = 'failure'");
        }
        _ => {}
    }
    let text = filter.text.trim();
    if !text.is_empty() {
        let pattern = contains_pattern(text);
        query
            .push(" AND (target LIKE ")
            .push_bind(pattern.clone())
            .push(" ESCAPE '\\' OR detail LIKE ")
            .push_bind(pattern.clone())
            .push(" ESCAPE '\\' OR source LIKE ")
            .push_bind(pattern)
            .push(" ESCAPE '\\')");
    }
}

pub async fn list(db: &SqlitePool, filter: &AuditFilter, page: u32) -> AppResult<AuditPage> {
    let mut count = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM audit_events");
    push_filter(&mut count, filter);
    let total: i64 = count.build_query_scalar().fetch_one(db).await?;
    let page_count = (total as u64).div_ceil(u64::from(PAGE_SIZE)).max(1) as u32;
    let page = page.clamp(1, page_count);

    let mut select =
        QueryBuilder::<Sqlite>::new("SELECT id, at, actor, action, target, outcome, detail, source FROM audit_events");
    push_filter(&mut select, filter);
    select
        .push(" ORDER BY id DESC LIMIT ")
        .push_bind(i64::from(PAGE_SIZE))
        .push(" OFFSET ")
        .push_bind(i64::from((page - 1) * PAGE_SIZE));
    let events = select.build_query_as::<EventRow>().fetch_all(db).await?;
    Ok(AuditPage { events: events.into_iter().map(Into::into).collect(), page, page_count, total: total as u64 })
}

pub async fn recent(db: &SqlitePool, limit: u32) -> AppResult<Vec<AuditEvent>> {
    let rows = sqlx::query_as::<_, EventRow>(
        "SELECT id, at, actor, action, target, outcome, detail, source FROM audit_events ORDER BY id DESC LIMIT ?",
    )
    .bind(i64::from(limit))
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub async fn count_failures_since(db: &SqlitePool, action: Action, since: i64) -> AppResult<u64> {
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE action = ? AND outcome = 'failure' AND at >= ?")
            .bind(action.code())
            .bind(since)
            .fetch_one(db)
            .await?;
    Ok(count as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_take_wildcards_literally() {
        assert_eq!(contains_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
