//! Samba's conformance suite, smbtorture, against EdgeShare: each suite of the allow-list runs
//! on a fresh share of a fresh server and must pass, except for the tests named in
//! `smbtorture-known-failures.txt` (each with its reason). A known failure that passes fails the
//! run too, so that the file only ever lists what really fails. The suites that apply to SMB
//! 3.1.1 run over QUIC too, through the project's TCP-to-QUIC bridge (smbtorture speaks only
//! TCP), with their own list, `smbtorture-quic-known-failures.txt`.
//!
//! The suites of work that survives the network (durable handles, replays, leases, oplocks) also
//! run against Samba's smbd on the same machine, at the same time, for the baseline printed next
//! to EdgeShare's counts.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use smb_core::Access;
use support::{SmbServer, run_tool, transcript};

const KNOWN_FAILURES: &str = include_str!("smbtorture-known-failures.txt");
const QUIC_KNOWN_FAILURES: &str = include_str!("smbtorture-quic-known-failures.txt");

/// Suites that run on a continuously available share: the replay suite has tests of persistent
/// handles, which it skips elsewhere.
const CONTINUOUSLY_AVAILABLE: &[&str] = &["replay"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Over {
    Tcp,
    /// SMB over QUIC through the TCP-to-QUIC bridge.
    Quic,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    Passed,
    Failed(String),
    Skipped,
}

/// The outcome of every test in smbtorture's subunit output; a test that started and never
/// finished (a crash or a hang) counts as failed.
fn outcomes(output: &str) -> BTreeMap<String, Outcome> {
    let mut results = BTreeMap::new();
    let mut lines = output.lines().peekable();
    while let Some(line) = lines.next() {
        let Some((kind, rest)) = line.split_once(": ") else { continue };
        let (name, has_detail) = match rest.strip_suffix(" [") {
            Some(name) => (name.to_owned(), true),
            None => (rest.to_owned(), false),
        };
        let mut detail = String::new();
        if has_detail {
            for next in lines.by_ref() {
                if next == "]" {
                    break;
                }
                detail.push_str(next);
                detail.push('\n');
            }
        }
        let outcome = match kind {
            "test" => {
                results.entry(name).or_insert_with(|| Outcome::Failed("started but never finished".into()));
                continue;
            }
            "success" | "uxsuccess" => Outcome::Passed,
            "failure" | "error" | "xfail" => Outcome::Failed(detail.trim().to_owned()),
            "skip" => Outcome::Skipped,
            _ => continue,
        };
        results.insert(name, outcome);
    }
    results
}

/// Known failures of one suite: test name -> reason.
fn known_failures(suite: &str, over: Over) -> BTreeMap<String, String> {
    let prefix = format!("smb2.{suite}.");
    let list = if over == Over::Quic { QUIC_KNOWN_FAILURES } else { KNOWN_FAILURES };
    list.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (name, reason) = line.split_once(" | ").unwrap_or_else(|| panic!("no ' | reason' in {line:?}"));
            (name.trim().to_owned(), reason.trim().to_owned())
        })
        .filter(|(name, _)| name.starts_with(&prefix) || *name == format!("smb2.{suite}"))
        .collect()
}

async fn suite_passes(suite: &str, over: Over) {
    suite_passes_against(suite, over, None).await;
}

/// [`suite_passes`], and the same suite against Samba's smbd for the baseline printed with it.
async fn suite_passes_beside_samba(suite: &str) {
    let samba = tokio::spawn({
        let suite = suite.to_owned();
        async move { samba_counts(&suite).await }
    });
    suite_passes_against(suite, Over::Tcp, Some(samba)).await;
}

async fn suite_passes_against(
    suite: &str,
    over: Over,
    samba: Option<tokio::task::JoinHandle<Result<BTreeMap<String, Outcome>, String>>>,
) {
    let server = SmbServer::start().await;
    // As Samba by default: SMB 2.0.2 and up, so that the suites' older-dialect cases run.
    server.set("smb_min_dialect", "2.0.2").await;
    let share = format!("t_{}", suite.replace(['-', '.'], "_"));
    let path = server.share(&share, Access::Full).await;
    if CONTINUOUSLY_AVAILABLE.contains(&suite) {
        let mut config = app::backend::smb::find_share(&server.db, &share).await.expect("the share");
        config.continuous_availability = true;
        config.path = path;
        app::backend::smb::update_share(&server.db, &share, &config, None).await.expect("continuous availability");
        server.apply().await;
    }
    let unc = server.unc(&share);
    let port = if over == Over::Quic { server.quic_bridge(true).await } else { server.port() };
    let credentials = server.credentials();
    let test = format!("smb2.{suite}");
    let label = if over == Over::Quic { format!("{test} over QUIC") } else { test.clone() };
    let args = [unc.as_str(), "-p", &port, "-U", &credentials, "--fullname", "--maximum-runtime=300", test.as_str()];
    let output = run_tool("smbtorture", &args, Duration::from_secs(600)).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let results = outcomes(&stdout);
    assert!(!results.is_empty(), "smbtorture ran no test of {label}:\n{}", transcript(&output));

    let known = known_failures(suite, over);
    let mut problems = Vec::new();
    for (name, outcome) in &results {
        match (outcome, known.get(name)) {
            (Outcome::Failed(detail), None) => {
                problems.push(format!("FAILED {name}\n    {detail}\n{}", narration(&stdout, name)))
            }
            (Outcome::Passed, Some(_)) => {
                problems.push(format!("PASSED {name}, listed as a known failure: remove it from the list"))
            }
            _ => {}
        }
    }
    for name in known.keys() {
        if !results.contains_key(name) {
            problems.push(format!("{name} is a listed known failure but did not run: is its name right?"));
        }
    }
    let counts = Counts::of(&results);
    println!("{label}: {} passed, {} failed (all known), {} skipped", counts.passed, counts.failed, counts.skipped);
    if let Some(samba) = samba {
        match samba.await.expect("the Samba run") {
            Ok(samba) => {
                let baseline = Counts::of(&samba);
                println!(
                    "{label} baseline, Samba's smbd on this machine: {} passed, {} failed, {} skipped (EdgeShare: {} passed)",
                    baseline.passed, baseline.failed, baseline.skipped, counts.passed
                );
                let behind: Vec<&str> = samba
                    .iter()
                    .filter(|(name, outcome)| {
                        **outcome == Outcome::Passed && results.get(*name) != Some(&Outcome::Passed)
                    })
                    .map(|(name, _)| name.as_str())
                    .collect();
                if !behind.is_empty() {
                    println!("{label}: Samba passes, EdgeShare does not: {}", behind.join(", "));
                }
            }
            Err(why) => println!("{label} baseline: Samba's smbd could not run the suite: {why}"),
        }
    }
    assert!(problems.is_empty(), "{label}: {} problem(s)\n{}", problems.len(), problems.join("\n"));
}

/// What smbtorture printed while running `test` (its own comments, not the protocol lines),
/// indented: the steps before a failure.
fn narration(output: &str, test: &str) -> String {
    let start = format!("test: {test}");
    let mut lines = output.lines().skip_while(|line| *line != start).skip(1);
    let mut told = Vec::new();
    for line in lines.by_ref() {
        if line.starts_with("failure: ") || line.starts_with("error: ") || line.starts_with("test: ") {
            break;
        }
        if !line.starts_with("time: ") {
            told.push(format!("      | {line}"));
        }
    }
    let skip = told.len().saturating_sub(30);
    told[skip..].join("\n")
}

/// Passed, failed and skipped tests of one run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counts {
    passed: usize,
    failed: usize,
    skipped: usize,
}

impl Counts {
    fn of(results: &BTreeMap<String, Outcome>) -> Counts {
        Counts {
            passed: results.values().filter(|o| **o == Outcome::Passed).count(),
            failed: results.values().filter(|o| matches!(o, Outcome::Failed(_))).count(),
            skipped: results.values().filter(|o| **o == Outcome::Skipped).count(),
        }
    }
}

/// Samba's smbd, as `scripts/samba-peer.sh` runs it: its own directory, a free loopback port,
/// the share options durable handles need in Samba (no kernel oplocks, share modes or POSIX
/// locks). Stopped when dropped.
struct SambaPeer {
    dir: tempfile::TempDir,
    port: u16,
}

const SAMBA_USER: &str = "edgeshare-torture";
const SAMBA_PASSWORD: &str = "Torture-Pass-1";

/// One peer starts at a time (they share the Unix user the script creates).
static SAMBA_STARTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl SambaPeer {
    fn script() -> String {
        format!("{}/../scripts/samba-peer.sh", env!("CARGO_MANIFEST_DIR"))
    }

    async fn start() -> Result<SambaPeer, String> {
        let _one_at_a_time = SAMBA_STARTS.lock().await;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let share = dir.path().join("share");
        std::fs::create_dir_all(&share).map_err(|e| e.to_string())?;
        std::fs::set_permissions(&share, std::os::unix::fs::PermissionsExt::from_mode(0o777))
            .map_err(|e| e.to_string())?;
        let port = support::kerberos::free_port();
        let output = tokio::process::Command::new(Self::script())
            .args(["start", &dir.path().join("peer").to_string_lossy(), &port.to_string(), SAMBA_USER, SAMBA_PASSWORD])
            .arg(&share)
            .env("SAMBA_PEER_SHARE_OPTIONS", "kernel oplocks = no\nkernel share modes = no\nposix locking = no")
            .output()
            .await
            .map_err(|e| e.to_string())?;
        if !output.status.success() {
            return Err(transcript(&output));
        }
        Ok(SambaPeer { dir, port })
    }
}

impl Drop for SambaPeer {
    fn drop(&mut self) {
        let _ = std::process::Command::new(Self::script())
            .args(["stop", &self.dir.path().join("peer").to_string_lossy()])
            .output();
    }
}

/// The suite run against Samba's smbd: its counts.
async fn samba_counts(suite: &str) -> Result<BTreeMap<String, Outcome>, String> {
    let peer = SambaPeer::start().await?;
    let test = format!("smb2.{suite}");
    let credentials = format!("{SAMBA_USER}%{SAMBA_PASSWORD}");
    let port = peer.port.to_string();
    let args =
        ["//127.0.0.1/share", "-p", &port, "-U", &credentials, "--fullname", "--maximum-runtime=300", test.as_str()];
    let output = run_tool("smbtorture", &args, Duration::from_secs(600)).await;
    let results = outcomes(&String::from_utf8_lossy(&output.stdout));
    if results.is_empty() {
        return Err(transcript(&output));
    }
    Ok(results)
}

macro_rules! suites {
    ($over:expr; $($name:ident => $suite:literal,)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                suite_passes($suite, $over).await;
            }
        )*
    };
}

suites! { Over::Tcp;
    smb2_connect_passes => "connect",
    smb2_tcon_passes => "tcon",
    smb2_mkdir_passes => "mkdir",
    smb2_read_passes => "read",
    smb2_rw_passes => "rw",
    smb2_dir_passes => "dir",
    smb2_getinfo_passes => "getinfo",
    smb2_setinfo_passes => "setinfo",
    smb2_create_passes => "create",
    smb2_rename_passes => "rename",
    smb2_compound_passes => "compound",
    smb2_compound_find_passes => "compound_find",
    smb2_compound_async_passes => "compound_async",
    smb2_credits_passes => "credits",
    smb2_session_id_passes => "session-id",
    smb2_lock_passes => "lock",
    smb2_ioctl_passes => "ioctl",
    smb2_sharemode_passes => "sharemode",
    smb2_deny_passes => "deny",
    smb2_openattr_passes => "openattr",
    smb2_winattr_passes => "winattr",
    smb2_sdread_passes => "sdread",
    smb2_timestamps_passes => "timestamps",
    smb2_delete_on_close_perms_passes => "delete-on-close-perms",
    smb2_maximum_allowed_passes => "maximum_allowed",
    smb2_secleak_passes => "secleak",
}

macro_rules! suites_beside_samba {
    ($($name:ident => $suite:literal,)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                suite_passes_beside_samba($suite).await;
            }
        )*
    };
}

suites_beside_samba! {
    smb2_session_passes => "session",
    smb2_multichannel_passes => "multichannel",
    smb2_durable_open_passes => "durable-open",
    smb2_durable_v2_open_passes => "durable-v2-open",
    smb2_replay_passes => "replay",
    smb2_lease_passes => "lease",
    smb2_oplock_passes => "oplock",
}

suites! { Over::Quic;
    smb2_connect_passes_over_quic => "connect",
    smb2_read_passes_over_quic => "read",
    smb2_rw_passes_over_quic => "rw",
    smb2_dir_passes_over_quic => "dir",
    smb2_create_passes_over_quic => "create",
    smb2_compound_passes_over_quic => "compound",
    smb2_credits_passes_over_quic => "credits",
    smb2_lock_passes_over_quic => "lock",
    smb2_getinfo_passes_over_quic => "getinfo",
    smb2_setinfo_passes_over_quic => "setinfo",
}

#[test]
fn subunit_outcomes_count_unfinished_tests_as_failed() {
    let output = "test: smb2.x.a\nsuccess: smb2.x.a\ntest: smb2.x.b\nfailure: smb2.x.b [\nline 1\n]\n\
                  test: smb2.x.c\nskip: smb2.x.c [\nwhy\n]\ntest: smb2.x.d\n";
    let results = outcomes(output);
    assert_eq!(results["smb2.x.a"], Outcome::Passed);
    assert_eq!(results["smb2.x.b"], Outcome::Failed("line 1".into()));
    assert_eq!(results["smb2.x.c"], Outcome::Skipped);
    assert!(matches!(results["smb2.x.d"], Outcome::Failed(_)));
}

#[test]
fn every_known_failure_names_a_test_of_an_allowed_suite_and_gives_a_reason() {
    let lines = KNOWN_FAILURES.lines().chain(QUIC_KNOWN_FAILURES.lines());
    for line in lines.map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (name, reason) = line.split_once(" | ").expect("name | reason");
        assert!(name.starts_with("smb2."), "{name}");
        assert!(reason.len() > 15, "{name}: give a real reason");
    }
}
