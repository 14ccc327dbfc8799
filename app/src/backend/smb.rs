//! SMB users, shares and engine settings in the database, and the engine configuration built
//! from them. Every change bumps `config_version`, which a running server watches.

use std::path::{Path, PathBuf};
use std::time::Duration;

use smb_core::proto::negotiate::Dialect;
use smb_core::{
    Access, EngineConfig, Limits, LockoutPolicy, ServerSettings, ShareConfig, UserConfig, fold_name, same_name,
};
use sqlx::SqlitePool;

use crate::backend::now;
use crate::error::{AppError, AppResult};

pub const MIN_SMB_PASSWORD_CHARS: usize = 8;
/// Windows limits share names to 80 characters (MS-SRVS 2.2.4.x `shi*_netname`).
pub const MAX_SHARE_NAME_CHARS: usize = 80;
/// SAM account names: at most 20 characters.
pub const MAX_USER_NAME_CHARS: usize = 20;

/// Names that are the server's own: IPC$ and the administrative shares Windows clients expect.
const RESERVED_SHARES: &[&str] = &["IPC$", "ADMIN$", "PRINT$", "C$", "D$", "E$"];

pub async fn bump_version(db: &SqlitePool) -> AppResult<()> {
    sqlx::query("UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'config_version'")
        .execute(db)
        .await?;
    Ok(())
}

pub async fn config_version(db: &SqlitePool) -> AppResult<i64> {
    let value: String =
        sqlx::query_scalar("SELECT value FROM settings WHERE key = 'config_version'").fetch_one(db).await?;
    Ok(value.parse().unwrap_or(0))
}

pub async fn setting(db: &SqlitePool, key: &str) -> AppResult<Option<String>> {
    Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = ?").bind(key).fetch_optional(db).await?)
}

/// What a server setting holds, and so how its text is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettingKind {
    /// An SMB dialect: 2.0.2, 2.1, 3.0, 3.0.2 or 3.1.1.
    Dialect,
    /// `true` or `false`.
    Flag,
    /// A whole number in a range.
    Number { min: u64, max: u64 },
    /// A NetBIOS workgroup or domain name: 1-15 letters, digits, '-' or '_'.
    Workgroup,
    /// An IPv4 or IPv6 address.
    IpAddress,
}

/// One server setting an administrator may change (console and `edgeshare settings`).
#[derive(Clone, Copy, Debug)]
pub struct SettingSpec {
    pub key: &'static str,
    pub kind: SettingKind,
    pub default: &'static str,
    pub description: &'static str,
}

/// Every changeable server setting, with the value used when none is stored.
pub const SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        key: "smb_min_dialect",
        kind: SettingKind::Dialect,
        default: "3.0",
        description: "Oldest SMB dialect a client may negotiate.",
    },
    SettingSpec {
        key: "smb_max_dialect",
        kind: SettingKind::Dialect,
        default: "3.1.1",
        description: "Newest SMB dialect offered.",
    },
    SettingSpec {
        key: "smb_signing_required",
        kind: SettingKind::Flag,
        default: "true",
        description: "Refuse sessions that do not sign (encrypted sessions count as signed).",
    },
    SettingSpec {
        key: "smb_encryption_required",
        kind: SettingKind::Flag,
        default: "false",
        description: "Require SMB 3 encryption on every share; older clients are refused.",
    },
    SettingSpec {
        key: "quic_encrypt_smb",
        kind: SettingKind::Flag,
        default: "false",
        description: "Also encrypt SMB inside QUIC (TLS 1.3 already protects it).",
    },
    SettingSpec {
        key: "quic_enabled",
        kind: SettingKind::Flag,
        default: "false",
        description: "Serve SMB over QUIC (also: edgeshare quic enable / disable).",
    },
    SettingSpec {
        key: "quic_port",
        kind: SettingKind::Number { min: 0, max: 65_535 },
        default: "443",
        description: "UDP port of SMB over QUIC (443 is the standard; 0 picks a free one).",
    },
    SettingSpec {
        key: "quic_address",
        kind: SettingKind::IpAddress,
        default: "::",
        description: "Local address SMB over QUIC listens on (:: for every address).",
    },
    SettingSpec {
        key: "quic_idle_timeout_seconds",
        kind: SettingKind::Number { min: 5, max: 3_600 },
        default: "30",
        description: "A QUIC connection silent for this many seconds is closed.",
    },
    SettingSpec {
        key: "quic_keep_alive_seconds",
        kind: SettingKind::Number { min: 1, max: 600 },
        default: "10",
        description: "Interval of the server's QUIC keep-alives, in seconds.",
    },
    SettingSpec {
        key: "quic_auto_remap",
        kind: SettingKind::Flag,
        default: "true",
        description: "Move mappings to a renewed certificate covering their names when it is imported or issued.",
    },
    SettingSpec {
        key: "lockout_threshold",
        kind: SettingKind::Number { min: 0, max: 999 },
        default: "10",
        description: "Failed sign-ins that lock an account (0: never).",
    },
    SettingSpec {
        key: "lockout_window_seconds",
        kind: SettingKind::Number { min: 1, max: 86_400 },
        default: "600",
        description: "Failures older than this many seconds are forgotten.",
    },
    SettingSpec {
        key: "lockout_duration_seconds",
        kind: SettingKind::Number { min: 1, max: 864_000 },
        default: "600",
        description: "How long a locked account stays locked, in seconds.",
    },
    SettingSpec {
        key: "limit_connections",
        kind: SettingKind::Number { min: 1, max: 1_000_000 },
        default: "4096",
        description: "Connections at once, TCP and QUIC together; more are refused.",
    },
    SettingSpec {
        key: "limit_connections_per_client",
        kind: SettingKind::Number { min: 1, max: 1_000_000 },
        default: "256",
        description: "Connections at once from one client address (raise it for many users behind one NAT).",
    },
    SettingSpec {
        key: "limit_preauth_timeout_seconds",
        kind: SettingKind::Number { min: 1, max: 3_600 },
        default: "30",
        description: "A connection must sign in within this many seconds of opening, or it is closed.",
    },
    SettingSpec {
        key: "limit_idle_without_session_seconds",
        kind: SettingKind::Number { min: 1, max: 86_400 },
        default: "120",
        description: "A connection without a session, silent this many seconds, is closed.",
    },
    SettingSpec {
        key: "limit_preauth_message_kib",
        kind: SettingKind::Number { min: 16, max: 16_384 },
        default: "128",
        description: "Largest message before sign-in, in KiB (NEGOTIATE and SESSION_SETUP only).",
    },
    SettingSpec {
        key: "limit_sessions_per_connection",
        kind: SettingKind::Number { min: 1, max: 65_535 },
        default: "64",
        description: "Sessions on one connection.",
    },
    SettingSpec {
        key: "limit_sessions_in_progress",
        kind: SettingKind::Number { min: 1, max: 1_024 },
        default: "8",
        description: "Sessions still signing in on one connection.",
    },
    SettingSpec {
        key: "limit_opens_per_session",
        kind: SettingKind::Number { min: 16, max: 1_000_000 },
        default: "4096",
        description: "Open files and directories per session.",
    },
    SettingSpec {
        key: "limit_opens",
        kind: SettingKind::Number { min: 16, max: 10_000_000 },
        default: "65536",
        description: "Open files and directories in the whole server (also kept below the descriptor limit).",
    },
    SettingSpec {
        key: "limit_queued_response_mib",
        kind: SettingKind::Number { min: 1, max: 1_024 },
        default: "32",
        description: "Responses queued for a client that does not read, in MiB, before its requests wait.",
    },
    SettingSpec {
        key: "limit_queued_response_total_mib",
        kind: SettingKind::Number { min: 16, max: 65_536 },
        default: "256",
        description: "Responses queued for all connections together, in MiB; past half of it, clients that read nothing are dropped after 5 s.",
    },
    SettingSpec {
        key: "limit_send_timeout_seconds",
        kind: SettingKind::Number { min: 1, max: 3_600 },
        default: "60",
        description: "A client that reads none of its responses for this many seconds is dropped.",
    },
    SettingSpec {
        key: "limit_pending_per_connection",
        kind: SettingKind::Number { min: 1, max: 65_535 },
        default: "1024",
        description: "Requests of one connection waiting asynchronously (notifications, locks).",
    },
    SettingSpec {
        key: "limit_rpc_call_kib",
        kind: SettingKind::Number { min: 64, max: 65_536 },
        default: "1024",
        description: "Largest RPC call on a named pipe, in KiB.",
    },
    SettingSpec {
        key: "quic_handshakes_before_retry",
        kind: SettingKind::Number { min: 0, max: 1_000_000 },
        default: "64",
        description: "QUIC handshakes in progress before new clients must prove their address (Retry).",
    },
    SettingSpec {
        key: "workgroup",
        kind: SettingKind::Workgroup,
        default: "WORKGROUP",
        description: "Workgroup or domain name shown to clients.",
    },
];

/// The spec of a changeable setting.
pub fn setting_spec(key: &str) -> AppResult<&'static SettingSpec> {
    SETTINGS.iter().find(|spec| spec.key == key).ok_or_else(|| {
        let known: Vec<&str> = SETTINGS.iter().map(|spec| spec.key).collect();
        AppError::invalid("key", format!("Unknown setting '{key}'. Settings: {}.", known.join(", ")))
    })
}

/// Checks a value for `spec` and returns it in its stored form.
pub fn check_setting(spec: &SettingSpec, value: &str) -> AppResult<String> {
    let value = value.trim();
    let refuse = |message: String| Err(AppError::invalid("value", message));
    match spec.kind {
        SettingKind::Dialect => match Dialect::parse(value) {
            Some(dialect) => Ok(dialect.name()),
            None => refuse(format!("'{value}' is not a dialect: use 2.0.2, 2.1, 3.0, 3.0.2 or 3.1.1.")),
        },
        SettingKind::Flag => match value.to_ascii_lowercase().as_str() {
            "true" | "on" | "yes" => Ok("true".into()),
            "false" | "off" | "no" => Ok("false".into()),
            _ => refuse(format!("'{value}' is not true or false.")),
        },
        SettingKind::Number { min, max } => match value.parse::<u64>() {
            Ok(number) if (min..=max).contains(&number) => Ok(number.to_string()),
            _ => refuse(format!("Enter a whole number from {min} to {max}.")),
        },
        SettingKind::IpAddress => match value.parse::<std::net::IpAddr>() {
            Ok(ip) => Ok(ip.to_string()),
            Err(_) => refuse(format!("'{value}' is not an IP address (e.g. 0.0.0.0, ::, 192.0.2.10).")),
        },
        SettingKind::Workgroup => {
            let valid = (1..=15).contains(&value.len())
                && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if valid {
                Ok(value.to_ascii_uppercase())
            } else {
                refuse("Use 1 to 15 letters, digits, '-' or '_'.".into())
            }
        }
    }
}

/// The value in force for every changeable setting: stored, or the default.
pub async fn list_settings(db: &SqlitePool) -> AppResult<Vec<(&'static SettingSpec, String)>> {
    let mut values = Vec::with_capacity(SETTINGS.len());
    for spec in SETTINGS {
        let value = setting(db, spec.key).await?.unwrap_or_else(|| spec.default.to_owned());
        values.push((spec, value));
    }
    Ok(values)
}

/// Checks and stores one setting; a running server applies it within a second. Refuses a
/// minimum dialect above the maximum (or the reverse), leaving both as they were.
pub async fn change_setting(db: &SqlitePool, key: &str, value: &str) -> AppResult<String> {
    let spec = setting_spec(key)?;
    let value = check_setting(spec, value)?;
    if spec.kind == SettingKind::Dialect {
        let other_key = if key == "smb_min_dialect" { "smb_max_dialect" } else { "smb_min_dialect" };
        let other_spec = setting_spec(other_key)?;
        let other = setting(db, other_key).await?.unwrap_or_else(|| other_spec.default.to_owned());
        let (min, max) = if key == "smb_min_dialect" { (&value, &other) } else { (&other, &value) };
        if Dialect::parse(min) > Dialect::parse(max) {
            return Err(AppError::invalid(
                "value",
                format!("The minimum dialect ({min}) cannot be newer than the maximum ({max})."),
            ));
        }
    }
    set_setting(db, key, &value).await?;
    Ok(value)
}

pub async fn set_setting(db: &SqlitePool, key: &str, value: &str) -> AppResult<()> {
    sqlx::query("INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2")
        .bind(key)
        .bind(value)
        .execute(db)
        .await?;
    bump_version(db).await
}

/// The server's GUID (MS-SMB2 ServerGuid), made once and kept.
async fn server_guid(db: &SqlitePool) -> AppResult<[u8; 16]> {
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

fn decode_hex16(text: &str) -> Option<[u8; 16]> {
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
async fn limits(db: &SqlitePool) -> AppResult<Limits> {
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
    Ok(EngineConfig { server, users, shares, quic })
}

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

/// `name` is taken by `existing`, the same name or one differing only in case ([`fold_name`]).
fn taken(what: &str, field: &str, name: &str, existing: Option<String>) -> AppError {
    let message = match existing {
        Some(existing) if existing != name => {
            format!("A {what} named '{existing}' already exists: {what} names that differ only in case are one name.")
        }
        _ => format!("A {what} named '{name}' already exists."),
    };
    AppError::Invalid { field: field.into(), message }
}

/// The stored spelling of the user or share (`table`) whose name folds as `name` does.
async fn stored_name<'e>(db: impl sqlx::SqliteExecutor<'e>, table: &str, name: &str) -> Option<String> {
    let query = format!("SELECT name FROM {table} WHERE name_key = ?");
    sqlx::query_scalar(&query).bind(fold_name(name)).fetch_optional(db).await.ok().flatten()
}

fn unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
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

fn no_user(name: &str) -> AppError {
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

async fn canonical_user(db: &SqlitePool, name: &str) -> AppResult<String> {
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
async fn check_apart_from_data(db: &SqlitePool, path: &Path) -> AppResult<()> {
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
async fn write_permissions(
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

pub async fn add_share(db: &SqlitePool, share: &ShareConfig) -> AppResult<()> {
    let name = check_share_name(&share.name)?;
    let path = check_share_path(&share.path.display().to_string())?;
    check_apart_from_data(db, &path).await?;
    let mut tx = db.begin().await?;
    let added = sqlx::query(
        "INSERT INTO shares (name, name_key, path, description, encrypt_data, access_based_enumeration, max_users,
         created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(name)
    .bind(fold_name(name))
    .bind(path.display().to_string())
    .bind(&share.description)
    .bind(share.encrypt_data)
    .bind(share.access_based_enumeration)
    .bind(share.max_users.map(i64::from))
    .bind(now())
    .execute(&mut *tx)
    .await;
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

fn no_share(name: &str) -> AppError {
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
        "SELECT id, name, path, description, encrypt_data, access_based_enumeration, max_users, created_at
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
    let updated = sqlx::query(
        "UPDATE shares SET name = ?, name_key = ?, path = ?, description = ?, encrypt_data = ?,
         access_based_enumeration = ?, max_users = ? WHERE id = ?",
    )
    .bind(name)
    .bind(fold_name(name))
    .bind(path.display().to_string())
    .bind(&share.description)
    .bind(share.encrypt_data)
    .bind(share.access_based_enumeration)
    .bind(share.max_users.map(i64::from))
    .bind(id)
    .execute(&mut *tx)
    .await;
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

/// Checks a permission list for a share: each entry names Everyone or an existing SMB user
/// (returned as stored), at most once, and at least one entry is given.
pub async fn check_permissions(db: &SqlitePool, entries: &[(String, Access)]) -> AppResult<Vec<(String, Access)>> {
    if entries.is_empty() {
        return Err(AppError::invalid(
            "permissions",
            "Add at least one permission: a share without any admits no one.",
        ));
    }
    let users: Vec<String> = sqlx::query_scalar("SELECT name FROM smb_users").fetch_all(db).await?;
    let mut checked: Vec<(String, Access)> = Vec::with_capacity(entries.len());
    for (principal, access) in entries {
        let principal = principal.trim();
        let name =
            if same_name(principal, smb_core::EVERYONE) {
                smb_core::EVERYONE.to_owned()
            } else {
                users.iter().find(|u| same_name(u, principal)).cloned().ok_or_else(|| {
                    AppError::invalid("permissions", format!("There is no SMB user named '{principal}'."))
                })?
            };
        if checked.iter().any(|(n, _)| same_name(n, &name)) {
            return Err(AppError::invalid("permissions", format!("'{name}' is listed twice.")));
        }
        checked.push((name, *access));
    }
    Ok(checked)
}

/// An SMB user by name (any case), as stored.
pub async fn find_user(db: &SqlitePool, name: &str) -> AppResult<SmbUser> {
    list_users(db).await?.into_iter().find(|u| same_name(&u.name, name.trim())).ok_or_else(|| no_user(name))
}

#[derive(sqlx::FromRow)]
struct ShareRow {
    id: i64,
    name: String,
    path: String,
    description: String,
    encrypt_data: bool,
    access_based_enumeration: bool,
    max_users: Option<i64>,
    created_at: i64,
}

pub async fn list_shares(db: &SqlitePool) -> AppResult<Vec<Share>> {
    let rows: Vec<ShareRow> = sqlx::query_as(
        "SELECT id, name, path, description, encrypt_data, access_based_enumeration, max_users, created_at
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
        let ShareRow { id, name, path, description, encrypt_data, access_based_enumeration, max_users, created_at } =
            self;
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
            },
            created_at,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computer_names_follow_netbios_rules() {
        assert_eq!(computer_name("files.example.com"), "FILES");
        assert_eq!(computer_name("a-very-long-host-name-indeed"), "A-VERY-LONG-HOS");
        assert_eq!(computer_name("..."), "EDGESHARE");
    }

    #[test]
    fn share_names_refuse_reserved_names_and_characters() {
        assert!(check_share_name("Sales Team").is_ok());
        assert!(check_share_name("ipc$").is_err());
        assert!(check_share_name("a/b").is_err());
        assert!(check_share_name(&"x".repeat(81)).is_err());
        assert!(check_share_name(&"x".repeat(80)).is_ok());
    }

    #[test]
    fn user_names_follow_windows_rules() {
        assert!(check_user_name("alice").is_ok());
        assert!(check_user_name("al@ce").is_err());
        assert!(check_user_name("everyone").is_err());
        assert!(check_user_name(&"x".repeat(21)).is_err());
    }

    async fn database() -> SqlitePool {
        // One connection: every connection to `sqlite::memory:` would be a database of its own.
        let db = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect("sqlite::memory:").await.unwrap();
        sqlx::migrate!("../server/migrations").run(&db).await.unwrap();
        db
    }

    fn share(name: &str, path: &Path, permissions: &[(&str, Access)]) -> ShareConfig {
        ShareConfig {
            name: name.into(),
            path: path.to_owned(),
            description: String::new(),
            permissions: permissions.iter().map(|(p, a)| ((*p).to_owned(), *a)).collect(),
            encrypt_data: false,
            access_based_enumeration: false,
            max_users: None,
        }
    }

    #[tokio::test]
    async fn updating_a_share_replaces_its_options_and_permissions_and_bumps_the_version() {
        let db = database().await;
        let (old_dir, new_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        add_user(&db, "alice", "alice password").await.unwrap();
        add_share(&db, &share("sales", old_dir.path(), &[(smb_core::EVERYONE, Access::Read)])).await.unwrap();
        let version = config_version(&db).await.unwrap();

        let mut changed = share("Sales-EU", new_dir.path(), &[("alice", Access::Full)]);
        changed.description = "Sales in Europe".into();
        changed.encrypt_data = true;
        changed.access_based_enumeration = true;
        changed.max_users = Some(5);
        let previous = update_share(&db, "SALES", &changed, None).await.unwrap();

        assert_eq!(previous.name, "sales");
        assert_eq!(previous.permissions, vec![(smb_core::EVERYONE.to_owned(), Access::Read)]);
        let shares = list_shares(&db).await.unwrap();
        assert_eq!(shares.len(), 1);
        assert_eq!(shares[0].config, changed);
        assert_eq!(config_version(&db).await.unwrap(), version + 1);
    }

    #[tokio::test]
    async fn a_share_that_changed_since_it_was_read_is_not_overwritten() {
        let db = database().await;
        let dir = tempfile::tempdir().unwrap();
        add_share(&db, &share("sales", dir.path(), &[(smb_core::EVERYONE, Access::Read)])).await.unwrap();
        let read = find_share(&db, "SALES").await.unwrap();
        let mut meanwhile = read.clone();
        meanwhile.description = "changed by someone else".into();
        update_share(&db, "sales", &meanwhile, Some(&read)).await.unwrap();
        let version = config_version(&db).await.unwrap();

        let mut mine = read.clone();
        mine.encrypt_data = true;
        let error = update_share(&db, "sales", &mine, Some(&read)).await.unwrap_err();

        assert!(matches!(error, AppError::Conflict(_)), "{error:?}");
        assert_eq!(find_share(&db, "sales").await.unwrap(), meanwhile);
        assert_eq!(config_version(&db).await.unwrap(), version);
    }

    #[tokio::test]
    async fn a_share_renamed_to_an_existing_name_is_refused_and_left_unchanged() {
        let db = database().await;
        let dir = tempfile::tempdir().unwrap();
        add_share(&db, &share("sales", dir.path(), &[(smb_core::EVERYONE, Access::Read)])).await.unwrap();
        add_share(&db, &share("finance", dir.path(), &[(smb_core::EVERYONE, Access::Change)])).await.unwrap();
        let version = config_version(&db).await.unwrap();

        let mut renamed = share("FINANCE", dir.path(), &[(smb_core::EVERYONE, Access::Full)]);
        renamed.description = "must not stick".into();
        let error = update_share(&db, "sales", &renamed, None).await.unwrap_err();

        assert_eq!(
            error.for_field("name"),
            Some("A share named 'finance' already exists: share names that differ only in case are one name.")
        );
        let shares = list_shares(&db).await.unwrap();
        let sales = shares.iter().find(|s| s.config.name == "sales").unwrap();
        assert_eq!(sales.config.description, "");
        assert_eq!(sales.config.permissions, vec![(smb_core::EVERYONE.to_owned(), Access::Read)]);
        assert_eq!(config_version(&db).await.unwrap(), version);
    }

    #[tokio::test]
    async fn a_share_may_change_only_the_case_of_its_own_name() {
        let db = database().await;
        let dir = tempfile::tempdir().unwrap();
        add_share(&db, &share("sales", dir.path(), &[(smb_core::EVERYONE, Access::Read)])).await.unwrap();
        update_share(&db, "sales", &share("Sales", dir.path(), &[(smb_core::EVERYONE, Access::Read)]), None)
            .await
            .unwrap();
        assert_eq!(list_shares(&db).await.unwrap()[0].config.name, "Sales");
    }

    #[tokio::test]
    async fn updating_a_missing_share_is_refused_as_not_found() {
        let db = database().await;
        let dir = tempfile::tempdir().unwrap();
        let error = update_share(&db, "ghost", &share("ghost", dir.path(), &[]), None).await.unwrap_err();
        assert!(matches!(error, AppError::NotFound(_)), "{error:?}");
    }

    #[tokio::test]
    async fn an_update_to_a_reserved_name_or_missing_directory_is_refused_before_any_change() {
        let db = database().await;
        let dir = tempfile::tempdir().unwrap();
        add_share(&db, &share("sales", dir.path(), &[(smb_core::EVERYONE, Access::Read)])).await.unwrap();
        let reserved = update_share(&db, "sales", &share("IPC$", dir.path(), &[]), None).await.unwrap_err();
        assert!(reserved.for_field("name").is_some());
        let missing =
            update_share(&db, "sales", &share("sales", &dir.path().join("missing"), &[]), None).await.unwrap_err();
        assert!(missing.for_field("path").is_some());
        assert_eq!(list_shares(&db).await.unwrap()[0].config.path, dir.path());
    }

    #[tokio::test]
    async fn a_new_share_named_like_an_existing_one_in_another_case_is_a_duplicate() {
        let db = database().await;
        let dir = tempfile::tempdir().unwrap();
        add_share(&db, &share("sales", dir.path(), &[(smb_core::EVERYONE, Access::Read)])).await.unwrap();
        let error = add_share(&db, &share("SALES", dir.path(), &[])).await.unwrap_err();
        assert_eq!(
            error.for_field("name"),
            Some("A share named 'sales' already exists: share names that differ only in case are one name.")
        );
        add_share(&db, &share("Équipe", dir.path(), &[(smb_core::EVERYONE, Access::Read)])).await.unwrap();
        assert!(add_share(&db, &share("ÉQUIPE", dir.path(), &[])).await.is_err());
        assert!(check_share_name("ıpc$").is_err(), "a reserved name in another case is reserved");
    }

    #[tokio::test]
    async fn a_user_named_like_an_existing_one_in_another_non_ascii_case_is_refused() {
        let db = database().await;
        add_user(&db, "Émile", "emile password").await.unwrap();
        for other in ["émile", "ÉMILE"] {
            let error = add_user(&db, other, "another password").await.unwrap_err();
            assert_eq!(
                error.for_field("name"),
                Some("A user named 'Émile' already exists: user names that differ only in case are one name.")
            );
        }
        let error = add_user(&db, "Émile", "another password").await.unwrap_err();
        assert_eq!(error.for_field("name"), Some("A user named 'Émile' already exists."));
        assert_eq!(list_users(&db).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_user_is_changed_and_removed_under_any_case_of_its_name() {
        let db = database().await;
        let dir = tempfile::tempdir().unwrap();
        add_user(&db, "Émile", "emile password").await.unwrap();
        add_share(&db, &share("team", dir.path(), &[("ÉMILE", Access::Deny)])).await.unwrap();
        assert_eq!(set_user_password(&db, "ÉMILE", "new password").await.unwrap(), "Émile");
        assert_eq!(set_user_enabled(&db, "émile", false).await.unwrap(), "Émile");
        set_user_locked_until(&db, "ÉMILE", Some(now() + 60)).await.unwrap();
        assert!(find_user(&db, "émile").await.unwrap().locked_until.is_some());
        assert_eq!(remove_user(&db, "émile").await.unwrap(), "Émile");
        assert!(list_users(&db).await.unwrap().is_empty());
        assert!(list_shares(&db).await.unwrap()[0].config.permissions.is_empty(), "its permission went with it");
    }

    #[tokio::test]
    async fn names_stored_before_folding_are_refolded_and_clashes_reported() {
        let db = database().await;
        // As migration 0006 leaves rows stored before it: folded by lower(), ASCII only.
        for name in ["Émile", "émile", "ÉVA"] {
            sqlx::query(
                "INSERT INTO smb_users (name, name_key, nt_hash, created_at, password_changed_at)
                 VALUES (?1, lower(?1), zeroblob(16), 0, 0)",
            )
            .bind(name)
            .execute(&db)
            .await
            .unwrap();
        }
        let clashes = fold_stored_names(&db).await.unwrap();
        assert_eq!(clashes.len(), 1, "{clashes:?}");
        assert!(clashes[0].contains("'Émile' and 'émile'"), "{clashes:?}");
        assert!(add_user(&db, "éva", "eva password").await.is_err(), "ÉVA's name is folded now");
        assert!(fold_stored_names(&db).await.unwrap().len() == 1, "the clash stays until one is removed");
        remove_user(&db, "émile").await.unwrap();
        assert!(fold_stored_names(&db).await.unwrap().is_empty());
        assert_eq!(find_user(&db, "ÉMILE").await.unwrap().name, "Émile");
    }

    #[tokio::test]
    async fn permissions_name_existing_users_or_everyone_once_each() {
        let db = database().await;
        add_user(&db, "Alice", "alice password").await.unwrap();
        let checked = check_permissions(&db, &[("alice".into(), Access::Change), ("everyone".into(), Access::Read)])
            .await
            .unwrap();
        assert_eq!(checked, vec![("Alice".to_owned(), Access::Change), (smb_core::EVERYONE.to_owned(), Access::Read)]);

        for bad in [
            vec![],
            vec![("bob".to_owned(), Access::Read)],
            vec![("alice".to_owned(), Access::Read), ("ALICE".to_owned(), Access::Deny)],
        ] {
            let error = check_permissions(&db, &bad).await.unwrap_err();
            assert!(error.for_field("permissions").is_some(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn share_paths_must_be_absolute_existing_directories() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_share_path(&dir.path().display().to_string()).is_ok());
        assert!(check_share_path("relative/path").is_err());
        assert!(check_share_path(&format!("{}/missing", dir.path().display())).is_err());
        assert!(check_share_path(&format!("{}/../x", dir.path().display())).is_err());
    }
}
