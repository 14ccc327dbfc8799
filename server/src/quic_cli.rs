//! `edgeshare cert ...` and `edgeshare quic ...`: the certificate store and SMB over QUIC from the
//! command line. A running server applies every change within a second, without a restart.

use std::path::Path;

use anyhow::Context;
use app::backend::certs::{self, Added, CheckStatus, KeyKind, Mapping, StoredCert};
use app::backend::{audit, rfc3339, smb};
use app::error::AppError;
use app::model::audit::Action;
use sqlx::SqlitePool;

use crate::admin::current_uid;
use crate::config::{AccessCommand, CertCommand, QuicCommand};

const ACTOR: &str = "command line";

fn plain(error: AppError) -> anyhow::Error {
    anyhow::Error::msg(error.to_string())
}

fn source() -> String {
    format!("command line (uid {})", current_uid())
}

async fn record(db: &SqlitePool, action: Action, target: &str, detail: String) {
    let source = source();
    audit::record(db, audit::Entry::success(ACTOR, action, target).detail(detail).source(&source)).await;
}

/// Prints and audits what adding a certificate did, including mappings moved to it.
async fn report_added(db: &SqlitePool, action: Action, added: &Added) {
    let info = &added.info;
    added.audit(db, ACTOR, &source(), action).await;
    println!("{}  {}", info.thumbprint, info.subject);
    println!("  SHA-256   {}", info.sha256);
    println!("  names     {}", info.dns_names.join(", "));
    println!("  valid     {} to {}", rfc3339(info.not_before), rfc3339(info.not_after));
    for remap in &added.remapped {
        println!("  mapping {} moved from {} to this certificate", remap.name, remap.from);
    }
}

fn print_cert(cert: &StoredCert, at: i64) {
    let info = &cert.info;
    println!("Thumbprint (SHA-1)  {}", info.thumbprint);
    println!("SHA-256             {}", info.sha256);
    println!("Subject             {}", info.subject);
    println!("Issuer              {}", info.issuer);
    println!("Serial              {}", info.serial);
    println!("Valid               {} to {}", rfc3339(info.not_before), rfc3339(info.not_after));
    println!("DNS names           {}", info.dns_names.join(", "));
    println!("Key                 {}", info.key);
    println!("Signature           {}", info.signature);
    println!("Origin              {}{}", cert.origin, if info.is_ca { " (certificate authority)" } else { "" });
    println!(
        "Mapped names        {}",
        if cert.mapped_names.is_empty() { "-".into() } else { cert.mapped_names.join(", ") }
    );
    println!();
    for check in cert.checks(at) {
        println!("[{:<7}] {:<26} {}", check.status.as_str(), check.name, check.detail);
        if let Some(fix) = check.fix {
            println!("          {:<26} {fix}", "");
        }
    }
}

pub async fn certs(data_dir: &Path, command: CertCommand) -> anyhow::Result<()> {
    let (db, _) = crate::db::open(data_dir).await?;
    let at = app::backend::now();
    let result = async {
        match command {
            CertCommand::Import { pem, key, pfx, password_stdin: _ } => {
                let read = |path: &Path| {
                    std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))
                };
                let added = match (pem, key, pfx) {
                    (Some(pem), None, _) => certs::import_ca(&db, &String::from_utf8_lossy(&read(&pem)?)).await,
                    (Some(pem), Some(key), _) => {
                        let chain = String::from_utf8_lossy(&read(&pem)?).into_owned();
                        let key = zeroize::Zeroizing::new(String::from_utf8_lossy(&read(&key)?).into_owned());
                        certs::import_pem(&db, &chain, &key).await
                    }
                    (_, _, Some(pfx)) => {
                        let data = read(&pfx)?;
                        let password = zeroize::Zeroizing::new(crate::admin::read_password()?);
                        certs::import_pfx(&db, &data, &password).await
                    }
                    _ => anyhow::bail!("give --pem and --key, or --pfx with --password-stdin"),
                };
                report_added(&db, Action::CertImport, &added.map_err(plain)?).await;
            }
            CertCommand::Generate { dns, ca, key } => {
                let kind = KeyKind::parse(&key).map_err(plain)?;
                let added = certs::generate(&db, &dns, ca.as_deref(), kind).await.map_err(plain)?;
                report_added(&db, Action::CertGenerate, &added).await;
            }
            CertCommand::List => {
                for cert in certs::list(&db).await.map_err(plain)? {
                    let state = if cert.usable(at) {
                        "usable"
                    } else if cert.info.is_ca {
                        "CA"
                    } else {
                        "fails checks"
                    };
                    let names = if cert.info.dns_names.is_empty() {
                        cert.info.subject.clone()
                    } else {
                        cert.info.dns_names.join(",")
                    };
                    println!(
                        "{}  {:<12} until {}  {names}{}",
                        cert.info.thumbprint,
                        state,
                        rfc3339(cert.info.not_after),
                        if cert.mapped_names.is_empty() {
                            String::new()
                        } else {
                            format!("  (mapped: {})", cert.mapped_names.join(", "))
                        }
                    );
                }
            }
            CertCommand::Show { thumbprint } => {
                let thumbprint = certs::normalize_thumbprint(&thumbprint).map_err(plain)?;
                let cert = certs::get(&db, &thumbprint)
                    .await
                    .map_err(plain)?
                    .ok_or_else(|| anyhow::anyhow!("no certificate {thumbprint} in the store"))?;
                print_cert(&cert, at);
            }
            CertCommand::Export { thumbprint, out, ca } => {
                let der =
                    out.extension().is_some_and(|e| e.eq_ignore_ascii_case("der") || e.eq_ignore_ascii_case("cer"));
                let bytes = certs::export(&db, &thumbprint, ca, der).await.map_err(plain)?;
                std::fs::write(&out, bytes).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
                println!("wrote {} ({})", out.display(), if der { "DER" } else { "PEM" });
            }
            CertCommand::Remove { thumbprint } => {
                let thumbprint = certs::remove(&db, &thumbprint).await.map_err(plain)?;
                record(&db, Action::CertRemove, &thumbprint, String::new()).await;
                println!("removed {thumbprint}");
            }
        }
        anyhow::Ok(())
    }
    .await;
    db.close().await;
    result
}

pub async fn quic(data_dir: &Path, command: QuicCommand) -> anyhow::Result<()> {
    if let QuicCommand::Bridge { listen, connect, name, ca } = command {
        let target = crate::quic_bridge::Target::new(connect, &name, &ca)?;
        let listener =
            tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
        println!("bridging TCP {} to QUIC {connect} as {name}", listener.local_addr()?);
        tokio::select! {
            _ = crate::quic_bridge::run(listener, target) => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        return Ok(());
    }
    let (db, _) = crate::db::open(data_dir).await?;
    let result = async {
        match command {
            QuicCommand::Map {
                name,
                thumbprint,
                require_client_authentication,
                skip_client_certificate_access_check,
                allow_named_pipes,
                default,
            } => {
                let mapping = certs::map(
                    &db,
                    &Mapping {
                        name,
                        thumbprint,
                        require_client_auth: require_client_authentication,
                        skip_client_access_check: skip_client_certificate_access_check,
                        allow_named_pipes,
                        is_default: default,
                    },
                )
                .await
                .map_err(plain)?;
                record(&db, Action::QuicMappingSet, &mapping.name, describe(&mapping)).await;
                println!("{} -> {} ({})", mapping.name, mapping.thumbprint, describe(&mapping));
            }
            QuicCommand::Unmap { name } => {
                let name = certs::unmap(&db, &name).await.map_err(plain)?;
                record(&db, Action::QuicMappingRemove, &name, String::new()).await;
                println!("unmapped {name}");
            }
            QuicCommand::Enable { port, address } => {
                if let Some(port) = port {
                    smb::change_setting(&db, "quic_port", &port.to_string()).await.map_err(plain)?;
                }
                if let Some(address) = address {
                    smb::change_setting(&db, "quic_address", &address.to_string()).await.map_err(plain)?;
                }
                smb::change_setting(&db, "quic_enabled", "true").await.map_err(plain)?;
                let settings = certs::quic_settings(&db).await.map_err(plain)?;
                record(&db, Action::QuicEnable, &settings.address.to_string(), String::new()).await;
                println!("SMB over QUIC enabled on UDP {}", settings.address);
                if settings.mappings.is_empty() {
                    println!("No server name is mapped yet: clients are refused until `edgeshare quic map`.");
                }
            }
            QuicCommand::Disable => {
                smb::change_setting(&db, "quic_enabled", "false").await.map_err(plain)?;
                record(&db, Action::QuicDisable, "-", String::new()).await;
                println!("SMB over QUIC disabled");
            }
            QuicCommand::Access(command) => access(&db, command).await?,
            QuicCommand::Bridge { .. } => anyhow::bail!("the bridge is started before the database opens"),
            QuicCommand::Status => {
                let settings = certs::quic_settings(&db).await.map_err(plain)?;
                let state = if settings.enabled { "enabled" } else { "disabled" };
                println!("SMB over QUIC: {state}, UDP {}", settings.address);
                println!(
                    "idle timeout {} s, keep-alive {} s",
                    settings.idle_timeout.as_secs(),
                    settings.keep_alive.as_secs()
                );
                let at = app::backend::now();
                let mappings = certs::list_mappings(&db).await.map_err(plain)?;
                if mappings.is_empty() {
                    println!("no server names mapped");
                }
                for mapping in mappings {
                    let cert = certs::get(&db, &mapping.thumbprint).await.map_err(plain)?;
                    let health = match &cert {
                        None => "certificate missing".to_owned(),
                        Some(cert) => {
                            let checks = cert.checks(at);
                            let failed = checks.iter().filter(|c| c.status == CheckStatus::Fail).count();
                            let warned = checks.iter().filter(|c| c.status == CheckStatus::Warning).count();
                            format!("until {}, {failed} failed, {warned} warnings", rfc3339(cert.info.not_after))
                        }
                    };
                    println!("{:<30} {}  {}  [{}]", mapping.name, mapping.thumbprint, health, describe(&mapping));
                }
            }
        }
        anyhow::Ok(())
    }
    .await;
    db.close().await;
    result
}

/// A mapping's flags in words.
fn describe(mapping: &Mapping) -> String {
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

async fn access(db: &SqlitePool, command: AccessCommand) -> anyhow::Result<()> {
    let (args, allow, add, action) = match command {
        AccessCommand::Grant(args) => (args, true, true, Action::QuicAccessGrant),
        AccessCommand::Block(args) => (args, false, true, Action::QuicAccessBlock),
        AccessCommand::Revoke(args) => (args, true, false, Action::QuicAccessRevoke),
        AccessCommand::Unblock(args) => (args, false, false, Action::QuicAccessUnblock),
        AccessCommand::List => {
            for entry in certs::list_access(db).await.map_err(plain)? {
                let verb = if entry.entry.allow { "allow" } else { "block" };
                println!("{:<30} {verb} {}", entry.name, describe_match(&entry.entry.matches));
            }
            return Ok(());
        }
    };
    let matches = certs::client_match(args.sha256.as_deref(), args.issuer.as_deref()).map_err(plain)?;
    let name = certs::change_access(db, &args.name, &matches, allow, add).await.map_err(plain)?;
    let entry = format!("{} {}", if allow { "allow" } else { "block" }, describe_match(&matches));
    record(db, action, &name, entry.clone()).await;
    println!("{name}: {} {entry}", if add { "added" } else { "removed" });
    Ok(())
}

fn describe_match(matches: &smb_core::ClientMatch) -> String {
    match matches {
        smb_core::ClientMatch::Sha256(hash) => format!("SHA-256 {hash}"),
        smb_core::ClientMatch::Issuer(issuer) => format!("issuer '{issuer}'"),
    }
}
