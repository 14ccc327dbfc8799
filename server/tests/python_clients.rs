//! The Python SMB clients administrators script with, smbprotocol and impacket, against
//! EdgeShare: each runs a round trip (tests/clients/*.py) that checks every result itself.

mod support;

use std::time::Duration;

use smb_core::Access;
use support::{PASSWORD, SmbServer, USER, python, run_tool, transcript};

async fn script_passes(script: &str) {
    let server = SmbServer::start().await;
    let port = server.port();
    run_script(&server, script, &[&port]).await;
}

/// Runs a script of tests/clients with `host`, `ports`, user, password and share as its
/// arguments; it must succeed and leave the share empty.
async fn run_script(server: &SmbServer, script: &str, ports: &[&str]) {
    let share_dir = server.share("projects", Access::Full).await;
    let path = format!("{}/tests/clients/{script}", env!("CARGO_MANIFEST_DIR"));
    let python = python();
    let mut args = vec![path.as_str(), "127.0.0.1"];
    args.extend_from_slice(ports);
    args.extend_from_slice(&[USER, PASSWORD, "projects"]);
    let output = run_tool(python.to_str().expect("utf-8 path"), &args, Duration::from_secs(120)).await;
    assert!(output.status.success(), "{script} failed:\n{}", transcript(&output));
    println!("{}", String::from_utf8_lossy(&output.stdout));
    let left: Vec<_> = std::fs::read_dir(&share_dir).unwrap().collect();
    assert!(left.is_empty(), "{script} should leave the share empty");
}

/// A connection cut in the middle of a write (TCP): the client reclaims its durable open (DH2C)
/// on a new connection, its lock still holds against another client, and the file's bytes are
/// exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_cut_off_mid_way_finishes_on_a_new_connection_with_its_durable_open() {
    let server = SmbServer::start().await;
    let port = server.port();
    run_script(&server, "smbprotocol_durable_reconnect.py", &[&port, &port]).await;
}

/// The same over SMB over QUIC (through the project's TCP-to-QUIC bridge, one QUIC connection per
/// TCP connection): lost over QUIC, reclaimed over QUIC on a new connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_cut_off_over_quic_finishes_over_a_new_quic_connection() {
    let server = SmbServer::start().await;
    let bridge = server.quic_bridge(true).await;
    run_script(&server, "smbprotocol_durable_reconnect.py", &[&bridge, &bridge]).await;
}

/// Lost over QUIC, reclaimed over TCP: a durable open belongs to its client, not to a transport.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_lost_over_quic_is_reclaimed_over_tcp() {
    let server = SmbServer::start().await;
    let bridge = server.quic_bridge(true).await;
    let port = server.port();
    run_script(&server, "smbprotocol_durable_reconnect.py", &[&bridge, &port]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smbprotocol_round_trips_files_over_an_encrypted_session() {
    script_passes("smbprotocol_round_trip.py").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn impacket_lists_shares_and_round_trips_files() {
    script_passes("impacket_round_trip.py").await;
}

/// Shares keep no file ACLs (access is the share's permissions): the volume says so, and a DACL
/// set with impacket is refused with STATUS_NOT_SUPPORTED instead of being kept and not enforced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_dacl_is_refused_rather_than_kept_and_not_enforced() {
    script_passes("impacket_file_acls.py").await;
}

/// `edgeshare serve` as a process of its own on `data`, with SMB over TCP on `smb_port`; its
/// output goes to `log`. Returns once it accepts SMB connections.
async fn serve(data: &std::path::Path, smb_port: u16, log: &std::path::Path) -> tokio::process::Child {
    let console = support::kerberos::free_port();
    // The console is not what this test is about: an empty bundle where serve looks for the
    // browser files (the Rust tests run before the site is built).
    let site = data.parent().unwrap().join("site");
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(site.join("pkg/edgeshare.js"), "").unwrap();
    let log = std::fs::File::create(log).unwrap();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_edgeshare"))
        .arg("--data-dir")
        .arg(data)
        .args(["serve", "--console-plain-http", "--server-name", support::SERVER_NAME])
        .arg(format!("--console-addr=127.0.0.1:{console}"))
        .arg(format!("--smb-tcp-addr=127.0.0.1:{smb_port}"))
        .arg("--site-root")
        .arg(&site)
        .env("RUST_LOG", "info")
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("edgeshare serve");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while tokio::net::TcpStream::connect(("127.0.0.1", smb_port)).await.is_err() {
        assert!(std::time::Instant::now() < deadline, "edgeshare serve did not listen within 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    child
}

/// A persistent handle (continuously available share) while `edgeshare` is killed with SIGKILL
/// and started again: the client reconnects and reclaims its open, its lock still holds against
/// a second client, the bytes written before the kill are there and the rest follows exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persistent_handle_and_its_lock_survive_the_server_being_killed_and_restarted() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let share_dir = dir.path().join("ledger");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(&share_dir).unwrap();
    {
        let (db, _) = server::db::open(&data).await.expect("database");
        app::backend::smb::add_user(&db, USER, PASSWORD).await.unwrap();
        let share = smb_core::ShareConfig {
            name: "ledger".into(),
            path: share_dir.clone(),
            description: String::new(),
            permissions: vec![(USER.to_owned(), Access::Full)],
            encrypt_data: false,
            access_based_enumeration: false,
            max_users: None,
            continuous_availability: true,
        };
        app::backend::smb::add_share(&db, &share).await.unwrap();
        db.close().await;
    }
    let port = support::kerberos::free_port();
    let logs = [dir.path().join("serve-1.log"), dir.path().join("serve-2.log")];
    let logs_text =
        || logs.iter().map(|l| std::fs::read_to_string(l).unwrap_or_default()).collect::<Vec<_>>().join("\n---\n");
    let mut first = serve(&data, port, &logs[0]).await;
    let script = format!("{}/tests/clients/smbprotocol_persistent_restart.py", env!("CARGO_MANIFEST_DIR"));
    let mut client = tokio::process::Command::new(python())
        .args([script.as_str(), "127.0.0.1", &port.to_string(), USER, PASSWORD, "ledger"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python");
    let mut stdout = tokio::io::BufReader::new(client.stdout.take().unwrap()).lines();
    let ready = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = stdout.next_line().await.unwrap() {
            if line == "READY" {
                return true;
            }
        }
        false
    })
    .await;
    if ready != Ok(true) {
        let output = client.wait_with_output().await.unwrap();
        panic!("the client did not get ready: {}\n{}", transcript(&output), logs_text());
    }
    // SIGKILL: nothing of the server's shutdown runs.
    first.start_kill().unwrap();
    first.wait().await.unwrap();
    let mut second = serve(&data, port, &logs[1]).await;
    client.stdin.take().unwrap().write_all(b"go\n").await.unwrap();
    let output =
        tokio::time::timeout(Duration::from_secs(120), client.wait_with_output()).await.expect("in time").unwrap();
    assert!(output.status.success(), "the client failed:\n{}\n--- server logs\n{}", transcript(&output), logs_text());
    assert!(logs_text().contains("a persistent open waits for its client again"), "{}", logs_text());
    // The closed open leaves the journal.
    let (db, _) = server::db::open(&data).await.expect("database");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM persistent_opens").fetch_one(&db).await.unwrap();
        if left == 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{left} persistent opens left in the journal after the close");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    second.start_kill().unwrap();
    let _ = second.wait().await;
}
