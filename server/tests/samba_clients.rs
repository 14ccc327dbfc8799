//! Samba's own clients (smbclient, rpcclient) against EdgeShare over TCP on loopback: share
//! listing, file work with its content checked, every dialect, cipher, signing algorithm and
//! client protection level.

mod support;

use std::path::Path;
use std::time::Duration;

use app::backend::smb;
use smb_core::{Access, EVERYONE, Event, ShareConfig};
use support::{SmbServer, run_tool_in, transcript};
use tokio::sync::broadcast;

const LIMIT: Duration = Duration::from_secs(60);

/// Content that would show any reordering, truncation or corruption: 3 MiB and a bit, so that
/// the transfer spans several reads and writes of the largest size smbclient asks for.
fn content() -> Vec<u8> {
    let mut state: u32 = 0x1234_5678;
    (0..3 * 1024 * 1024 + 4321)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect()
}

async fn smbclient(
    server: &SmbServer,
    share: &str,
    dir: &Path,
    extra: &[&str],
    commands: &str,
) -> std::process::Output {
    smbclient_on(server, &server.port(), share, dir, extra, commands).await
}

/// smbclient against `port` (the server's TCP listener, or the bridge to its QUIC listener).
async fn smbclient_on(
    server: &SmbServer,
    port: &str,
    share: &str,
    dir: &Path,
    extra: &[&str],
    commands: &str,
) -> std::process::Output {
    let credentials = server.credentials();
    let unc = server.unc(share);
    let mut args = vec![unc.as_str(), "-p", port, "-U", &credentials];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["-c", commands]);
    run_tool_in("smbclient", &args, Some(dir), LIMIT).await
}

/// Puts a file, lists it, gets it back under another name, renames it, makes and removes a
/// directory and deletes the file; checks the bytes on both sides and what is left in the share.
async fn round_trip(server: &SmbServer, share: &str, share_dir: &Path, extra: &[&str]) {
    round_trip_on(server, &server.port(), share, share_dir, extra).await;
}

async fn round_trip_on(server: &SmbServer, port: &str, share: &str, share_dir: &Path, extra: &[&str]) {
    let local = tempfile::tempdir().unwrap();
    let data = content();
    std::fs::write(local.path().join("upload.bin"), &data).unwrap();
    let commands = "put upload.bin; ls; get upload.bin download.bin; rename upload.bin renamed.bin; \
                    mkdir folder; ls; rmdir folder; get renamed.bin again.bin; del renamed.bin; ls";
    let output = smbclient_on(server, port, share, local.path(), extra, commands).await;
    let text = transcript(&output);
    assert!(output.status.success(), "smbclient {extra:?} failed:\n{text}");
    assert!(!text.contains("NT_STATUS_"), "smbclient {extra:?} reported an error:\n{text}");
    assert!(text.contains("upload.bin") && text.contains("folder"), "listing misses entries:\n{text}");
    for name in ["download.bin", "again.bin"] {
        let got = std::fs::read(local.path().join(name)).unwrap_or_default();
        assert!(got == data, "{name} differs from what was put ({} of {} bytes) with {extra:?}", got.len(), data.len());
    }
    let left: Vec<_> = std::fs::read_dir(share_dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "the share should be empty again, holds {left:?}");
}

/// The next logon event: dialect, signing and encryption in use.
async fn logon(events: &mut broadcast::Receiver<Event>) -> (String, String, String) {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), events.recv()).await {
            Ok(Ok(Event::LogonSucceeded { dialect, signing, encryption, .. })) => {
                return (dialect, signing, encryption);
            }
            Ok(Ok(_)) => continue,
            other => panic!("no logon event: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smbclient_lists_shares_and_rpcclient_enumerates_them() {
    let server = SmbServer::start().await;
    server.share("sales", Access::Change).await;
    server.share("archive", Access::Read).await;
    let port = server.port();
    let credentials = server.credentials();

    let output = run_tool_in("smbclient", &["-L", "127.0.0.1", "-p", &port, "-U", &credentials], None, LIMIT).await;
    let text = transcript(&output);
    assert!(output.status.success(), "{text}");
    for expected in ["sales", "archive", "IPC$", "test share sales"] {
        assert!(text.contains(expected), "smbclient -L misses {expected}:\n{text}");
    }

    let args = ["-p", &port, "127.0.0.1", "-U", &credentials, "-c", "netshareenumall 1"];
    let output = run_tool_in("rpcclient", &args, None, LIMIT).await;
    let text = transcript(&output);
    assert!(output.status.success(), "{text}");
    for expected in ["netname: sales", "netname: archive", "remark:\ttest share archive"] {
        assert!(text.contains(expected), "rpcclient netshareenumall misses {expected:?}:\n{text}");
    }
    // Level 2 shows local paths: refused to users who do not administer the server, as Windows does.
    let args = ["-p", &port, "127.0.0.1", "-U", &credentials, "-c", "netshareenumall 2"];
    let output = run_tool_in("rpcclient", &args, None, LIMIT).await;
    let text = transcript(&output);
    assert!(text.contains("WERR_ACCESS_DENIED") && !text.contains("path:"), "{text}");

    let args = ["-p", &port, "127.0.0.1", "-U", &credentials, "-c", "srvinfo"];
    let output = run_tool_in("rpcclient", &args, None, LIMIT).await;
    let text = transcript(&output);
    assert!(output.status.success() && text.to_uppercase().contains("EDGESHARE-TEST"), "srvinfo:\n{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_work_keeps_content_intact_over_every_dialect() {
    let server = SmbServer::start().await;
    server.set("smb_min_dialect", "2.0.2").await;
    let share_dir = server.share("work", Access::Full).await;
    let mut events = server.engine.subscribe();
    for (flag, name) in
        [("SMB2_02", "2.0.2"), ("SMB2_10", "2.1"), ("SMB3_00", "3.0"), ("SMB3_02", "3.0.2"), ("SMB3_11", "3.1.1")]
    {
        round_trip(&server, "work", &share_dir, &["-m", flag]).await;
        let (dialect, _, _) = logon(&mut events).await;
        assert_eq!(dialect, name, "smbclient -m {flag} negotiated another dialect");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_minimum_dialect_refuses_smb2() {
    let server = SmbServer::start().await;
    let share_dir = server.share("work", Access::Full).await;
    let local = tempfile::tempdir().unwrap();
    for flag in ["SMB2_02", "SMB2_10"] {
        let output = smbclient(&server, "work", local.path(), &["-m", flag], "ls").await;
        assert!(!output.status.success(), "SMB 2 must be refused by default:\n{}", transcript(&output));
    }
    round_trip(&server, "work", &share_dir, &["-m", "SMB3_00"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_cipher_carries_an_encrypted_session() {
    let server = SmbServer::start().await;
    server.set("smb_encryption_required", "true").await;
    let share_dir = server.share("secret", Access::Full).await;
    let mut events = server.engine.subscribe();
    for cipher in ["AES-128-CCM", "AES-128-GCM", "AES-256-CCM", "AES-256-GCM"] {
        let option = format!("--option=client smb3 encryption algorithms={cipher}");
        round_trip(&server, "secret", &share_dir, &["--client-protection=encrypt", &option]).await;
        let (_, _, encryption) = logon(&mut events).await;
        assert_eq!(encryption, cipher);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_signing_algorithm_signs_a_session() {
    let server = SmbServer::start().await;
    let share_dir = server.share("signed", Access::Full).await;
    let mut events = server.engine.subscribe();
    for algorithm in ["HMAC-SHA256", "AES-128-CMAC", "AES-128-GMAC"] {
        let option = format!("--option=client smb3 signing algorithms={algorithm}");
        round_trip(&server, "signed", &share_dir, &["--client-protection=sign", &option]).await;
        let (_, signing, encryption) = logon(&mut events).await;
        assert_eq!((signing.as_str(), encryption.as_str()), (algorithm, "off"));
    }
    // Before 3.1.1 the algorithm follows from the dialect (MS-SMB2 3.1.4.1).
    for (dialect, algorithm) in [("SMB3_02", "AES-128-CMAC"), ("SMB3_00", "AES-128-CMAC")] {
        round_trip(&server, "signed", &share_dir, &["--client-protection=sign", "-m", dialect]).await;
        let (_, signing, _) = logon(&mut events).await;
        assert_eq!(signing, algorithm);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_protection_levels_off_sign_and_encrypt_all_work() {
    let server = SmbServer::start().await;
    let share_dir = server.share("any", Access::Full).await;
    let mut events = server.engine.subscribe();
    // Signing is required by default: a client that would not sign still signs.
    round_trip(&server, "any", &share_dir, &["--client-protection=off"]).await;
    assert_eq!(logon(&mut events).await.1, "AES-128-GMAC");
    round_trip(&server, "any", &share_dir, &["--client-protection=sign"]).await;
    assert_eq!(logon(&mut events).await.1, "AES-128-GMAC");
    round_trip(&server, "any", &share_dir, &["--client-protection=encrypt"]).await;
    logon(&mut events).await;
    // With signing no longer required, an unprotected session is allowed.
    server.set("smb_signing_required", "false").await;
    round_trip(&server, "any", &share_dir, &["--client-protection=off"]).await;
    assert_eq!(logon(&mut events).await.1, "off");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encrypted_share_refuses_unencrypted_clients_and_serves_encrypted_ones() {
    let server = SmbServer::start().await;
    let share_dir = server
        .share_with(smb_core::ShareConfig {
            name: "vault".into(),
            path: Default::default(),
            description: String::new(),
            permissions: vec![(support::USER.into(), Access::Full)],
            encrypt_data: true,
            access_based_enumeration: false,
            max_users: None,
            continuous_availability: false,
        })
        .await;
    let local = tempfile::tempdir().unwrap();
    let output = smbclient(&server, "vault", local.path(), &["--client-protection=sign", "-m", "SMB2_10"], "ls").await;
    assert!(!output.status.success(), "a client that cannot encrypt must be refused:\n{}", transcript(&output));
    round_trip(&server, "vault", &share_dir, &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn share_permissions_hold_against_smbclient() {
    let server = SmbServer::start().await;
    let read_dir = server.share("readonly", Access::Read).await;
    server.share("denied", Access::Deny).await;
    std::fs::write(read_dir.join("notice.txt"), b"read me").unwrap();
    let local = tempfile::tempdir().unwrap();

    let output = smbclient(&server, "readonly", local.path(), &[], "get notice.txt; put notice.txt copy.txt").await;
    let text = transcript(&output);
    assert_eq!(std::fs::read(local.path().join("notice.txt")).unwrap(), b"read me");
    assert!(text.contains("NT_STATUS_ACCESS_DENIED"), "a write to a read-only share must be denied:\n{text}");
    assert!(!read_dir.join("copy.txt").exists());

    let output = smbclient(&server, "denied", local.path(), &[], "ls").await;
    let text = transcript(&output);
    assert!(text.contains("NT_STATUS_ACCESS_DENIED"), "a no-access share must refuse the tree connect:\n{text}");

    let output = smbclient(&server, "missing", local.path(), &[], "ls").await;
    assert!(transcript(&output).contains("NT_STATUS_BAD_NETWORK_NAME"), "{}", transcript(&output));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_a_logon_failure() {
    let server = SmbServer::start().await;
    server.share("work", Access::Full).await;
    let port = server.port();
    let args = ["//127.0.0.1/work", "-p", &port, "-U", "alice%not the password", "-c", "ls"];
    let output = run_tool_in("smbclient", &args, None, LIMIT).await;
    let text = transcript(&output);
    assert!(!output.status.success() && text.contains("NT_STATUS_LOGON_FAILURE"), "{text}");
    let args = ["//127.0.0.1/work", "-p", &port, "-N", "-c", "ls"];
    let output = run_tool_in("smbclient", &args, None, LIMIT).await;
    assert!(!output.status.success(), "anonymous access must be refused:\n{}", transcript(&output));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_ascii_name_in_another_case_is_the_configured_account_and_cannot_be_added_twice() {
    let server = SmbServer::start().await;
    smb::add_user(&server.db, "Émile", support::PASSWORD).await.unwrap();
    let refused = smb::add_user(&server.db, "émile", "another password").await.unwrap_err();
    assert_eq!(
        refused.for_field("name"),
        Some("A user named 'Émile' already exists: user names that differ only in case are one name.")
    );
    server
        .share_with(ShareConfig {
            name: "team".into(),
            path: Default::default(),
            description: String::new(),
            permissions: vec![(EVERYONE.into(), Access::Full), ("Émile".into(), Access::Deny)],
            encrypt_data: false,
            access_based_enumeration: false,
            max_users: None,
            continuous_availability: false,
        })
        .await;
    let mut events = server.engine.subscribe();
    let (port, credentials) = (server.port(), format!("émile%{}", support::PASSWORD));
    let args = ["//127.0.0.1/team", "-p", &port, "-U", &credentials, "-c", "ls"];
    let output = run_tool_in("smbclient", &args, None, LIMIT).await;
    let text = transcript(&output);
    assert!(text.contains("NT_STATUS_ACCESS_DENIED"), "the deny for Émile must hold for émile:\n{text}");
    let mut seen = Vec::new();
    while seen.len() < 2 {
        match tokio::time::timeout(Duration::from_secs(10), events.recv()).await {
            Ok(Ok(Event::LogonSucceeded { user, .. })) => seen.push(("logon", user)),
            Ok(Ok(Event::TreeConnectDenied { user, .. })) => seen.push(("tree connect denied", user)),
            Ok(Ok(_)) => continue,
            other => panic!("missing events after {seen:?}: {other:?}"),
        }
    }
    assert_eq!(seen, [("logon", "Émile".to_owned()), ("tree connect denied", "Émile".to_owned())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smbclient_lists_shares_and_round_trips_files_over_quic_through_the_bridge() {
    let server = SmbServer::start().await;
    let share_dir = server.share("sales", Access::Change).await;
    let port = server.quic_bridge(true).await;
    let credentials = server.credentials();
    let output = run_tool_in("smbclient", &["-L", "127.0.0.1", "-p", &port, "-U", &credentials], None, LIMIT).await;
    let text = transcript(&output);
    assert!(
        output.status.success() && text.contains("sales") && text.contains("IPC$"),
        "smbclient -L over QUIC:\n{text}"
    );
    let mut events = server.engine.subscribe();
    round_trip_on(&server, &port, "sales", &share_dir, &[]).await;
    let connected = tokio::time::timeout(LIMIT, async {
        loop {
            if let Ok(Event::Connected { transport, .. }) = events.recv().await {
                return transport;
            }
        }
    })
    .await
    .expect("a connection event");
    assert_eq!(connected, smb_core::Transport::Quic, "the bridge should reach the engine over QUIC");
    let (dialect, _, _) = logon(&mut events).await;
    assert_eq!(dialect, "3.1.1", "QUIC allows SMB 3.1.1 only");
}
