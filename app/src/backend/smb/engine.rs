//! The engine's configuration, built from everything stored: settings, users, shares and SMB over
//! QUIC.

use std::time::Duration;

use smb_core::proto::negotiate::Dialect;
use smb_core::{EngineConfig, Limits, LockoutPolicy, ServerSettings, UserConfig, fold_name};
use sqlx::SqlitePool;

use super::*;
use crate::backend::now;
use crate::error::AppResult;

/// The server's GUID (MS-SMB2 ServerGuid), made once and kept.
pub(super) async fn server_guid(db: &SqlitePool) -> AppResult<[u8; 16]> {
    if let Some(hex) = setting(db, "server_guid").await?
        && let Some(guid) = decode_hex16(&hex)
    {
        return Ok(guid);
    }
    let guid: [u8; 16] = rand::random();
    let hex: String = guid.iter().map(|b| format!("{b:02x}")).collect();
    sqlx::query("INSERT OR IGNORE INTO settings (key, value) VALUES ('server_guid', ?)").bind(&hex).execute(db).await?;
    Ok(guid)
}

pub(super) fn decode_hex16(text: &str) -> Option<[u8; 16]> {
    let bytes: Vec<u8> = (0..text.len())
        .step_by(2)
        .map(|i| text.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect::<Option<_>>()?;
    bytes.try_into().ok()
}

/// NetBIOS-style computer name: letters, digits and '-', at most 15 characters, upper case.
pub fn computer_name(server_name: &str) -> String {
    let host = server_name.split('.').next().unwrap_or(server_name);
    let name: String = host.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(15).collect();
    if name.is_empty() { "EDGESHARE".into() } else { name.to_uppercase() }
}

/// The resource budget as stored (see [`SETTINGS`]: the `limit_` settings).
pub(super) async fn limits(db: &SqlitePool) -> AppResult<Limits> {
    let defaults = Limits::default();
    let number = |key: &'static str, default: u64| async move {
        AppResult::Ok(setting(db, key).await?.and_then(|v| v.parse::<u64>().ok()).unwrap_or(default))
    };
    let count = |value: u64| u32::try_from(value).unwrap_or(u32::MAX);
    let seconds = Duration::from_secs;
    Ok(Limits {
        max_connections: count(number("limit_connections", defaults.max_connections.into()).await?),
        max_connections_per_client: count(
            number("limit_connections_per_client", defaults.max_connections_per_client.into()).await?,
        ),
        preauth_timeout: seconds(number("limit_preauth_timeout_seconds", defaults.preauth_timeout.as_secs()).await?),
        idle_without_session: seconds(
            number("limit_idle_without_session_seconds", defaults.idle_without_session.as_secs()).await?,
        ),
        preauth_max_message: count(
            number("limit_preauth_message_kib", u64::from(defaults.preauth_max_message >> 10)).await? << 10,
        ),
        max_sessions_per_connection: count(
            number("limit_sessions_per_connection", defaults.max_sessions_per_connection.into()).await?,
        ),
        max_sessions_in_progress: count(
            number("limit_sessions_in_progress", defaults.max_sessions_in_progress.into()).await?,
        ),
        max_opens_per_session: count(number("limit_opens_per_session", defaults.max_opens_per_session.into()).await?),
        max_opens: count(number("limit_opens", defaults.max_opens.into()).await?),
        max_queued_response_bytes: count(
            number("limit_queued_response_mib", u64::from(defaults.max_queued_response_bytes >> 20)).await? << 20,
        ),
        max_queued_response_bytes_total: count(
            number("limit_queued_response_total_mib", u64::from(defaults.max_queued_response_bytes_total >> 20))
                .await?
                << 20,
        ),
        send_timeout: seconds(number("limit_send_timeout_seconds", defaults.send_timeout.as_secs()).await?),
        max_pending_per_connection: count(
            number("limit_pending_per_connection", defaults.max_pending_per_connection.into()).await?,
        ),
        max_rpc_call: count(number("limit_rpc_call_kib", u64::from(defaults.max_rpc_call >> 10)).await? << 10),
        quic_handshakes_before_retry: count(
            number("quic_handshakes_before_retry", defaults.quic_handshakes_before_retry.into()).await?,
        ),
        offences_per_minute: count(number("limit_offences_per_minute", defaults.offences_per_minute.into()).await?),
    })
}

/// The engine's configuration as the database holds it.
pub async fn engine_config(db: &SqlitePool, server_name: &str) -> AppResult<EngineConfig> {
    let get = |key: &'static str| async move { setting(db, key).await };
    let defaults = ServerSettings::default();
    let dialect = |value: Option<String>, default: Dialect| value.and_then(|v| Dialect::parse(&v)).unwrap_or(default);
    let flag = |value: Option<String>, default: bool| value.map_or(default, |v| v == "true");
    let number = |value: Option<String>, default: u64| value.and_then(|v| v.parse().ok()).unwrap_or(default);
    let server = ServerSettings {
        computer_name: computer_name(server_name),
        workgroup: get("workgroup").await?.unwrap_or_else(|| "WORKGROUP".into()),
        dns_name: server_name.to_owned(),
        server_guid: server_guid(db).await?,
        min_dialect: dialect(get("smb_min_dialect").await?, defaults.min_dialect),
        max_dialect: dialect(get("smb_max_dialect").await?, defaults.max_dialect),
        signing_required: flag(get("smb_signing_required").await?, defaults.signing_required),
        encryption_required: flag(get("smb_encryption_required").await?, defaults.encryption_required),
        lockout: LockoutPolicy {
            threshold: number(get("lockout_threshold").await?, u64::from(defaults.lockout.threshold)) as u32,
            window: Duration::from_secs(number(
                get("lockout_window_seconds").await?,
                defaults.lockout.window.as_secs(),
            )),
            duration: Duration::from_secs(number(
                get("lockout_duration_seconds").await?,
                defaults.lockout.duration.as_secs(),
            )),
        },
        skip_encryption_on_secure_transport: !flag(get("quic_encrypt_smb").await?, false),
        multichannel: flag(get("smb_multichannel").await?, defaults.multichannel),
        durable_timeout: Duration::from_secs(number(
            get("durable_timeout_seconds").await?,
            defaults.durable_timeout.as_secs(),
        )),
        limits: limits(db).await?,
        ..defaults
    };
    let users = sqlx::query_as::<_, (String, Vec<u8>, bool, Option<i64>)>(
        "SELECT name, nt_hash, enabled, locked_until FROM smb_users",
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .filter_map(|(name, hash, enabled, locked_until)| {
        Some(UserConfig {
            name,
            nt_hash: hash.try_into().ok()?,
            enabled,
            locked_until: locked_until.filter(|t| *t > now()),
        })
    })
    .collect();
    let shares = list_shares(db).await?.into_iter().map(|s| s.config).collect();
    let quic = crate::backend::certs::quic_settings(db).await?;
    let kerberos = crate::backend::kerberos::kerberos_settings(db).await?;
    Ok(EngineConfig { server, users, shares, quic, kerberos })
}

/// Refolds every stored name whose folded form ([`fold_name`]) is out of date: the names
/// migration 0006 could only lower() (which folds ASCII alone), or names folded by an earlier
/// Unicode version. Names that fold alike, stored before the migration, cannot both take their
/// form: one keeps its old one, and a message for the log says what that means. Run at every
/// start.
pub async fn fold_stored_names(db: &SqlitePool) -> AppResult<Vec<String>> {
    // Table, name column, key column, where two rows clash (`?1` the key), and what a clash means.
    let tables = [
        ("smb_users", "name", "name_key", "AND rowid != ?2", "SMB users", "neither can sign in until one is removed"),
        ("shares", "name", "name_key", "AND rowid != ?2", "shares", "neither is served until one is removed"),
        (
            "share_permissions",
            "principal",
            "principal_key",
            "AND share_id = (SELECT share_id FROM share_permissions WHERE rowid = ?2)",
            "permission entries of one share",
            "both apply, a deny first; save the share's permissions again to keep one",
        ),
    ];
    let mut clashes = Vec::new();
    for (table, column, key, scope, what, meaning) in tables {
        let rows: Vec<(i64, String, String)> =
            sqlx::query_as(&format!("SELECT rowid, {column}, {key} FROM {table}")).fetch_all(db).await?;
        for (rowid, name, stored) in rows {
            let folded = fold_name(&name);
            if folded == stored {
                continue;
            }
            let refolded = sqlx::query(&format!("UPDATE {table} SET {key} = ?1 WHERE rowid = ?2"))
                .bind(&folded)
                .bind(rowid)
                .execute(db)
                .await;
            match refolded {
                Err(e) if unique_violation(&e) => {
                    let other: Option<String> =
                        sqlx::query_scalar(&format!("SELECT {column} FROM {table} WHERE {key} = ?1 {scope}"))
                            .bind(&folded)
                            .bind(rowid)
                            .fetch_optional(db)
                            .await?;
                    let other = other.unwrap_or_default();
                    clashes.push(format!("the {what} '{name}' and '{other}' differ only in case: {meaning}"));
                }
                other => {
                    other?;
                }
            }
        }
    }
    Ok(clashes)
}
