//! The Python SMB clients administrators script with, smbprotocol and impacket, against
//! EdgeShare: each runs a round trip (tests/clients/*.py) that checks every result itself.

mod support;

use std::time::Duration;

use smb_core::Access;
use support::{PASSWORD, SmbServer, USER, python, run_tool, transcript};

async fn script_passes(script: &str) {
    let server = SmbServer::start().await;
    let share_dir = server.share("projects", Access::Full).await;
    let path = format!("{}/tests/clients/{script}", env!("CARGO_MANIFEST_DIR"));
    let python = python();
    let port = server.port();
    let args = [path.as_str(), "127.0.0.1", &port, USER, PASSWORD, "projects"];
    let output = run_tool(python.to_str().expect("utf-8 path"), &args, Duration::from_secs(120)).await;
    assert!(output.status.success(), "{script} failed:\n{}", transcript(&output));
    let left: Vec<_> = std::fs::read_dir(&share_dir).unwrap().collect();
    assert!(left.is_empty(), "{script} should leave the share empty");
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
