//! SMB over QUIC against raw quinn, in one run on this machine (run by `scripts/bench-quic.sh`,
//! `make bench-quic`): single-stream quinn throughput with a minimal sender and receiver, then
//! reads and writes of the same amount through a running EdgeShare with two native clients (the
//! benchmark's lean client, whose quinn settings are the raw pair's, and the `smb` crate),
//! alternating ROUNDS times; medians, the SMB/raw ratios, and the CPU time each side spent per
//! GiB. Then the time from nothing to a tree connect over QUIC, and the server's memory for 100
//! concurrent QUIC sessions.
//!
//! bench_quic SERVER_ADDR CA_FILE SHARE FILE_NAME SIZE USER PASSWORD SERVER_PID SHARE_DIR

mod lean;

use std::net::SocketAddr;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use quinn::crypto::rustls::{QuicClientConfig, QuicServerConfig};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use smb::transport::{QuicCertValidationOptions, QuicConfig, TransportConfig};
use smb::{
    Client, ClientConfig, ConnectionConfig, CreateOptions, FileAccessMask, FileAttributes, FileCreateArgs, ReadAt,
    Resource, UncPath, WriteAt,
};
use smb_core::engine::files::access;
use smb_core::proto::create::{CreateRequest, disposition, share_access};

/// The name the client dials (its SNI); the server's certificate carries it.
const NAME: &str = "localhost";
/// Bytes per READ/WRITE and per raw write, and how many are in flight.
const CHUNK: usize = 8 << 20;
const IN_FLIGHT: usize = 4;

struct Setup {
    server: SocketAddr,
    ca: PathBuf,
    share: String,
    file: String,
    size: u64,
    user: String,
    password: String,
    pid: u32,
}

fn transport() -> quinn::TransportConfig {
    // The same windows EdgeShare's server uses.
    let mut transport = quinn::TransportConfig::default();
    transport.stream_receive_window((16_u32 << 20).into()).receive_window((32_u32 << 20).into()).send_window(32 << 20);
    transport
}

/// A quinn client configuration trusting `root`: TLS 1.3, ALPN `smb`, EdgeShare's windows.
fn client_config(root: CertificateDer<'static>) -> quinn::ClientConfig {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(root).unwrap();
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"smb".to_vec()];
    let mut config = quinn::ClientConfig::new(Arc::new(QuicClientConfig::try_from(tls).unwrap()));
    config.transport_config(Arc::new(transport()));
    config
}

/// A raw quinn pair on loopback: a server with a fresh self-signed certificate, and a client
/// trusting it; both with EdgeShare's transport windows, ALPN `smb`, TLS 1.3.
fn raw_pair() -> (quinn::Endpoint, quinn::Endpoint, quinn::ClientConfig) {
    let certified = rcgen::generate_simple_self_signed(vec![NAME.to_owned()]).unwrap();
    let cert = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    tls.alpn_protocols = vec![b"smb".to_vec()];
    let mut server_config = quinn::ServerConfig::with_crypto(Arc::new(QuicServerConfig::try_from(tls).unwrap()));
    server_config.transport_config(Arc::new(transport()));
    let server = quinn::Endpoint::server(server_config, "127.0.0.1:0".parse().unwrap()).unwrap();
    let client_config = client_config(cert);
    let client = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
    (server, client, client_config)
}

/// Seconds to move `size` bytes over one quinn stream, from the server to the client (`download`)
/// or the other way. With `file`, the server's end reads what it sends from that file, or writes
/// what it receives to it (created afresh), as a file server must: the baseline for the file
/// system's share of the SMB numbers.
async fn raw_transfer(size: u64, download: bool, file: Option<PathBuf>) -> f64 {
    let (server, client, config) = raw_pair();
    let address = server.local_addr().unwrap();
    let chunk = vec![0x5A_u8; CHUNK];
    let accept = tokio::spawn(async move {
        let connection = server.accept().await.unwrap().await.unwrap();
        let (mut send, mut recv) = connection.accept_bi().await.unwrap();
        let mut chunk = vec![0x5A_u8; CHUNK];
        if download {
            let source = file.map(|path| std::fs::File::open(path).unwrap());
            let mut sent = 0;
            // The client opens the stream with one byte.
            let mut first = [0_u8; 1];
            recv.read_exact(&mut first).await.unwrap();
            while sent < size {
                let n = (size - sent).min(CHUNK as u64) as usize;
                if let Some(source) = &source {
                    source.read_exact_at(&mut chunk[..n], sent).unwrap();
                }
                send.write_all(&chunk[..n]).await.unwrap();
                sent += n as u64;
            }
            send.finish().unwrap();
            let _ = send.stopped().await;
        } else {
            let target = file.map(|path| std::fs::File::create(path).unwrap());
            let mut buffer = vec![0_u8; CHUNK];
            let mut got = 0_u64;
            while let Some(n) = recv.read(&mut buffer).await.unwrap() {
                if let Some(target) = &target {
                    target.write_all_at(&buffer[..n], got).unwrap();
                }
                got += n as u64;
            }
            assert_eq!(got, size);
            send.write_all(&[1]).await.unwrap();
            send.finish().unwrap();
            let _ = send.stopped().await;
        }
        connection.closed().await;
    });
    let connection = client.connect_with(config, address, NAME).unwrap().await.unwrap();
    let (mut send, mut recv) = connection.open_bi().await.unwrap();
    let start = Instant::now();
    if download {
        send.write_all(&[1]).await.unwrap();
        let mut buffer = vec![0_u8; CHUNK];
        let mut got = 0_u64;
        while let Some(n) = recv.read(&mut buffer).await.unwrap() {
            got += n as u64;
        }
        assert_eq!(got, size);
    } else {
        let mut left = size;
        while left > 0 {
            let n = left.min(CHUNK as u64) as usize;
            send.write_all(&chunk[..n]).await.unwrap();
            left -= n as u64;
        }
        send.finish().unwrap();
        let mut ack = [0_u8; 1];
        recv.read_exact(&mut ack).await.unwrap();
    }
    let seconds = start.elapsed().as_secs_f64();
    connection.close(0_u8.into(), b"");
    let _ = accept.await;
    client.wait_idle().await;
    seconds
}

fn smb_client(setup: &Setup) -> Client {
    Client::new(ClientConfig {
        dfs: false,
        connection: ConnectionConfig {
            port: Some(setup.server.port()),
            timeout: Some(Duration::from_secs(60)),
            smb2_only_negotiate: true,
            transport: TransportConfig::Quic(QuicConfig {
                local_address: None,
                cert_validation: QuicCertValidationOptions::CustomRootCerts(vec![
                    setup.ca.to_string_lossy().into_owned(),
                ]),
            }),
            ..Default::default()
        },
        ..Default::default()
    })
}

/// A client connected to the share. smb 0.12.1 sometimes loses the race between EdgeShare's
/// signed final SESSION_SETUP response and its own key setup over QUIC; such attempts are retried.
async fn connect(setup: &Setup) -> (Client, UncPath) {
    let unc = UncPath::new(NAME).unwrap().with_share(&setup.share).unwrap();
    for _ in 0..10 {
        let client = smb_client(setup);
        match client.share_connect(&unc, &setup.user, setup.password.clone()).await {
            Ok(()) => return (client, unc),
            Err(error) if format!("{error:?}").contains("phase: SignVerify, session_id") => {
                let _ = client.close().await;
            }
            Err(error) => panic!("connecting over QUIC failed: {error:?}"),
        }
    }
    panic!("connecting over QUIC kept failing");
}

async fn open(client: &Client, path: &UncPath, args: &FileCreateArgs) -> smb::File {
    match client.create_file(path, args).await.unwrap() {
        Resource::File(file) => file,
        _ => panic!("{path} is not a file"),
    }
}

/// Seconds to read the whole file (IN_FLIGHT reads of CHUNK bytes at a time).
async fn smb_read(setup: &Setup) -> f64 {
    let (client, share) = connect(setup).await;
    let path = share.with_path(&setup.file);
    let file =
        open(&client, &path, &FileCreateArgs::make_open_existing(FileAccessMask::new().with_generic_read(true))).await;
    let start = Instant::now();
    let offsets: Vec<u64> = (0..setup.size).step_by(CHUNK).collect();
    let file_ref = &file;
    let total: usize = futures::stream::iter(offsets)
        .map(|offset| async move {
            let mut buffer = vec![0_u8; CHUNK];
            let mut done = 0;
            while done < CHUNK && offset + (done as u64) < setup.size {
                let n = file_ref.read_at(&mut buffer[done..], offset + done as u64).await.unwrap();
                if n == 0 {
                    break;
                }
                done += n;
            }
            done
        })
        .buffer_unordered(IN_FLIGHT)
        .fold(0, |sum, n| async move { sum + n })
        .await;
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(total as u64, setup.size, "read the whole file");
    file.close().await.unwrap();
    client.close().await.unwrap();
    seconds
}

/// Seconds to write a file of the same size (IN_FLIGHT writes of CHUNK bytes at a time).
async fn smb_write(setup: &Setup) -> f64 {
    let (client, share) = connect(setup).await;
    let path = share.with_path("bench-upload.bin");
    let args = FileCreateArgs::make_overwrite(FileAttributes::new(), CreateOptions::new());
    let file = open(&client, &path, &args).await;
    let chunk = vec![0xA5_u8; CHUNK];
    let start = Instant::now();
    let offsets: Vec<u64> = (0..setup.size).step_by(CHUNK).collect();
    let (file_ref, chunk_ref) = (&file, &chunk);
    let total: usize = futures::stream::iter(offsets)
        .map(|offset| async move {
            let length = (setup.size - offset).min(CHUNK as u64) as usize;
            let mut done = 0;
            while done < length {
                done += file_ref.write_at(&chunk_ref[done..length], offset + done as u64).await.unwrap();
            }
            done
        })
        .buffer_unordered(IN_FLIGHT)
        .fold(0, |sum, n| async move { sum + n })
        .await;
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(total as u64, setup.size, "wrote the whole file");
    file.close().await.unwrap();
    client.close().await.unwrap();
    seconds
}

/// The lean client connected to the share (see lean.rs).
async fn lean_connect(setup: &Setup) -> lean::Lean {
    let ca = std::fs::read(&setup.ca).expect("CA_FILE");
    lean::Lean::connect(
        setup.server,
        NAME,
        client_config(CertificateDer::from(ca)),
        &setup.user,
        &setup.password,
        &setup.share,
    )
    .await
    .expect("the lean client connects")
}

/// Seconds for the lean client to read the whole file.
async fn lean_read(setup: &Setup) -> f64 {
    let mut client = lean_connect(setup).await;
    let file = client
        .create(CreateRequest {
            desired_access: access::FILE_READ_DATA,
            share_access: share_access::READ,
            create_disposition: disposition::OPEN,
            name: setup.file.clone(),
            ..Default::default()
        })
        .await
        .expect("open the file");
    let start = Instant::now();
    let total = client.read_all(file, setup.size, CHUNK, IN_FLIGHT).await.expect("read");
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(total, setup.size, "read the whole file");
    client.close(file).await.expect("close");
    client.finish().await;
    seconds
}

/// Seconds for the lean client to write a file of the same size.
async fn lean_write(setup: &Setup) -> f64 {
    let mut client = lean_connect(setup).await;
    let file = client
        .create(CreateRequest {
            desired_access: access::FILE_WRITE_DATA,
            create_disposition: disposition::OVERWRITE_IF,
            name: "bench-upload.bin".into(),
            ..Default::default()
        })
        .await
        .expect("create the file");
    let chunk = vec![0xA5_u8; CHUNK];
    let start = Instant::now();
    let total = client.write_all(file, setup.size, &chunk, IN_FLIGHT).await.expect("write");
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(total, setup.size, "wrote the whole file");
    client.close(file).await.expect("close");
    client.finish().await;
    seconds
}

/// CPU seconds (user + system) process `pid` has used so far ("self" for this one), from
/// /proc/PID/stat in USER_HZ ticks (100 per second on Linux).
fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name (which may hold spaces) start with the state (field 3).
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15: indices 11 and 12 after the state.
    (ticks(11) + ticks(12)) as f64 / 100.0
}

/// One timed transfer: its seconds and the CPU seconds this process (the client, or both ends
/// of the raw pair) and the server spent on it.
#[derive(Clone, Copy)]
struct Sample {
    seconds: f64,
    client_cpu: f64,
    server_cpu: f64,
}

async fn measure(server_pid: u32, transfer: impl std::future::Future<Output = f64>) -> Sample {
    let server = server_pid.to_string();
    let (client_before, server_before) = (cpu_seconds("self"), cpu_seconds(&server));
    let seconds = transfer.await;
    Sample {
        seconds,
        client_cpu: cpu_seconds("self") - client_before,
        server_cpu: cpu_seconds(&server) - server_before,
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0)
}

/// What each row measures; `raw` and `raw_file` are the rows it is compared with.
struct Case {
    name: &'static str,
    raw: usize,
    raw_file: usize,
}

const CASES: [Case; 8] = [
    Case { name: "raw quinn, server to client", raw: 0, raw_file: 1 },
    Case { name: "raw quinn, server to client, server reading a tmpfs file", raw: 0, raw_file: 1 },
    Case { name: "SMB READ, lean client", raw: 0, raw_file: 1 },
    Case { name: "SMB READ, smb crate", raw: 0, raw_file: 1 },
    Case { name: "raw quinn, client to server", raw: 4, raw_file: 5 },
    Case { name: "raw quinn, client to server, server writing a tmpfs file", raw: 4, raw_file: 5 },
    Case { name: "SMB WRITE, lean client", raw: 4, raw_file: 5 },
    Case { name: "SMB WRITE, smb crate", raw: 4, raw_file: 5 },
];

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [server, ca, share, file, size, user, password, pid, share_dir] = args.as_slice() else {
        eprintln!("usage: bench_quic SERVER_ADDR CA_FILE SHARE FILE_NAME SIZE USER PASSWORD SERVER_PID SHARE_DIR");
        std::process::exit(2);
    };
    let setup = Setup {
        server: server.parse().expect("SERVER_ADDR"),
        ca: Path::new(ca).to_owned(),
        share: share.clone(),
        file: file.clone(),
        size: size.parse().expect("SIZE"),
        user: user.clone(),
        password: password.clone(),
        pid: pid.parse().expect("SERVER_PID"),
    };
    let source = Path::new(share_dir).join(file);
    let upload = Path::new(share_dir).join("raw-upload.bin");
    let rounds: usize = std::env::var("ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(5);
    // ONLY=TEXT[|TEXT...] runs just the cases whose names contain one of the texts (e.g.
    // "client to server|WRITE, lean"), to compare or profile a few.
    let only = std::env::var("ONLY").ok().filter(|text| !text.is_empty());
    let mib = setup.size as f64 / f64::from(1 << 20);

    // Sessions first, while the server has not yet kept buffers of large transfers.
    let before = resident_kib(setup.pid);
    let mut clients = Vec::new();
    for _ in 0..100 {
        clients.push(connect(&setup).await.0);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = resident_kib(setup.pid);
    for client in clients {
        let _ = client.close().await;
    }
    let mut latencies = Vec::new();
    for _ in 0..20 {
        let start = Instant::now();
        let (client, _) = connect(&setup).await;
        latencies.push(start.elapsed().as_secs_f64() * 1000.0);
        client.close().await.unwrap();
    }
    let latency = median(latencies);

    let mut samples: [Vec<Sample>; 8] = Default::default();
    for round in 1..=rounds {
        eprintln!("  round {round} of {rounds}");
        let pid = setup.pid;
        for (index, case) in CASES.iter().enumerate() {
            if !only.as_deref().is_none_or(|texts| texts.split('|').any(|text| case.name.contains(text))) {
                continue;
            }
            let sample = match index {
                0 => measure(pid, raw_transfer(setup.size, true, None)).await,
                1 => measure(pid, raw_transfer(setup.size, true, Some(source.clone()))).await,
                2 => measure(pid, lean_read(&setup)).await,
                3 => measure(pid, smb_read(&setup)).await,
                4 => measure(pid, raw_transfer(setup.size, false, None)).await,
                5 => measure(pid, raw_transfer(setup.size, false, Some(upload.clone()))).await,
                6 => measure(pid, lean_write(&setup)).await,
                _ => measure(pid, smb_write(&setup)).await,
            };
            samples[index].push(sample);
        }
    }
    let _ = std::fs::remove_file(&upload);
    for (case, values) in CASES.iter().zip(&samples) {
        if values.is_empty() {
            continue;
        }
        let text: Vec<String> = values.iter().map(|s| format!("{:.3}", s.seconds)).collect();
        eprintln!("samples (s) {}: {}", case.name, text.join(" "));
    }
    let gib = setup.size as f64 / f64::from(1 << 30);
    let speed = |values: &[Sample]| mib / median(values.iter().map(|s| s.seconds).collect());
    let cpu = |values: &[Sample], of: fn(&Sample) -> f64| median(values.iter().map(of).collect()) / gib;

    println!();
    println!(
        "| case | MiB/s | ratio to raw quinn | ratio to raw quinn with the file | CPU s/GiB, client (both ends for \
         raw) | CPU s/GiB, server |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for (index, case) in CASES.iter().enumerate() {
        let values = &samples[index];
        if values.is_empty() {
            continue;
        }
        let ratio = |base: usize| {
            if samples[base].is_empty() {
                "-".to_owned()
            } else {
                format!("{:.2}", speed(values) / speed(&samples[base]))
            }
        };
        let is_smb = index % 4 >= 2;
        let server = if is_smb { format!("{:.2}", cpu(values, |s| s.server_cpu)) } else { "-".to_owned() };
        println!(
            "| {} | {:.0} | {} | {} | {:.2} | {server} |",
            case.name,
            speed(values),
            ratio(case.raw),
            ratio(case.raw_file),
            cpu(values, |s| s.client_cpu)
        );
    }
    println!();
    println!("| measure | value |");
    println!("|---|---:|");
    println!(
        "| QUIC handshake + NEGOTIATE + SESSION_SETUP + TREE_CONNECT, smb crate (median of 20, ms) | {latency:.1} |"
    );
    println!("| server memory before 100 sessions (MiB) | {:.1} |", before as f64 / 1024.0);
    println!("| server memory with 100 concurrent QUIC sessions (MiB) | {:.1} |", after as f64 / 1024.0);
    println!("| per session (KiB) | {:.0} |", after.saturating_sub(before) as f64 / 100.0);
    println!();
    println!(
        "Medians of {rounds} alternating rounds of {mib:.0} MiB on one machine (client and server share its cores); \
         one quinn stream each way with EdgeShare's windows; both SMB clients keep {IN_FLIGHT} requests of {} MiB \
         in flight and sign every request and check every response (the lean client with AES-128-GMAC); SMB \
         encryption skipped as QUIC secures the transport; loopback, files on tmpfs.",
        CHUNK >> 20
    );
}
