//! SMB over QUIC: on or off and where it listens, its options, server name mappings and client
//! access control per name.

use std::net::{IpAddr, SocketAddr};

use smb_core::ClientMatch;

use crate::backend::certs::{self, Mapping};
use crate::backend::{quic, smb};
use crate::error::{AppError, AppResult};
use crate::model::audit::Action;
use crate::service::{Actor, Control};

/// Turns SMB over QUIC on or off; `address` and `port`, when given, change where it listens.
/// Returns where it listens (or would).
pub async fn set(
    control: &Control,
    actor: &Actor,
    enabled: bool,
    address: Option<&str>,
    port: Option<&str>,
) -> AppResult<SocketAddr> {
    let current = certs::quic_address(&control.db).await?;
    let ip: IpAddr = match address {
        Some(text) => text.trim().parse().map_err(|_| {
            AppError::invalid("address", "Give an IP address to listen on, such as :: (all) or 192.0.2.10.")
        })?,
        None => current.ip(),
    };
    let port: u16 = match port {
        Some(text) => text
            .trim()
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| AppError::invalid("port", "Give a UDP port from 1 to 65535 (clients use 443)."))?,
        None => current.port(),
    };
    let wanted = SocketAddr::new(ip, port);
    // The console's process can tell whether it could listen there; the command line leaves
    // that to the running server, which reports it on its health page.
    if enabled
        && let Some(engine) = control.engine()
        && let Some(error) = quic::port_taken(engine, wanted)
    {
        return Err(AppError::invalid("port", format!("UDP {wanted} cannot be used: {error}. Choose another port.")));
    }
    smb::change_setting(&control.db, "quic_address", &ip.to_string()).await?;
    smb::change_setting(&control.db, "quic_port", &port.to_string()).await?;
    smb::change_setting(&control.db, "quic_enabled", &enabled.to_string()).await?;
    control.apply().await?;
    let action = if enabled { Action::QuicEnable } else { Action::QuicDisable };
    control.audit(actor.did(action, &wanted.to_string())).await;
    Ok(wanted)
}

/// Whether SMB over QUIC requires SMB encryption inside the tunnel, and whether mappings move to
/// a renewal of their certificate by themselves.
pub async fn set_options(control: &Control, actor: &Actor, encrypt_smb: bool, auto_remap: bool) -> AppResult<()> {
    smb::change_setting(&control.db, "quic_encrypt_smb", &encrypt_smb.to_string()).await?;
    smb::change_setting(&control.db, "quic_auto_remap", &auto_remap.to_string()).await?;
    control.apply().await?;
    let detail = format!("encrypt SMB over QUIC {encrypt_smb}, move mappings to renewals {auto_remap}");
    control.audit(actor.did(Action::SettingsChange, "SMB over QUIC options").detail(detail)).await;
    Ok(())
}

/// Maps a server name to a certificate, or changes its flags; returns the mapping as stored.
pub async fn map(control: &Control, actor: &Actor, mapping: &Mapping) -> AppResult<Mapping> {
    let stored = certs::map(&control.db, mapping).await?;
    control.apply().await?;
    let detail = format!("{}: {}", stored.thumbprint, describe_mapping(&stored));
    control.audit(actor.did(Action::QuicMappingSet, &stored.name).detail(detail)).await;
    Ok(stored)
}

/// Removes a server name's mapping; returns the name as it was stored.
pub async fn unmap(control: &Control, actor: &Actor, name: &str) -> AppResult<String> {
    let name = certs::unmap(&control.db, name).await?;
    control.apply().await?;
    control.audit(actor.did(Action::QuicMappingRemove, &name)).await;
    Ok(name)
}

/// Adds (`add`) or removes an allow (`allow`) or block entry of a name's client access list, by
/// certificate SHA-256 or by issuer (exactly one). Returns the name as stored and the entry.
pub async fn change_access(
    control: &Control,
    actor: &Actor,
    name: &str,
    allow: bool,
    add: bool,
    sha256: Option<&str>,
    issuer: Option<&str>,
) -> AppResult<(String, ClientMatch)> {
    let given = |text: Option<&str>| text.map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned);
    let matches = certs::client_match(given(sha256).as_deref(), given(issuer).as_deref())?;
    let name = certs::change_access(&control.db, name, &matches, allow, add).await?;
    control.apply().await?;
    let detail = format!("{} {}", if allow { "allow" } else { "block" }, describe_match(&matches));
    control.audit(actor.did(Action::quic_access(allow, add), &name).detail(detail)).await;
    Ok((name, matches))
}

/// A mapping's flags in words.
pub fn describe_mapping(mapping: &Mapping) -> String {
    let mut flags = Vec::new();
    if mapping.require_client_auth {
        flags.push("requires client certificates");
    }
    if mapping.skip_client_access_check {
        flags.push("skips the client access check");
    }
    flags.push(if mapping.allow_named_pipes { "named pipes allowed" } else { "named pipes blocked" });
    if mapping.is_default {
        flags.push("default for clients without a server name");
    }
    flags.join(", ")
}

/// An access entry's match in words.
pub fn describe_match(matches: &ClientMatch) -> String {
    match matches {
        ClientMatch::Sha256(hash) => format!("SHA-256 {hash}"),
        ClientMatch::Issuer(issuer) => format!("issuer '{issuer}'"),
    }
}
