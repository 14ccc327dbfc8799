//! The `edgeshare` binary as a library, so that tests can boot the console in-process.

// The console's Leptos views nest deep types; the default limit (128) is too low for them.
#![recursion_limit = "256"]

pub mod admin;
pub mod config;
pub mod console_sessions;
pub mod console_tls;
pub mod db;
pub mod engine;
pub mod hosts;
pub mod interfaces;
pub mod kdc_proxy;
pub mod kerberos_cli;
pub mod metrics;
pub mod quic_bridge;
pub mod quic_cli;
pub mod serve;
pub mod service_tickets;
pub mod smb_cli;
pub mod web;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use app::backend::ServerInfo;
use app::backend::setup_token::SetupToken;
use leptos::config::{Env, LeptosOptions};

use crate::config::{Cli, Command, ServeConfig};

/// The stack of each runtime thread. Rendering a console page on the server polls one future per
/// element, nested as deep as the page; the Identity page with a realm, keys and the KDC proxy
/// overflowed tokio's default 2 MiB in a debug build, which aborts the whole process. Only the
/// part a thread touches is backed by memory.
const WORKER_STACK: usize = 8 * 1024 * 1024;

pub fn run(cli: Cli) -> anyhow::Result<()> {
    init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(WORKER_STACK)
        .build()
        .context("cannot start the runtime")?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(config) => serve(&cli.data_dir, config).await,
            Command::Admin(command) => admin::run(&cli.data_dir, command).await,
            Command::User(command) => smb_cli::users(&cli.data_dir, command).await,
            Command::Share(command) => smb_cli::shares(&cli.data_dir, command).await,
            Command::Settings(command) => smb_cli::settings(&cli.data_dir, command).await,
            Command::Cert(command) => quic_cli::certs(&cli.data_dir, command).await,
            Command::Quic(command) => quic_cli::quic(&cli.data_dir, command).await,
            Command::Kerberos(command) => kerberos_cli::run(&cli.data_dir, command).await,
            Command::KdcProxy(command) => kerberos_cli::kdc_proxy(&cli.data_dir, command).await,
        }
    })
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("EDGESHARE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

/// The server name shown in the console: configured, or this machine's host name.
pub fn server_name(configured: Option<&str>) -> String {
    configured
        .map(str::to_owned)
        .or_else(|| hostname::get().ok().and_then(|name| name.into_string().ok()))
        .unwrap_or_else(|| "edgeshare".to_owned())
}

pub fn leptos_options(site_root: &Path, config: &ServeConfig) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(app::app::OUTPUT_NAME)
        .site_root(site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(config.console_addr)
        .env(Env::PROD)
        .build()
}

async fn serve(data_dir: &Path, config: ServeConfig) -> anyhow::Result<()> {
    config.check()?;
    let bundle = config.site_root.join("pkg").join(format!("{}.js", app::app::OUTPUT_NAME));
    if !bundle.is_file() {
        anyhow::bail!(
            "the console's browser files are missing ({} not found): build them with `make build`, \
             or point --site-root at them",
            bundle.display()
        );
    }
    let (db, sessions) = db::open(data_dir).await?;
    let server_name = server_name(config.server_name.as_deref());
    let tls = if config.console_plain_http {
        None
    } else {
        Some(console_tls::load(data_dir, config.console_cert.as_deref(), config.console_key.as_deref(), &server_name)?)
    };
    let info = ServerInfo {
        server_name,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        started_at: app::backend::now(),
        console_url: config.console_url(),
        console_tls: tls.as_ref().map(|tls| tls.info.clone()),
        database_path: db::path(data_dir).canonicalize().unwrap_or_else(|_| db::path(data_dir)),
    };
    let engine = engine::start(&db, &info.server_name).await?;
    let descriptors = engine.raise_descriptor_limit();
    tracing::info!(descriptors, "open-descriptor limit");
    let kdc_proxy_state = Arc::new(app::backend::kdc_proxy::KdcProxyState::default());
    let kdc_proxy = kdc_proxy::KdcProxy::new(db.clone(), kdc_proxy_state.clone()).await?;
    kdc_proxy.reconcile().await;
    if let Some(bound) = kdc_proxy_state.listening() {
        println!("KDC proxy: https://{bound}/KdcProxy");
    } else if let Some(error) = kdc_proxy_state.error() {
        println!("The KDC proxy is enabled but not listening: {error}");
    }
    let config_watcher = engine::watch_config(db.clone(), engine.clone(), info.server_name.clone(), kdc_proxy.clone());
    let event_recorder = engine::record_events(db.clone(), &engine);
    let ticket_keeper = service_tickets::keep(db.clone(), engine.clone());
    let interface_keeper = interfaces::keep(engine.clone());
    if let Some(address) = config.smb_tcp_addr {
        let bound =
            engine.listen_tcp(address).await.with_context(|| format!("cannot listen on {address} for SMB over TCP"))?;
        println!("SMB over TCP: {bound}");
    }
    engine.start();
    if let Some(bound) = engine.quic_address() {
        println!("SMB over QUIC: {bound}");
    } else if let Some(error) = engine.quic_error() {
        println!("SMB over QUIC is enabled but not listening: {error}");
    }
    let certificate_names = info.console_tls.as_ref().map(|tls| tls.names.clone()).unwrap_or_default();
    let allowed_hosts = hosts::AllowedHosts::new(
        &info.server_name,
        &certificate_names,
        config.console_hosts.iter().map(String::as_str),
    );
    tracing::info!(names = ?allowed_hosts.names(), "the console answers to these names and to IP addresses");
    let administrator_exists = app::backend::accounts::any_exists(&db).await?;
    let (setup_token, setup_token_text) =
        (!administrator_exists && config.setup_token_required()).then(SetupToken::generate).unzip();
    let router = web::router(web::WebConfig {
        leptos_options: leptos_options(&config.site_root, &config),
        db: db.clone(),
        sessions: sessions.clone(),
        info,
        tls: tls.is_some(),
        session_idle_minutes: config.session_idle_minutes,
        engine: engine.clone(),
        allowed_hosts,
        setup_token,
        kdc_proxy: kdc_proxy_state,
    });
    let expired_sessions = tokio::spawn(async move {
        use tower_sessions::ExpiredDeletion;
        if let Err(error) = sessions.continuously_delete_expired(Duration::from_secs(300)).await {
            tracing::error!(%error, "deleting expired console sessions stopped");
        }
    });
    let listener = tokio::net::TcpListener::bind(config.console_addr)
        .await
        .with_context(|| format!("cannot listen on {} for the console", config.console_addr))?;
    tracing::info!(url = %config.console_url(), "console listening");
    println!("EdgeShare console: {}", config.console_url());
    match setup_token_text {
        Some(text) => eprintln!(
            "No console account exists yet: open the console to create the first administrator.\n\
             Setup token: {text}\n\
             (The console can be reached from other machines, so the setup page asks for this token. \
             It is new at each start until an administrator exists.)"
        ),
        None if !administrator_exists => {
            println!("No console account exists yet: open the console to create the first administrator.");
        }
        None => {}
    }
    serve::serve(
        listener,
        tls.map(|tls| tls.config),
        router,
        serve::Limits::new(config.console_max_connections as usize),
        serve::stop_signal(),
        Duration::from_secs(config.shutdown_grace_seconds),
    )
    .await;
    expired_sessions.abort();
    kdc_proxy.stop();
    engine.shutdown();
    config_watcher.abort();
    ticket_keeper.abort();
    interface_keeper.abort();
    // Give the engine's last events (disconnects) a moment to reach the audit log.
    tokio::time::sleep(Duration::from_millis(200)).await;
    event_recorder.abort();
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}
