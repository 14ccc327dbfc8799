//! The server facing hostile clients: every resource a client can make it hold has a limit and a
//! deadline, before and after sign-in. Each test attacks one of them (from its own loopback
//! address, every loop bounded in count and time), checks that the server's memory and
//! descriptors stay within the budget, and that a legitimate client (smbclient, from 127.0.0.1)
//! keeps working while the attack goes on.

mod support;

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use smb_core::Access;
use smb_core::engine::access;
use smb_core::proto::create::{CreateRequest, disposition, share_access};
use smb_core::proto::header::Command;
use smb_core::proto::read::ReadRequest;
use smb_core::proto::status::NtStatus;
use smb_core::proto::write::WriteRequest;
use smb_core::proto::{FileId, Writer};
use support::raw::{Raw, chain_statuses, connect_from};
use support::{PASSWORD, SmbServer, USER, run_tool, transcript};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const LIMIT: Duration = Duration::from_secs(30);

/// Where each attack comes from: an address of its own in 127.0.0.0/8.
fn attacker(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 10 + n))
}

/// This process's resident memory, in MiB (the server runs in it, as `edgeshare serve` would).
fn rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .expect("VmRSS");
    kib / 1024
}

/// Descriptors this process holds now.
fn descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// How often the server's limit named `name` has refused something.
fn refused(server: &SmbServer, name: &str) -> u64 {
    server.engine.refusals().into_iter().find(|(limit, _)| limit.name() == name).map_or(0, |(_, count)| count)
}

/// A server with the share `data` holding `file.bin` (1 MiB) for alice.
async fn server() -> SmbServer {
    let server = SmbServer::start().await;
    let path = server.share("data", Access::Full).await;
    std::fs::write(path.join("file.bin"), vec![0x5A; 1 << 20]).unwrap();
    server
}

/// smbclient, from 127.0.0.1, lists the share and reads its file: the legitimate client.
async fn legitimate_client_works(server: &SmbServer) {
    let port = server.port();
    let credentials = server.credentials();
    let output = run_tool(
        "smbclient",
        &[&server.unc("data"), "-p", &port, "-U", &credentials, "-c", "ls; get file.bin /dev/null"],
        LIMIT,
    )
    .await;
    assert!(
        output.status.success() && String::from_utf8_lossy(&output.stdout).contains("file.bin"),
        "the legitimate client failed during the attack:\n{}",
        transcript(&output)
    );
}

/// Whether the server has closed `stream` (or closes it within `wait`).
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut byte = [0_u8; 1];
    matches!(tokio::time::timeout(wait, stream.read(&mut byte)).await, Ok(Ok(0) | Err(_)))
}

/// How many of `streams` the server closes within `wait` each.
async fn count_closed(streams: &mut [TcpStream], wait: Duration) -> usize {
    let mut closed = 0;
    for stream in streams {
        if closed_within(stream, wait).await {
            closed += 1;
        }
    }
    closed
}

/// Waits until `condition` holds, for at most `wait`.
async fn eventually(wait: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + wait;
    while Instant::now() < until {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    condition()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_connections_are_closed_at_the_preauth_deadline_while_a_real_client_works() {
    let server = server().await;
    server.set("limit_connections_per_client", "1000").await;
    server.set("limit_preauth_timeout_seconds", "3").await;
    let (rss, fds) = (rss_mib(), descriptors());
    let mut silent = Vec::new();
    for _ in 0..500 {
        silent.push(connect_from(attacker(1), server.address).await.expect("connect"));
    }
    legitimate_client_works(&server).await;
    for stream in &mut silent {
        assert!(closed_within(stream, Duration::from_secs(10)).await, "a silent connection outlived the deadline");
    }
    assert!(refused(&server, "preauth_timeout") >= 500);
    drop(silent);
    assert!(eventually(LIMIT, || server.engine.connection_counts().0 == 0).await, "the server forgot none");
    assert!(descriptors() <= fds + 16, "descriptors: {fds} before, {} after", descriptors());
    assert!(rss_mib() < rss + 64, "memory: {rss} MiB before, {} MiB after", rss_mib());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_per_client_and_server_limits_are_refused_and_others_still_connect() {
    let server = server().await;
    server.set("limit_connections_per_client", "20").await;
    let mut held = Vec::new();
    for _ in 0..40 {
        held.push(connect_from(attacker(2), server.address).await.expect("connect"));
    }
    let refused_now = count_closed(&mut held, Duration::from_millis(300)).await;
    assert_eq!(refused_now, 20, "the 20 connections past the client's limit are refused at once");
    assert_eq!(refused(&server, "connections_per_client"), 20);
    legitimate_client_works(&server).await;

    // The server's own limit covers every address together (the legitimate client gone).
    assert!(eventually(LIMIT, || server.engine.connection_counts().0 == 20).await);
    server.set("limit_connections", "25").await;
    let mut others = Vec::new();
    for _ in 0..10 {
        others.push(connect_from(attacker(3), server.address).await.expect("connect"));
    }
    let refused_then = count_closed(&mut others, Duration::from_millis(300)).await;
    assert_eq!(refused_then, 5, "20 held + 5 admitted reach the server's limit of 25");
    drop((held, others));
    server.set("limit_connections", "4096").await;
    legitimate_client_works(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_too_large_for_an_unauthenticated_client_are_refused_before_they_are_buffered() {
    let server = server().await;
    // Each of the 100 connections is to meet the frame limit, not the repeat-offender refusal.
    server.set("limit_offences_per_minute", "0").await;
    let rss = rss_mib();
    let mut floods = Vec::new();
    for _ in 0..100 {
        let mut stream = connect_from(attacker(4), server.address).await.expect("connect");
        // A frame announcing 9 MiB, then 1 MiB of it.
        stream.write_all(&[0, 0x90, 0, 0]).await.unwrap();
        let _ = stream.write_all(&vec![0xFE; 1 << 20]).await;
        floods.push(stream);
    }
    for stream in &mut floods {
        assert!(closed_within(stream, Duration::from_secs(5)).await, "an oversized frame was waited for");
    }
    assert!(refused(&server, "preauth_message_size") >= 100);
    legitimate_client_works(&server).await;
    assert!(rss_mib() < rss + 64, "memory: {rss} MiB before, {} MiB after", rss_mib());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_that_keeps_offending_is_refused_new_connections_before_any_work_and_others_are_not() {
    let server = server().await;
    // 30 oversized frames before sign-in, one connection after another: 30 offences.
    for _ in 0..30 {
        let mut stream = connect_from(attacker(7), server.address).await.expect("connect");
        let _ = stream.write_all(&[0, 0x90, 0, 0]).await;
        assert!(closed_within(&mut stream, Duration::from_secs(5)).await, "an oversized frame was waited for");
    }
    assert!(refused(&server, "repeat_offender") >= 1, "the default is 20 offences a minute");
    // A new connection from that address, silent, is closed at once (not at the 30 s deadline).
    let mut next = connect_from(attacker(7), server.address).await.expect("connect");
    assert!(closed_within(&mut next, Duration::from_secs(1)).await, "the offender was admitted");
    // Another address, and the legitimate client, are not affected.
    let mut neighbour = connect_from(attacker(8), server.address).await.expect("connect");
    assert!(!closed_within(&mut neighbour, Duration::from_secs(1)).await, "an innocent address was refused");
    legitimate_client_works(&server).await;
    // The administrator can turn the refusal off, live.
    server.set("limit_offences_per_minute", "0").await;
    let mut again = connect_from(attacker(7), server.address).await.expect("connect");
    assert!(!closed_within(&mut again, Duration::from_secs(1)).await, "still refused with the refusal off");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ins_left_unfinished_are_bounded_per_connection() {
    let server = server().await;
    let stream = connect_from(attacker(5), server.address).await.expect("connect");
    stream.set_nodelay(true).unwrap();
    let mut raw = Raw::new(stream);
    raw.negotiate().await.unwrap();
    let mut statuses = Vec::new();
    for _ in 0..200 {
        statuses.push(raw.start_session().await.expect("an answer").header.status);
    }
    let started = statuses.iter().filter(|s| **s == NtStatus::MORE_PROCESSING_REQUIRED).count();
    let refused_sessions = statuses.iter().filter(|s| **s == NtStatus::INSUFFICIENT_RESOURCES).count();
    assert_eq!((started, refused_sessions), (8, 192), "{statuses:?}");
    assert_eq!(refused(&server, "sessions"), 192);
    legitimate_client_works(&server).await;
}

/// Opens `file.bin` of the share for reading; its id.
async fn open_file(raw: &mut Raw, name: &str) -> FileId {
    raw.create(CreateRequest {
        desired_access: access::GENERIC_READ,
        share_access: share_access::READ | share_access::WRITE,
        create_disposition: disposition::OPEN,
        name: name.into(),
        ..Default::default()
    })
    .await
    .expect("open")
}

/// A READ request of `length` bytes at `offset`.
fn read(raw: &mut Raw, file_id: FileId, length: u32, offset: u64) -> Writer {
    let mut out = raw.request(Command::READ, length.div_ceil(64 << 10) as u16);
    ReadRequest { length, offset, file_id, ..Default::default() }.encode(&mut out);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_reads_none_of_its_responses_is_held_to_its_budget_and_dropped() {
    let server = server().await;
    server.set("limit_send_timeout_seconds", "3").await;
    server.set("limit_queued_response_mib", "8").await;
    let unc = "\\\\127.0.0.1\\data";
    let mut raw = Raw::signed_in(attacker(6), server.address, USER, PASSWORD, unc).await.expect("sign in");
    raw.gather_credits(4000).await.unwrap();
    let file_id = open_file(&mut raw, "file.bin").await;
    let rss = rss_mib();
    // 240 READs of 1 MiB (240 MiB of answers), none of them read.
    let mut sent = 0;
    for _ in 0..240 {
        let out = read(&mut raw, file_id, 1 << 20, 0);
        match tokio::time::timeout(Duration::from_secs(5), raw.send(out)).await {
            Ok(Ok(())) => sent += 1,
            _ => break,
        }
    }
    assert!(sent > 8, "the requests themselves are taken ({sent})");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let peak = rss_mib();
    legitimate_client_works(&server).await;
    assert!(
        eventually(LIMIT, || refused(&server, "send_timeout") >= 1).await,
        "a client that reads nothing is dropped after the send timeout"
    );
    assert!(peak < rss + 96, "queued answers: {rss} MiB before, {peak} MiB while unread");
    drop(raw);
    assert!(eventually(LIMIT, || server.engine.connection_counts().0 == 0).await);
}

/// Chains `requests` into one compound (MS-SMB2 3.2.4.1.4), each signed.
fn compound(raw: &Raw, requests: Vec<Writer>) -> Vec<u8> {
    let count = requests.len();
    let mut chain = Vec::new();
    for (index, request) in requests.into_iter().enumerate() {
        let mut message = request.into_vec();
        if index + 1 < count {
            message.resize(message.len().next_multiple_of(8), 0);
            let next = message.len() as u32;
            message[20..24].copy_from_slice(&next.to_le_bytes());
        }
        raw.sign(&mut message);
        chain.extend_from_slice(&message);
    }
    chain
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compound_of_large_reads_is_answered_within_one_message() {
    let server = server().await;
    let path = server.dir.path().join("shares/data/big.bin");
    std::fs::File::create(&path).unwrap().set_len(8 << 20).unwrap();
    let unc = "\\\\127.0.0.1\\data";
    let mut raw = Raw::signed_in(attacker(7), server.address, USER, PASSWORD, unc).await.expect("sign in");
    raw.gather_credits(7800).await.unwrap();
    let file_id = open_file(&mut raw, "big.bin").await;
    let rss = rss_mib();
    let reads: Vec<Writer> = (0..60).map(|_| read(&mut raw, file_id, 8 << 20, 0)).collect();
    let chain = compound(&raw, reads);
    assert!(chain.len() < 8_000, "a small request ({} bytes)", chain.len());
    raw.send_message(&chain).await.unwrap();
    let response = tokio::time::timeout(LIMIT, raw.receive()).await.expect("an answer").expect("a response");
    let statuses = chain_statuses(&response.message);
    assert_eq!(statuses.len(), 60, "every request is answered");
    assert_eq!(statuses[0], NtStatus::SUCCESS);
    assert!(statuses[1..].iter().all(|s| *s == NtStatus::INSUFFICIENT_RESOURCES), "{statuses:?}");
    assert!(response.message.len() <= (8 << 20) + (1 << 20), "one message: {} bytes", response.message.len());
    assert!(rss_mib() < rss + 96, "memory: {rss} MiB before, {} MiB after", rss_mib());
    legitimate_client_works(&server).await;
}

/// An RPC REQUEST fragment (C706 12.6.4.9) of `stub`, the first of its call or not, never the last.
fn rpc_fragment(first: bool, stub: &[u8]) -> Vec<u8> {
    let length = 16 + 8 + stub.len();
    let mut pdu = vec![5, 0, 0, u8::from(first), 0x10, 0, 0, 0];
    pdu.extend_from_slice(&(length as u16).to_le_bytes());
    pdu.extend_from_slice(&0_u16.to_le_bytes());
    pdu.extend_from_slice(&1_u32.to_le_bytes());
    pdu.extend_from_slice(&(stub.len() as u32).to_le_bytes());
    pdu.extend_from_slice(&0_u16.to_le_bytes());
    pdu.extend_from_slice(&15_u16.to_le_bytes());
    pdu.extend_from_slice(stub);
    pdu
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_fragments_without_a_last_one_are_not_reassembled_past_the_limit() {
    let server = server().await;
    let unc = "\\\\127.0.0.1\\IPC$";
    let mut raw = Raw::signed_in(attacker(8), server.address, USER, PASSWORD, unc).await.expect("sign in");
    let pipe = raw
        .create(CreateRequest {
            desired_access: access::GENERIC_READ | access::GENERIC_WRITE,
            share_access: share_access::READ | share_access::WRITE,
            create_disposition: disposition::OPEN,
            name: "srvsvc".into(),
            ..Default::default()
        })
        .await
        .expect("the srvsvc pipe");
    let rss = rss_mib();
    let stub = vec![0xAB; 60_000];
    // 1,000 fragments of 60 KB: 60 MB of one call that never ends.
    for index in 0..1000 {
        let fragment = rpc_fragment(index == 0, &stub);
        let mut out = raw.request(Command::WRITE, 1);
        WriteRequest { file_id: pipe, data: &fragment, ..Default::default() }.encode(&mut out);
        raw.send(out).await.unwrap();
        let answer = raw.receive().await.unwrap();
        assert_eq!(answer.header.status, NtStatus::SUCCESS, "fragment {index}");
    }
    assert_eq!(refused(&server, "rpc_call_size"), 1, "refused once, the rest of the call dropped");
    assert!(rss_mib() < rss + 32, "memory: {rss} MiB before, {} MiB after", rss_mib());
    legitimate_client_works(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opens_past_the_session_limit_fail_with_too_many_opened_files() {
    let server = server().await;
    server.set("limit_opens_per_session", "16").await;
    let unc = "\\\\127.0.0.1\\data";
    let mut raw = Raw::signed_in(attacker(9), server.address, USER, PASSWORD, unc).await.expect("sign in");
    let fds = descriptors();
    let mut statuses = Vec::new();
    for _ in 0..40 {
        let opened = raw
            .create(CreateRequest {
                desired_access: access::GENERIC_READ,
                share_access: share_access::READ | share_access::WRITE,
                create_disposition: disposition::OPEN,
                name: "file.bin".into(),
                ..Default::default()
            })
            .await;
        statuses.push(opened.err().unwrap_or(NtStatus::SUCCESS));
    }
    assert_eq!(statuses.iter().filter(|s| **s == NtStatus::SUCCESS).count(), 16, "{statuses:?}");
    assert!(statuses[16..].iter().all(|s| *s == NtStatus::TOO_MANY_OPENED_FILES), "{statuses:?}");
    assert!(descriptors() <= fds + 20, "descriptors: {fds} before, {} after", descriptors());
    legitimate_client_works(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_share_can_neither_contain_nor_sit_inside_the_data_directory() {
    let server = SmbServer::start().await;
    let data = server.dir.path().join("data");
    std::fs::create_dir_all(data.join("inside")).unwrap();
    for path in [server.dir.path().to_owned(), data.clone(), data.join("inside")] {
        let share = smb_core::ShareConfig {
            name: "leak".into(),
            path: path.clone(),
            description: String::new(),
            permissions: vec![(USER.into(), Access::Full)],
            encrypt_data: false,
            access_based_enumeration: false,
            max_users: None,
            continuous_availability: false,
        };
        let error = app::backend::smb::add_share(&server.db, &share).await.expect_err("refused");
        assert!(error.for_field("path").is_some_and(|m| m.contains("data directory")), "{}: {error}", path.display());
    }
    assert!(app::backend::smb::list_shares(&server.db).await.unwrap().is_empty(), "nothing was stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_read_nothing_share_one_server_budget_and_make_room_for_those_who_read() {
    let server = server().await;
    server.set("limit_queued_response_total_mib", "16").await;
    let unc = "\\\\127.0.0.1\\data";
    let rss = rss_mib();
    let mut attackers = Vec::new();
    for n in 0..8 {
        let mut raw = Raw::signed_in(attacker(20 + n), server.address, USER, PASSWORD, unc).await.expect("sign in");
        raw.gather_credits(2000).await.unwrap();
        let file_id = open_file(&mut raw, "file.bin").await;
        for _ in 0..100 {
            let out = read(&mut raw, file_id, 1 << 20, 0);
            if tokio::time::timeout(Duration::from_secs(5), raw.send(out)).await.is_err() {
                break;
            }
        }
        attackers.push(raw);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let peak = rss_mib();
    // The server's budget is full of answers no one reads: the readers still get theirs.
    legitimate_client_works(&server).await;
    assert!(peak < rss + 96, "8 clients x 100 MiB of unread answers: {rss} MiB before, {peak} MiB after");
    assert!(
        eventually(Duration::from_secs(20), || refused(&server, "send_timeout") >= 4).await,
        "under pressure, clients that read nothing are dropped after the short send timeout"
    );
    drop(attackers);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_cannot_flood_the_audit_log_and_long_names_are_cut() {
    let server = server().await;
    let recorder = server::engine::record_events(server.db.clone(), &server.engine);
    let stream = connect_from(attacker(30), server.address).await.expect("connect");
    stream.set_nodelay(true).unwrap();
    let mut raw = Raw::new(stream);
    raw.negotiate().await.unwrap();
    let long = "x".repeat(30_000);
    for n in 0..300 {
        let name = if n == 0 { long.clone() } else { format!("nobody{n}") };
        assert!(raw.sign_in(&name, "a wrong password").await.is_err(), "{n} signed in");
    }
    legitimate_client_works(&server).await;
    let count = |action: &'static str| {
        let db = server.db.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_events WHERE action = ? AND outcome = 'failure'")
                .bind(action)
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    // Recorded one by one up to the minute's limit (the first, the longest, among them).
    tokio::time::sleep(Duration::from_secs(1)).await;
    let logons = count("smb.logon").await;
    assert!((50..=60).contains(&logons), "{logons} failed sign-ins recorded one by one");
    let longest: i64 =
        sqlx::query_scalar("SELECT MAX(LENGTH(actor)) FROM audit_events").fetch_one(&server.db).await.unwrap();
    assert!(longest < 600, "a 30,000-character name was stored whole ({longest})");
    let connects: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE action IN ('smb.connect', 'smb.disconnect')")
            .fetch_one(&server.db)
            .await
            .unwrap();
    assert_eq!(connects, 0, "connections before sign-in are counted, not audited");
    recorder.abort();
}

/// A client that leaves durable opens behind holds them only until an administrator closes them
/// from the Sessions page (the same function as the page's Close): the open is gone at once, the
/// file is free for a sharing-exclusive open, and the audit trail says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_closes_a_durable_open_that_waits_for_its_client() {
    use smb_core::proto::create::DurableContext;
    let server = server().await;
    let mut events = server.engine.subscribe();
    let mut raw =
        Raw::signed_in(IpAddr::V4(Ipv4Addr::LOCALHOST), server.address, USER, PASSWORD, "\\\\127.0.0.1\\data")
            .await
            .expect("signed in");
    let exclusive = |name: &str| CreateRequest {
        desired_access: access::GENERIC_READ | access::GENERIC_WRITE,
        share_access: 0,
        create_disposition: disposition::OPEN,
        name: name.into(),
        ..Default::default()
    };
    raw.create(CreateRequest {
        requested_oplock_level: 0x09, // batch: the caching a durable open needs
        contexts: vec![DurableContext::RequestV2 { timeout_ms: 300_000, flags: 0, create_guid: [6; 16] }.encode()],
        ..exclusive("file.bin")
    })
    .await
    .expect("a durable open");
    drop(raw);
    let waiting = || server.engine.open_files().into_iter().find(|f| f.waiting_seconds.is_some());
    assert!(eventually(Duration::from_secs(5), || waiting().is_some()).await, "{:?}", server.engine.open_files());
    let open = waiting().unwrap();
    assert!(open.durable && open.waiting_seconds.unwrap() > 200, "{open:?}");

    let closed = app::backend::sessions::close_file(&server.engine, open.connection, open.file_id).expect("closed");
    assert_eq!(closed.path, "file.bin");
    assert!(server.engine.open_files().is_empty(), "{:?}", server.engine.open_files());
    let reasons: Vec<String> = std::iter::from_fn(|| events.try_recv().ok())
        .filter_map(|event| match event {
            smb_core::Event::DurableExpired { reason, .. } => Some(reason),
            smb_core::Event::ClosedByAdministrator { what } => Some(what),
            _ => None,
        })
        .collect();
    assert!(reasons.iter().any(|r| r == "an administrator closed it"), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("waiting for its client")), "{reasons:?}");
    legitimate_client_works(&server).await;
    // Nothing of it is left: an open that shares nothing succeeds at once.
    let mut other =
        Raw::signed_in(IpAddr::V4(Ipv4Addr::LOCALHOST), server.address, USER, PASSWORD, "\\\\127.0.0.1\\data")
            .await
            .expect("signed in");
    other.create(exclusive("file.bin")).await.expect("the file is free");
}
