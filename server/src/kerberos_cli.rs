//! `edgeshare kerberos ...`: realms, keytabs, principal mappings, domain names and the NTLM
//! policy from the command line, through the same service functions as the Identity page. A
//! running server picks the changes up within a second.

use std::path::Path;

use app::error::AppError;
use app::service::kerberos;
use app::service::{Actor, Control};

use crate::admin::current_uid;
use crate::config::{KdcProxyCommand, KerberosCommand, KeytabCommand, MapCommand, NameCommand, RealmCommand};

fn plain(error: AppError) -> anyhow::Error {
    anyhow::Error::msg(error.to_string())
}

pub async fn run(data_dir: &Path, command: KerberosCommand) -> anyhow::Result<()> {
    let (db, _) = crate::db::open(data_dir).await?;
    let control = Control::command_line(db.clone());
    let actor = Actor::CommandLine { uid: current_uid() };
    let result = execute(&control, &actor, command).await;
    db.close().await;
    result
}

async fn execute(control: &Control, actor: &Actor, command: KerberosCommand) -> anyhow::Result<()> {
    match command {
        KerberosCommand::Realm(RealmCommand::Add { realm, kdcs }) => {
            let realm = kerberos::set_realm(control, actor, &realm, &kdcs).await.map_err(plain)?;
            println!("realm {}: KDCs {}", realm.name, realm.kdcs.join(", "));
        }
        KerberosCommand::Realm(RealmCommand::Remove { realm }) => {
            let realm = kerberos::remove_realm(control, actor, &realm).await.map_err(plain)?;
            println!("removed realm {realm}");
        }
        KerberosCommand::Realm(RealmCommand::List) => {
            for realm in kerberos::status(control).await.map_err(plain)?.realms {
                println!("{:<30} {}", realm.name, realm.kdcs.join(", "));
            }
        }
        KerberosCommand::Keytab(KeytabCommand::Import { file }) => {
            let bytes = std::fs::read(&file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let source = file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into());
            let imported = kerberos::import_keytab(control, actor, &bytes, &source).await.map_err(plain)?;
            println!(
                "imported {} key(s) ({} new, {} replaced) for {}",
                imported.added + imported.replaced,
                imported.added,
                imported.replaced,
                imported.principals.join(", ")
            );
            for skipped in imported.skipped {
                println!("skipped (encryption type not supported): {skipped}");
            }
        }
        KerberosCommand::Keytab(KeytabCommand::List) => {
            for key in kerberos::status(control).await.map_err(plain)?.keys {
                println!(
                    "{:<50} kvno {:<4} {:<28} {} ({})",
                    key.principal, key.kvno, key.enctype, key.imported_at, key.source
                );
            }
        }
        KerberosCommand::Keytab(KeytabCommand::Remove { principal, kvno }) => {
            let removed = kerberos::remove_keys(control, actor, &principal, kvno).await.map_err(plain)?;
            println!("removed {removed} key(s) of {principal}");
        }
        KerberosCommand::Map(MapCommand::Add { principal, user }) => {
            let mapping = kerberos::map_principal(control, actor, &principal, &user).await.map_err(plain)?;
            println!("{} signs in as {}", mapping.principal, mapping.user);
        }
        KerberosCommand::Map(MapCommand::Remove { principal }) => {
            let principal = kerberos::unmap_principal(control, actor, &principal).await.map_err(plain)?;
            println!("{principal} signs in as itself again");
        }
        KerberosCommand::Map(MapCommand::List) => {
            for mapping in kerberos::status(control).await.map_err(plain)?.mappings {
                println!("{:<40} {}", mapping.principal, mapping.user);
            }
        }
        KerberosCommand::Name(NameCommand::Add { name, sid }) => {
            let recorded = kerberos::set_domain_name(control, actor, &name, &sid).await.map_err(plain)?;
            println!("{} is {}", recorded.name, recorded.sid);
        }
        KerberosCommand::Name(NameCommand::Remove { name }) => {
            let name = kerberos::remove_domain_name(control, actor, &name).await.map_err(plain)?;
            println!("removed {name}");
        }
        KerberosCommand::Name(NameCommand::List) => {
            for name in kerberos::status(control).await.map_err(plain)?.domain_names {
                println!("{:<40} {}", name.name, name.sid);
            }
        }
        KerberosCommand::Ntlm { policy } => {
            let policy = kerberos::set_ntlm_policy(control, actor, &policy).await.map_err(plain)?;
            println!("NTLM: {policy}");
        }
        KerberosCommand::Status => print_status(&kerberos::status(control).await.map_err(plain)?),
    }
    Ok(())
}

fn print_status(status: &app::model::identity::IdentityStatus) {
    println!("Kerberos: {}", if status.kerberos_on() { "offered" } else { "off (no service keys)" });
    println!("NTLM: {}", status.ntlm_policy);
    println!("clock skew allowed: {} s", status.max_skew_seconds);
    println!("realms:");
    for realm in &status.realms {
        println!("  {:<30} KDCs {}", realm.name, realm.kdcs.join(", "));
    }
    println!("service keys:");
    for key in &status.keys {
        println!("  {:<50} kvno {:<4} {}", key.principal, key.kvno, key.enctype);
    }
    println!("names clients use:");
    for name in &status.coverage {
        match name.principals.is_empty() {
            true => println!("  {:<40} no cifs/ key: Kerberos clients cannot sign in through it", name.name),
            false => println!("  {:<40} {}", name.name, name.principals.join(", ")),
        }
    }
}

pub async fn kdc_proxy(data_dir: &Path, command: KdcProxyCommand) -> anyhow::Result<()> {
    let (db, _) = crate::db::open(data_dir).await?;
    let control = Control::command_line(db.clone());
    let actor = Actor::CommandLine { uid: current_uid() };
    let result = async {
        let view = match command {
            KdcProxyCommand::Enable { port, address } => {
                let (port, address) = (port.map(|p| p.to_string()), address.map(|a| a.to_string()));
                kerberos::enable_kdc_proxy(&control, &actor, port.as_deref(), address.as_deref())
                    .await
                    .map_err(plain)?
            }
            KdcProxyCommand::Disable => kerberos::disable_kdc_proxy(&control, &actor).await.map_err(plain)?,
            KdcProxyCommand::Status => kerberos::status(&control).await.map_err(plain)?.kdc_proxy,
        };
        let status = kerberos::status(&control).await.map_err(plain)?;
        print_kdc_proxy(&view, &status.realms).await;
        anyhow::Ok(())
    }
    .await;
    db.close().await;
    result
}

async fn print_kdc_proxy(view: &app::model::identity::KdcProxyView, realms: &[app::model::identity::RealmView]) {
    if !view.enabled {
        println!("KDC proxy: disabled");
        return;
    }
    println!("KDC proxy: enabled, HTTPS on TCP {} port {}", view.address, view.port);
    println!(
        "timeout {} s; realms: {}",
        view.timeout_seconds,
        realms.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", ")
    );
    if view.names.is_empty() {
        println!("no certificate: map a name with `edgeshare quic map`; the proxy answers TLS for those names only");
    } else {
        println!("TLS for: {}", view.names.join(", "));
    }
    // Whether a running server answers there (this command does not run the proxy itself).
    let address: std::net::IpAddr = view.address.parse().unwrap_or(std::net::IpAddr::from([0u16; 8]));
    let probe = if address.is_unspecified() {
        if address.is_ipv4() {
            std::net::IpAddr::from([127, 0, 0, 1])
        } else {
            std::net::IpAddr::from([0, 0, 0, 0, 0, 0, 0, 1])
        }
    } else {
        address
    };
    let target = std::net::SocketAddr::new(probe, view.port);
    let connect = tokio::time::timeout(std::time::Duration::from_secs(2), tokio::net::TcpStream::connect(target)).await;
    match connect {
        Ok(Ok(_)) => println!("a server answers on {target}"),
        _ => println!("nothing answers on {target}: is `edgeshare serve` running (its log says why it cannot listen)?"),
    }
}
