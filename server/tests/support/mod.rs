//! A real EdgeShare SMB server for tests with real clients: the configuration store (SQLite, in a
//! temporary data directory) and the engine exactly as `edgeshare serve` builds them, listening on
//! a free loopback port. It stops when the test drops it.

#![allow(dead_code)]

pub mod kerberos;
pub mod raw;
pub mod samba_dc;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use app::backend::smb;
use smb_core::{Access, EngineHandle, ShareConfig};
use sqlx::SqlitePool;
use tempfile::TempDir;

pub const USER: &str = "alice";
pub const PASSWORD: &str = "Correct horse 1";
pub const SERVER_NAME: &str = "edgeshare-test";

pub struct SmbServer {
    pub dir: TempDir,
    pub db: SqlitePool,
    pub engine: EngineHandle,
    pub address: SocketAddr,
}

impl SmbServer {
    /// A server with the user `alice` and no shares.
    pub async fn start() -> SmbServer {
        // EDGESHARE_LOG=debug shows the server's log in a failing test's output.
        if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_env("EDGESHARE_LOG") {
            let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
        }
        let dir = tempfile::tempdir().expect("temporary directory");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let (db, _) = server::db::open(&data).await.expect("database");
        smb::add_user(&db, USER, PASSWORD).await.expect("user");
        let engine = server::engine::start(&db, SERVER_NAME).await.expect("engine");
        let address = engine.listen_tcp("127.0.0.1:0".parse().unwrap()).await.expect("listener");
        SmbServer { dir, db, engine, address }
    }

    pub fn port(&self) -> String {
        self.address.port().to_string()
    }

    /// Shares a fresh directory under the test's temporary directory as `name`, with `alice`
    /// holding `access`; returns the directory.
    pub async fn share(&self, name: &str, access: Access) -> PathBuf {
        self.share_with(ShareConfig {
            name: name.to_owned(),
            path: PathBuf::new(),
            description: format!("test share {name}"),
            permissions: vec![(USER.to_owned(), access)],
            encrypt_data: false,
            access_based_enumeration: false,
            max_users: None,
            continuous_availability: false,
        })
        .await
    }

    /// Shares a fresh directory with the given settings (the path is filled in).
    pub async fn share_with(&self, mut share: ShareConfig) -> PathBuf {
        let path = self.dir.path().join("shares").join(&share.name);
        std::fs::create_dir_all(&path).unwrap();
        share.path = path.clone();
        smb::add_share(&self.db, &share).await.expect("share");
        self.apply().await;
        path
    }

    /// Changes a server setting the way the console and the command line do, and applies it.
    pub async fn set(&self, key: &str, value: &str) {
        smb::change_setting(&self.db, key, value).await.expect("setting");
        self.apply().await;
    }

    /// Applies the stored configuration now (the server's watcher would within a second).
    pub async fn apply(&self) {
        self.engine.apply(smb::engine_config(&self.db, SERVER_NAME).await.expect("configuration"));
    }

    /// Turns SMB over QUIC on at a free loopback UDP port, with `names` mapped to a certificate
    /// issued by a local CA; returns the bound address and the CA's DER file (what clients trust).
    pub async fn enable_quic(&self, names: &[&str], allow_named_pipes: bool) -> (SocketAddr, PathBuf) {
        use app::backend::certs;
        let dns: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let added = certs::generate(&self.db, &dns, Some("EdgeShare Test CA"), certs::KeyKind::EcdsaP256)
            .await
            .expect("certificate");
        for name in names {
            let mapping = certs::Mapping {
                name: (*name).to_owned(),
                thumbprint: added.info.thumbprint.clone(),
                require_client_auth: false,
                skip_client_access_check: false,
                allow_named_pipes,
                is_default: false,
            };
            certs::map(&self.db, &mapping).await.expect("mapping");
        }
        let ca = self.dir.path().join("ca.der");
        std::fs::write(&ca, certs::export(&self.db, &added.info.thumbprint, true, true).await.expect("CA export"))
            .unwrap();
        smb::change_setting(&self.db, "quic_address", "127.0.0.1").await.expect("setting");
        smb::change_setting(&self.db, "quic_port", "0").await.expect("setting");
        self.set("quic_enabled", "true").await;
        let address =
            self.engine.quic_address().unwrap_or_else(|| panic!("QUIC should listen: {:?}", self.engine.quic_error()));
        (address, ca)
    }

    /// The CA of the first SMB over QUIC mapping's certificate, exported as PEM (`ca.pem`) as
    /// the console offers it: what HTTPS clients of the KDC proxy trust.
    pub async fn quic_ca_pem(&self) -> PathBuf {
        use app::backend::certs;
        let thumbprint = certs::list_mappings(&self.db).await.expect("mappings")[0].thumbprint.clone();
        let ca_pem = self.dir.path().join("ca.pem");
        std::fs::write(&ca_pem, certs::export(&self.db, &thumbprint, true, false).await.expect("CA export")).unwrap();
        ca_pem
    }

    /// Turns SMB over QUIC on (as [`SmbServer::enable_quic`], for `localhost`) and starts the
    /// project's TCP-to-QUIC bridge in front of it, so that Samba's TCP-only tools reach the
    /// QUIC listener; returns the bridge's TCP port. The bridge stops with the test's runtime.
    pub async fn quic_bridge(&self, allow_named_pipes: bool) -> String {
        let (address, ca) = self.enable_quic(&["localhost"], allow_named_pipes).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bridge listener");
        let port = listener.local_addr().unwrap().port().to_string();
        let target = server::quic_bridge::Target::new(address, "localhost", &ca).expect("bridge target");
        tokio::spawn(server::quic_bridge::run(listener, target));
        port
    }

    pub fn credentials(&self) -> String {
        format!("{USER}%{PASSWORD}")
    }

    pub fn unc(&self, share: &str) -> String {
        format!("//127.0.0.1/{share}")
    }
}

impl Drop for SmbServer {
    fn drop(&mut self) {
        self.engine.shutdown();
    }
}

/// Runs a peer tool to completion, killing it if it outlives `limit`. Its output is returned
/// whatever its exit status; a tool that cannot be started fails the test with a hint.
pub async fn run_tool(program: &str, args: &[&str], limit: Duration) -> Output {
    run_tool_in(program, args, None, limit).await
}

pub async fn run_tool_in(program: &str, args: &[&str], dir: Option<&Path>, limit: Duration) -> Output {
    let mut command = tokio::process::Command::new(program);
    command.args(args).kill_on_drop(true).stdin(std::process::Stdio::null());
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let child = command.output();
    match tokio::time::timeout(limit, child).await {
        Ok(Ok(output)) => output,
        Ok(Err(error)) => panic!("cannot run {program} ({error}); `make test` installs it (scripts/setup.sh)"),
        Err(_) => panic!("{program} {args:?} did not finish within {limit:?}"),
    }
}

/// As [`run_tool_in`], with environment variables set and `stdin` written to the tool.
pub async fn run_tool_env(
    program: &str,
    args: &[&str],
    env: &[(&str, String)],
    stdin: Option<&str>,
    dir: Option<&Path>,
    limit: Duration,
) -> Output {
    use tokio::io::AsyncWriteExt;
    let mut command = tokio::process::Command::new(program);
    command
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .kill_on_drop(true)
        .stdin(if stdin.is_some() { std::process::Stdio::piped() } else { std::process::Stdio::null() })
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let mut child =
        command.spawn().unwrap_or_else(|error| panic!("cannot run {program} ({error}); `make test` installs it"));
    if let (Some(text), Some(mut input)) = (stdin, child.stdin.take()) {
        input.write_all(format!("{text}\n").as_bytes()).await.unwrap();
    }
    match tokio::time::timeout(limit, child.wait_with_output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(error)) => panic!("{program}: {error}"),
        Err(_) => panic!("{program} {args:?} did not finish within {limit:?}"),
    }
}

/// Stdout and stderr of a tool, for assertion messages.
pub fn transcript(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The Python interpreter with smbprotocol and impacket (the virtual environment that
/// scripts/setup.sh prepares).
pub fn python() -> PathBuf {
    if let Some(path) = std::env::var_os("EDGESHARE_PYTHON") {
        return PathBuf::from(path);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/root"));
    home.join(".cache/edgeshare/venv/bin/python")
}
