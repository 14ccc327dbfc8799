//! Server settings: what each one is, its checks, and the stored values (with the configuration
//! version a running server watches).

use smb_core::proto::negotiate::Dialect;
use sqlx::SqlitePool;

use crate::error::{AppError, AppResult};

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
    /// One of a few words.
    Choice(&'static [&'static str]),
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
        key: "smb_multichannel",
        kind: SettingKind::Flag,
        default: "true",
        description: "Offer SMB 3 multichannel: a client's further connections (over TCP or QUIC) may join its \
                      session, and a session goes on when one of them is lost.",
    },
    SettingSpec {
        key: "durable_timeout_seconds",
        kind: SettingKind::Number { min: 1, max: 300 },
        default: "60",
        description: "How long a durable open waits for its client after a lost connection, when the client asks for \
                      no particular time (clients may ask for up to 300 seconds).",
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
        key: "limit_offences_per_minute",
        kind: SettingKind::Number { min: 0, max: 100_000 },
        default: "20",
        description: "Offences a client address may commit a minute (sign-in deadline missed, oversized frame before sign-in, responses left unread, too many unfinished sign-ins); past it, its new connections are refused until it calms down (0: never refused).",
    },
    SettingSpec {
        key: "quic_handshakes_before_retry",
        kind: SettingKind::Number { min: 0, max: 1_000_000 },
        default: "64",
        description: "QUIC handshakes in progress before new clients must prove their address (Retry).",
    },
    SettingSpec {
        key: "kdc_proxy_enabled",
        kind: SettingKind::Flag,
        default: "false",
        description: "Serve the KDC proxy (MS-KKDCP, HTTPS POST /KdcProxy) for the configured realms (also: edgeshare kdc-proxy enable / disable).",
    },
    SettingSpec {
        key: "kdc_proxy_port",
        kind: SettingKind::Number { min: 0, max: 65_535 },
        default: "443",
        description: "TCP port of the KDC proxy's HTTPS listener (443 is the standard; 0 picks a free one).",
    },
    SettingSpec {
        key: "kdc_proxy_address",
        kind: SettingKind::IpAddress,
        default: "::",
        description: "Local address the KDC proxy listens on (:: for every address).",
    },
    SettingSpec {
        key: "kdc_proxy_timeout_seconds",
        kind: SettingKind::Number { min: 1, max: 60 },
        default: "10",
        description: "How long the KDC proxy waits for the realm's KDCs to answer one request before it answers 503.",
    },
    SettingSpec {
        key: "ntlm_policy",
        kind: SettingKind::Choice(&["allow", "refuse"]),
        default: "allow",
        description: "NTLM sign-in: allow, or refuse (then only Kerberos signs in; needs a keytab). Also: edgeshare kerberos ntlm.",
    },
    SettingSpec {
        key: "kerberos_max_skew_seconds",
        kind: SettingKind::Number { min: 30, max: 3_600 },
        default: "300",
        description: "Largest difference between a Kerberos client's clock and the server's, in seconds.",
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
        SettingKind::Choice(words) => match words.iter().find(|word| word.eq_ignore_ascii_case(value)) {
            Some(word) => Ok((*word).to_owned()),
            None => refuse(format!("'{value}' is not one of: {}.", words.join(", "))),
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
