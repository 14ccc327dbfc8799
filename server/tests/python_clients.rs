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
