//! The client side of `make bench-abuse`: legitimate smbclient clients against a running
//! EdgeShare, first alone, then while 1,000 hostile connections attack it, over TCP and over QUIC
//! (smbclient reaches QUIC through `edgeshare quic bridge`). Prints a Markdown table: the
//! legitimate clients' metadata latency (median and p99) and the throughput of a 256 MiB copy,
//! with and without the attack, and the server's peak memory in each phase.
//!
//! The attack, 250 connections of each kind, each from one of ten loopback addresses of its own
//! and each reconnecting when the server drops it, until the phase ends (bounded in count and
//! time): silent (connects, sends nothing), slow (a NEGOTIATE one byte a second), flooding (a frame
//! announcing 9 MiB before sign-in, then junk), and unread (signs in, asks for 1 MiB READs and
//! never reads the answers).
//!
//! The attack runs in a child process at the lowest CPU priority (`nice -n 19`): on the internet
//! the attackers' CPU is their own, and on one machine the generator would otherwise take the
//! cores the server and its legitimate clients need, so the ratios would measure the generator.
//! The server still gets every connection, byte and handshake of the attack.
//!
//!   bench_abuse TCP_ADDR QUIC_ADDR BRIDGE_ADDR CA_DER USER PASSWORD SERVER_PID
//!   bench_abuse --attack tcp|quic TCP_ADDR ... SERVER_PID     (the child: attacks until killed)

#[path = "../tests/support/raw.rs"]
#[allow(dead_code)]
mod raw;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use quinn::crypto::rustls::QuicClientConfig;
use rustls::pki_types::CertificateDer;
use smb_core::engine::access;
use smb_core::proto::create::{CreateRequest, disposition, share_access};
use smb_core::proto::header::Command;
use smb_core::proto::read::ReadRequest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Legitimate clients running at once, each listing a directory of 1,000 files this many times.
const CLIENTS: usize = 20;
const LISTINGS: usize = 10;
/// Each phase runs the workload this many times back to back (the attack going on throughout):
/// one copy lasts a few seconds on this machine, too short a sample on its own.
const ROUNDS: usize = 5;
/// Hostile connections of each kind.
const PER_KIND: usize = 250;
/// The attack runs this long before the legitimate clients start, so that it is in full swing.
const RAMP: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Transport {
    Tcp,
    Quic,
}

struct Target {
    tcp: SocketAddr,
    quic: SocketAddr,
    bridge: SocketAddr,
    ca: Vec<u8>,
    user: String,
    password: String,
    server_pid: u32,
}

/// What the legitimate clients saw in one phase.
struct Measured {
    /// Seconds per listing that worked (a whole smbclient run: connect, sign in, list), sorted.
    listings: Vec<f64>,
    /// Listings that failed (smbclient gave up: a time-out, a refused connection).
    failed: usize,
    /// Each round's copy throughput (MiB/s), sorted; copies that failed are not in it.
    copies: Vec<f64>,
    copies_failed: usize,
    peak_rss_mib: u64,
    /// CPU seconds the server used while the legitimate clients worked, and how long they took.
    server_cpu_s: f64,
    seconds: f64,
    /// CPU seconds the attack process used meanwhile (it runs on this machine, at nice 19).
    attack_cpu_s: Option<f64>,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// CPU seconds process `pid` has used (user and system; Linux counts them in 1/100 s).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name (which is in parentheses and may hold spaces).
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let ticks = |index: usize| fields.get(index).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime: fields 14 and 15 of the line, 11 and 12 counting from 0 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

fn rss_mib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .map_or(0, |kib: u64| kib / 1024)
}

/// Runs smbclient against `address` with `commands`; its duration, or why it failed.
async fn smbclient(target: &Target, address: SocketAddr, commands: &str) -> Result<f64, String> {
    let started = Instant::now();
    let output = tokio::process::Command::new("smbclient")
        .args([
            &format!("//{}/share", address.ip()),
            "-p",
            &address.port().to_string(),
            "-U",
            &format!("{}%{}", target.user, target.password),
            "-m",
            "SMB3_11",
            "-c",
            commands,
        ])
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(300), output)
        .await
        .map_err(|_| "smbclient hung".to_owned())?
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() || text.contains("NT_STATUS_") {
        return Err(format!("smbclient failed: {text} {}", String::from_utf8_lossy(&output.stderr)));
    }
    Ok(started.elapsed().as_secs_f64())
}

/// The legitimate workload: CLIENTS clients listing, and one copying 256 MiB, all at once.
async fn workload(target: Arc<Target>, address: SocketAddr) -> Measured {
    let peak = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let cpu_before = cpu_seconds(target.server_pid);
    let started = Instant::now();
    let sampler = {
        let (peak, done, pid) = (peak.clone(), done.clone(), target.server_pid);
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss_mib(pid), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let mut listers = Vec::new();
    for _ in 0..CLIENTS {
        let target = target.clone();
        listers.push(tokio::spawn(async move {
            let mut times = Vec::new();
            for _ in 0..LISTINGS {
                times.push(smbclient(&target, address, "cd many; ls").await);
            }
            times
        }));
    }
    let copy = {
        let target = target.clone();
        tokio::spawn(async move { smbclient(&target, address, "get big.bin /dev/null").await })
    };
    let mut listings = Vec::new();
    let mut failed = 0;
    for lister in listers {
        for result in lister.await.unwrap() {
            match result {
                Ok(seconds) => listings.push(seconds),
                Err(error) => {
                    failed += 1;
                    eprintln!("a listing failed: {}", error.lines().last().unwrap_or_default());
                }
            }
        }
    }
    let (copies, copies_failed) = match copy.await.unwrap() {
        Ok(seconds) => (vec![256.0 / seconds], 0),
        Err(error) => {
            eprintln!("the copy failed: {}", error.lines().last().unwrap_or_default());
            (Vec::new(), 1)
        }
    };
    done.store(true, Ordering::Relaxed);
    let _ = sampler.await;
    listings.sort_by(f64::total_cmp);
    let server_cpu_s = cpu_seconds(target.server_pid) - cpu_before;
    let seconds = started.elapsed().as_secs_f64();
    Measured {
        listings,
        failed,
        copies,
        copies_failed,
        peak_rss_mib: peak.load(Ordering::Relaxed),
        server_cpu_s,
        seconds,
        attack_cpu_s: None,
    }
}

/// The address of hostile connection `n` (ten addresses, apart from the legitimate 127.0.0.1):
/// each transport's attack comes from addresses of its own, so that neither starts with what the
/// server remembers of the other (repeat offenders).
fn hostile_address(transport: Transport, n: usize) -> IpAddr {
    let subnet = if transport == Transport::Tcp { 1 } else { 2 };
    IpAddr::V4(Ipv4Addr::new(127, 0, subnet, (n % 10) as u8 + 1))
}

/// A QUIC client endpoint on `from`, trusting the server's CA.
fn quic_endpoint(from: IpAddr, ca: &[u8]) -> (quinn::Endpoint, quinn::ClientConfig) {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(ca.to_vec())).expect("the CA");
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"smb".to_vec()];
    let config = quinn::ClientConfig::new(Arc::new(QuicClientConfig::try_from(tls).unwrap()));
    let endpoint = quinn::Endpoint::client(SocketAddr::new(from, 0)).expect("a QUIC endpoint");
    (endpoint, config)
}

/// A byte stream to the server as hostile connection `n` sees it: TCP, or the one QUIC stream.
async fn dial(
    target: &Target,
    transport: Transport,
    n: usize,
    quic: &(quinn::Endpoint, quinn::ClientConfig),
) -> Option<Box<dyn Stream>> {
    match transport {
        Transport::Tcp => {
            let stream = raw::connect_from(hostile_address(transport, n), target.tcp).await.ok()?;
            let _ = stream.set_nodelay(true);
            Some(Box::new(stream))
        }
        Transport::Quic => {
            let connecting = quic.0.connect_with(quic.1.clone(), target.quic, "localhost").ok()?;
            let connection = tokio::time::timeout(Duration::from_secs(10), connecting).await.ok()?.ok()?;
            let (send, recv) = connection.open_bi().await.ok()?;
            Some(Box::new(QuicStream { _connection: connection, stream: tokio::io::join(recv, send) }))
        }
    }
}

trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Stream for T {}

/// A QUIC stream, keeping its connection alive.
struct QuicStream {
    _connection: quinn::Connection,
    stream: tokio::io::Join<quinn::RecvStream, quinn::SendStream>,
}

impl tokio::io::AsyncRead for QuicStream {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for QuicStream {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Waits until the server closes `stream` or the attack ends.
async fn until_closed(stream: &mut Box<dyn Stream>, stop: &AtomicBool) {
    let mut buffer = [0_u8; 4096];
    while !stop.load(Ordering::Relaxed) {
        let read = tokio::time::timeout(Duration::from_millis(500), stream.read(&mut buffer)).await;
        if let Ok(Ok(0) | Err(_)) = read {
            return;
        }
    }
}

/// A NEGOTIATE request, framed, as a slow client dribbles it.
fn negotiate_frame() -> Vec<u8> {
    use smb_core::proto::Writer;
    use smb_core::proto::header::Header;
    use smb_core::proto::negotiate::{Dialect, NegotiateRequest};
    let mut out = Writer::new();
    Header { command: Command::NEGOTIATE, credits: 1, ..Header::default() }.encode(&mut out);
    NegotiateRequest {
        security_mode: 1,
        capabilities: 0,
        client_guid: [3; 16],
        dialects: vec![Dialect::SMB3_1_1],
        contexts: Vec::new(),
    }
    .encode(&mut out);
    let message = out.into_vec();
    let mut frame = smb_core::proto::framing::frame_header(message.len()).unwrap().to_vec();
    frame.extend_from_slice(&message);
    frame
}

/// One hostile connection of `kind`, reconnecting whenever the server drops it, until `stop`.
async fn hostile(target: Arc<Target>, transport: Transport, kind: usize, n: usize, stop: Arc<AtomicBool>) {
    let quic = quic_endpoint(hostile_address(transport, n), &target.ca);
    while !stop.load(Ordering::Relaxed) {
        let Some(mut stream) = dial(&target, transport, n, &quic).await else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        match kind {
            // Silent.
            0 => until_closed(&mut stream, &stop).await,
            // Slow: one byte a second.
            1 => {
                for byte in negotiate_frame() {
                    if stop.load(Ordering::Relaxed) || stream.write_all(&[byte]).await.is_err() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                until_closed(&mut stream, &stop).await;
            }
            // Flooding: a 9 MiB frame before sign-in.
            2 => {
                let _ = stream.write_all(&[0, 0x90, 0, 0]).await;
                let _ = stream.write_all(&vec![0xEE; 1 << 20]).await;
                until_closed(&mut stream, &stop).await;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            // Unread: signed in, asking for answers it never reads.
            _ => unread(&target, stream, &stop).await,
        }
    }
}

async fn unread(target: &Target, stream: Box<dyn Stream>, stop: &AtomicBool) {
    let mut client = raw::Raw::new(stream);
    let signed_in = async {
        client.negotiate().await?;
        client.sign_in(&target.user, &target.password).await?;
        client.tree_connect("\\\\localhost\\share").await?;
        client.gather_credits(2000).await
    };
    if signed_in.await.is_err() {
        tokio::time::sleep(Duration::from_millis(200)).await;
        return;
    }
    let request = CreateRequest {
        desired_access: access::FILE_READ_DATA,
        share_access: share_access::READ,
        create_disposition: disposition::OPEN,
        name: "big.bin".into(),
        ..Default::default()
    };
    let Ok(file_id) = client.create(request).await else { return };
    let mut offset = 0_u64;
    while !stop.load(Ordering::Relaxed) && client.credits >= 16 {
        let mut out = client.request(Command::READ, 16);
        ReadRequest { length: 1 << 20, offset, file_id, ..Default::default() }.encode(&mut out);
        offset = (offset + (1 << 20)) % (255 << 20);
        match tokio::time::timeout(Duration::from_secs(1), client.send(out)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return,
            // The server stopped reading: hold on, unread, until it drops us.
            Err(_) => break,
        }
    }
    hold_unread(&mut client, stop).await;
}

/// Keeps a signed-in connection without reading a byte of what it asked for, until the server
/// drops it (a write fails: the attacker then reconnects) or the attack ends. An ECHO every half
/// second finds out; once the server stops reading too, the write waits until the drop.
async fn hold_unread(client: &mut raw::Raw<Box<dyn Stream>>, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut out = client.request(Command::ECHO, 0);
        out.u16(4).u16(0);
        tokio::select! {
            sent = client.send(out) => if sent.is_err() { return },
            () = stopped(stop) => return,
        }
    }
}

/// Until the attack ends.
async fn stopped(stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn phase(target: &Arc<Target>, transport: Transport, attack: bool) -> Measured {
    let mut attacker = None;
    if attack {
        let own = std::env::current_exe().expect("the benchmark's own path");
        let which = if transport == Transport::Tcp { "tcp" } else { "quic" };
        let child = tokio::process::Command::new("nice")
            .args(["-n", "19"])
            .arg(own)
            .args(["--attack", which])
            .args(std::env::args().skip(1))
            .kill_on_drop(true)
            .spawn()
            .expect("the attack process");
        attacker = Some(child);
        tokio::time::sleep(RAMP).await;
    }
    let address = if transport == Transport::Tcp { target.tcp } else { target.bridge };
    let attack_pid = attacker.as_ref().and_then(tokio::process::Child::id);
    let attack_before = attack_pid.map(cpu_seconds);
    let mut measured = workload(target.clone(), address).await;
    for _ in 1..ROUNDS {
        let round = workload(target.clone(), address).await;
        measured.listings.extend(round.listings);
        measured.failed += round.failed;
        measured.copies.extend(round.copies);
        measured.copies_failed += round.copies_failed;
        measured.peak_rss_mib = measured.peak_rss_mib.max(round.peak_rss_mib);
        measured.server_cpu_s += round.server_cpu_s;
        measured.seconds += round.seconds;
    }
    measured.listings.sort_by(f64::total_cmp);
    measured.copies.sort_by(f64::total_cmp);
    measured.attack_cpu_s = attack_pid.zip(attack_before).map(|(pid, before)| cpu_seconds(pid) - before);
    if let Some(mut child) = attacker {
        let _ = child.kill().await;
    }
    // Let the server settle before the next phase.
    tokio::time::sleep(Duration::from_secs(2)).await;
    measured
}

/// The attack process: every hostile connection, reconnecting, until it is killed.
async fn attack(target: Arc<Target>, transport: Transport) {
    let stop = Arc::new(AtomicBool::new(false));
    let mut attackers = Vec::new();
    for kind in 0..4 {
        for n in 0..PER_KIND {
            attackers.push(tokio::spawn(hostile(target.clone(), transport, kind, n, stop.clone())));
        }
    }
    for attacker in attackers {
        let _ = attacker.await;
    }
}

fn target(args: &[String]) -> Target {
    Target {
        tcp: args[0].parse().expect("TCP address"),
        quic: args[1].parse().expect("QUIC address"),
        bridge: args[2].parse().expect("bridge address"),
        ca: std::fs::read(&args[3]).expect("the CA certificate"),
        user: args[4].clone(),
        password: args[5].clone(),
        server_pid: args[6].parse().expect("the server's pid"),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 10 && args[1] == "--attack" {
        let transport = if args[2] == "tcp" { Transport::Tcp } else { Transport::Quic };
        attack(Arc::new(target(&args[3..])), transport).await;
        return;
    }
    if args.len() != 8 {
        eprintln!("usage: bench_abuse TCP_ADDR QUIC_ADDR BRIDGE_ADDR CA_DER USER PASSWORD SERVER_PID");
        std::process::exit(2);
    }
    let target = Arc::new(target(&args[1..]));
    println!(
        "| transport | phase | listing p50 (s) | listing p99 (s) | listings failed | 256 MiB copy, median (min-max) (MiB/s) | server peak RSS (MiB) | phase (s) | server CPU (s) | attack CPU (s) |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut ratios = Vec::new();
    let copy = |m: &Measured| match (m.copies.first(), m.copies.last()) {
        (Some(low), Some(high)) => {
            let failed = if m.copies_failed > 0 { format!(", {} failed", m.copies_failed) } else { String::new() };
            format!("{:.0} ({low:.0}-{high:.0}{failed})", percentile(&m.copies, 0.5))
        }
        _ => "failed".to_owned(),
    };
    for (transport, name) in [(Transport::Tcp, "TCP"), (Transport::Quic, "QUIC")] {
        eprintln!("{name}: without attack...");
        let calm = phase(&target, transport, false).await;
        eprintln!("{name}: under attack (1,000 hostile connections)...");
        let attacked = phase(&target, transport, true).await;
        for (label, m) in [("no attack", &calm), ("1,000 hostile connections", &attacked)] {
            println!(
                "| {name} | {label} | {:.3} | {:.3} | {} of {} | {} | {} | {:.1} | {:.1} | {} |",
                percentile(&m.listings, 0.5),
                percentile(&m.listings, 0.99),
                m.failed,
                CLIENTS * LISTINGS * ROUNDS,
                copy(m),
                m.peak_rss_mib,
                m.seconds,
                m.server_cpu_s,
                m.attack_cpu_s.map_or("-".to_owned(), |s| format!("{s:.1}"))
            );
        }
        let listing_ratio = percentile(&calm.listings, 0.5) / percentile(&attacked.listings, 0.5);
        let copy_ratio = if calm.copies.is_empty() || attacked.copies.is_empty() {
            "-".to_owned()
        } else {
            format!("{:.0} %", percentile(&attacked.copies, 0.5) / percentile(&calm.copies, 0.5) * 100.0)
        };
        ratios.push(format!(
            "{name}: under attack, listings at {:.0} % of their speed (p50), the copy at {copy_ratio} of its throughput (medians)",
            listing_ratio * 100.0
        ));
    }
    println!();
    for ratio in ratios {
        println!("{ratio}");
    }
    println!(
        "\n{ROUNDS} rounds per phase of {CLIENTS} smbclient clients x {LISTINGS} listings of 1,000 files and one 256 MiB copy at once; hostile: \
         {PER_KIND} each of silent, slow, flooding and unread connections from ten loopback addresses, generated \
         at nice 19."
    );
}
