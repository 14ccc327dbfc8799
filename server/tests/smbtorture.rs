//! Samba's conformance suite, smbtorture, against EdgeShare: each suite of the allow-list runs
//! on a fresh share of a fresh server and must pass, except for the tests named in
//! `smbtorture-known-failures.txt` (each with its reason). A known failure that passes fails the
//! run too, so that the file only ever lists what really fails. The suites that apply to SMB
//! 3.1.1 run over QUIC too, through the project's TCP-to-QUIC bridge (smbtorture speaks only
//! TCP), with their own list, `smbtorture-quic-known-failures.txt`.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use smb_core::Access;
use support::{SmbServer, run_tool, transcript};

const KNOWN_FAILURES: &str = include_str!("smbtorture-known-failures.txt");
const QUIC_KNOWN_FAILURES: &str = include_str!("smbtorture-quic-known-failures.txt");

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
    let server = SmbServer::start().await;
    // As Samba by default: SMB 2.0.2 and up, so that the suites' older-dialect cases run.
    server.set("smb_min_dialect", "2.0.2").await;
    let share = format!("t_{}", suite.replace(['-', '.'], "_"));
    server.share(&share, Access::Full).await;
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
            (Outcome::Failed(detail), None) => problems.push(format!("FAILED {name}\n    {detail}")),
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
    let passed = results.values().filter(|o| **o == Outcome::Passed).count();
    let failed = results.values().filter(|o| matches!(o, Outcome::Failed(_))).count();
    let skipped = results.values().filter(|o| **o == Outcome::Skipped).count();
    println!("{label}: {passed} passed, {failed} failed (all known), {skipped} skipped");
    assert!(problems.is_empty(), "{label}: {} problem(s)\n{}", problems.len(), problems.join("\n"));
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
    smb2_session_passes => "session",
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
    smb2_durable_open_passes => "durable-open",
    smb2_durable_v2_open_passes => "durable-v2-open",
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
