//! `edgeshare cert ...` and `edgeshare quic ...`: the certificate store and SMB over QUIC from the
//! command line. A running server applies every change within a second, without a restart.

use std::path::Path;

use anyhow::Context;
use app::backend::certs::{self, Added, CheckStatus, Mapping, StoredCert};
use app::backend::rfc3339;
use app::error::AppError;
use app::service::{self, Actor, Control, quic};

use crate::admin::current_uid;
use crate::config::{AccessCommand, CertCommand, QuicCommand};

fn plain(error: AppError) -> anyhow::Error {
    anyhow::Error::msg(error.to_string())
}

/// Prints what adding a certificate did, including mappings moved to it.
fn report_added(added: &Added) {
    let info = &added.info;
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
    let control = Control::command_line(db.clone());
    let actor = Actor::CommandLine { uid: current_uid() };
    let at = app::backend::now();
    let result = async {
        match command {
            CertCommand::Import { pem, key, pfx, password_stdin: _ } => {
                let read = |path: &Path| {
                    std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))
                };
                let added = match (pem, key, pfx) {
                    (Some(pem), key, None) => {
                        let chain = String::from_utf8_lossy(&read(&pem)?).into_owned();
                        let key = match key {
                            Some(key) => {
                                Some(zeroize::Zeroizing::new(String::from_utf8_lossy(&read(&key)?).into_owned()))
                            }
                            None => None,
                        };
                        service::certs::import_pem(&control, &actor, &chain, key.as_deref().map(String::as_str)).await
                    }
                    (None, None, Some(pfx)) => {
                        let data = read(&pfx)?;
                        let password = zeroize::Zeroizing::new(crate::admin::read_password()?);
                        service::certs::import_pfx(&control, &actor, &data, &password).await
                    }
                    _ => anyhow::bail!(
                        "give --pem (with --key for a certificate of this server), or --pfx with --password-stdin"
                    ),
                };
                report_added(&added.map_err(plain)?);
            }
            CertCommand::Generate { dns, ca, key } => {
                let added =
                    service::certs::generate(&control, &actor, &dns, ca.as_deref(), &key).await.map_err(plain)?;
                report_added(&added);
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
                let thumbprint = service::certs::remove(&control, &actor, &thumbprint).await.map_err(plain)?;
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
    let control = Control::command_line(db.clone());
    let actor = Actor::CommandLine { uid: current_uid() };
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
                let mapping = Mapping {
                    name,
                    thumbprint,
                    require_client_auth: require_client_authentication,
                    skip_client_access_check: skip_client_certificate_access_check,
                    allow_named_pipes,
                    is_default: default,
                };
                let mapping = quic::map(&control, &actor, &mapping).await.map_err(plain)?;
                println!("{} -> {} ({})", mapping.name, mapping.thumbprint, quic::describe_mapping(&mapping));
            }
            QuicCommand::Unmap { name } => {
                let name = quic::unmap(&control, &actor, &name).await.map_err(plain)?;
                println!("unmapped {name}");
            }
            QuicCommand::Enable { port, address } => {
                let (port, address) = (port.map(|p| p.to_string()), address.map(|a| a.to_string()));
                let listening =
                    quic::set(&control, &actor, true, address.as_deref(), port.as_deref()).await.map_err(plain)?;
                println!("SMB over QUIC enabled on UDP {listening}");
                if certs::list_mappings(&db).await.map_err(plain)?.is_empty() {
                    println!("No server name is mapped yet: clients are refused until `edgeshare quic map`.");
                }
            }
            QuicCommand::Disable => {
                quic::set(&control, &actor, false, None, None).await.map_err(plain)?;
                println!("SMB over QUIC disabled");
            }
            QuicCommand::Access(command) => access(&control, &actor, command).await?,
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
                    println!(
                        "{:<30} {}  {}  [{}]",
                        mapping.name,
                        mapping.thumbprint,
                        health,
                        quic::describe_mapping(&mapping)
                    );
                }
            }
        }
        anyhow::Ok(())
    }
    .await;
    db.close().await;
    result
}

async fn access(control: &Control, actor: &Actor, command: AccessCommand) -> anyhow::Result<()> {
    let (args, allow, add) = match command {
        AccessCommand::Grant(args) => (args, true, true),
        AccessCommand::Block(args) => (args, false, true),
        AccessCommand::Revoke(args) => (args, true, false),
        AccessCommand::Unblock(args) => (args, false, false),
        AccessCommand::List => {
            for entry in certs::list_access(&control.db).await.map_err(plain)? {
                let verb = if entry.entry.allow { "allow" } else { "block" };
                println!("{:<30} {verb} {}", entry.name, quic::describe_match(&entry.entry.matches));
            }
            return Ok(());
        }
    };
    let (name, matches) =
        quic::change_access(control, actor, &args.name, allow, add, args.sha256.as_deref(), args.issuer.as_deref())
            .await
            .map_err(plain)?;
    let verb = if allow { "allow" } else { "block" };
    println!("{name}: {} {verb} {}", if add { "added" } else { "removed" }, quic::describe_match(&matches));
    Ok(())
}
