//! The setup wizard's last step: everything it gathered is checked first, then applied (first
//! user, first share with Full access for that user, server names mapped, SMB over QUIC on), so a
//! refusal leaves the configuration as it was.

use std::net::{IpAddr, SocketAddr};

use smb_core::{Access, ShareConfig};

use crate::backend::certs::{self, CheckStatus, Mapping};
use crate::backend::{now, quic, smb};
use crate::error::{AppError, AppResult};
use crate::model::audit::Action;
use crate::model::setup::{SetupRequest, SetupSummary};
use crate::service::{Actor, Control};

/// The same error under the wizard's name for the field.
fn as_field(error: AppError, field: &str) -> AppError {
    match error {
        AppError::Invalid { message, .. } => AppError::Invalid { field: field.into(), message },
        other => other,
    }
}

pub async fn apply(control: &Control, actor: &Actor, request: &SetupRequest) -> AppResult<SetupSummary> {
    let db = &control.db;
    // The certificate and the names.
    let cert =
        certs::get(db, &certs::normalize_thumbprint(&request.thumbprint).map_err(|e| as_field(e, "certificate"))?)
            .await?
            .ok_or_else(|| AppError::invalid("certificate", "Choose or create a certificate first."))?;
    if let Some(failed) = cert.checks(now()).into_iter().find(|c| c.status == CheckStatus::Fail) {
        return Err(AppError::invalid(
            "certificate",
            format!("This certificate cannot serve SMB over QUIC: {}: {}.", failed.name, failed.detail),
        ));
    }
    let names: Vec<String> =
        crate::model::certs::split_names(&request.names).iter().map(|n| n.to_ascii_lowercase()).collect();
    if names.is_empty() {
        return Err(AppError::invalid("names", "Choose at least one name clients will use."));
    }
    if let Some(name) = names.iter().find(|n| !cert.info.covers(n) || n.starts_with("*.")) {
        return Err(AppError::invalid("names", format!("{name} is not a name of this certificate.")));
    }
    // Where to listen.
    let ip: IpAddr =
        request.address.trim().parse().map_err(|_| {
            AppError::invalid("address", "Give an IP address to listen on, such as :: (all addresses).")
        })?;
    let port: u16 = request
        .port
        .trim()
        .parse()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| AppError::invalid("port", "Give a UDP port from 1 to 65535 (clients use 443)."))?;
    let listen = SocketAddr::new(ip, port);
    if let Some(engine) = control.engine()
        && let Some(error) = quic::port_taken(engine, listen)
    {
        return Err(AppError::invalid("port", format!("UDP {listen} cannot be used: {error}. Choose another port.")));
    }
    // The first share and user.
    let share_name = smb::check_share_name(&request.share).map_err(|e| as_field(e, "share"))?.to_owned();
    let path = smb::check_share_path(&request.path)?;
    if smb::list_shares(db).await?.iter().any(|s| smb_core::same_name(&s.config.name, &share_name)) {
        return Err(AppError::invalid("share", format!("A share named '{share_name}' already exists.")));
    }
    let user = smb::check_user_name(&request.user).map_err(|e| as_field(e, "user"))?.to_owned();
    smb::check_smb_password(&request.password)?;
    if request.password != request.confirm {
        return Err(AppError::invalid("confirm", "The two passwords differ."));
    }
    if smb::list_users(db).await?.iter().any(|u| smb_core::same_name(&u.name, &user)) {
        return Err(AppError::invalid("user", format!("A user named '{user}' already exists: choose another name.")));
    }

    // Everything checked: apply.
    let user = smb::add_user(db, &user, &request.password).await?;
    smb::add_share(
        db,
        &ShareConfig {
            name: share_name.clone(),
            path: path.clone(),
            description: "Created by the setup wizard".into(),
            permissions: vec![(user.clone(), Access::Full)],
            encrypt_data: false,
            access_based_enumeration: false,
            max_users: None,
        },
    )
    .await?;
    for name in &names {
        let mapping = Mapping {
            name: name.clone(),
            thumbprint: cert.info.thumbprint.clone(),
            require_client_auth: false,
            skip_client_access_check: false,
            allow_named_pipes: false,
            is_default: false,
        };
        certs::map(db, &mapping).await?;
    }
    smb::change_setting(db, "quic_address", &ip.to_string()).await?;
    smb::change_setting(db, "quic_port", &port.to_string()).await?;
    smb::change_setting(db, "quic_enabled", "true").await?;
    control.apply().await?;
    let listening = listen.to_string();
    let detail = format!("names {}, share {share_name} for {user}, listening on UDP {listening}", names.join(", "));
    control.audit(actor.did(Action::QuicSetup, &names.join(", ")).detail(detail)).await;
    // What clients must trust: nothing when a public CA issued the certificate.
    let trust = cert.checks(now()).into_iter().find(|c| c.name == "Trust").filter(|c| c.status != CheckStatus::Pass);
    let trust_export = trust.map(|_| (cert.info.thumbprint.clone(), !cert.info.self_signed));
    Ok(SetupSummary {
        names,
        share: share_name,
        user,
        listening,
        port,
        thumbprint: cert.info.thumbprint.clone(),
        trust_export_ca: trust_export.as_ref().map(|(_, ca)| *ca),
    })
}
