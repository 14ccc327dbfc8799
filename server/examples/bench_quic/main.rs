//! SMB over QUIC against raw quinn, in one run on this machine (run by `scripts/bench-quic.sh`,
//! `make bench-quic`): single-stream quinn throughput with a minimal sender and receiver (in two
//! processes, as client and server are; also in one process, for reference), then
//! reads and writes of the same amount through a running EdgeShare with two native clients (the
//! benchmark's lean client, whose quinn settings are the raw pair's, and the `smb` crate),
//! alternating ROUNDS times; medians, the SMB/raw ratios, and the CPU time each side spent per
//! GiB. Then the time from nothing to a tree connect over QUIC, and the server's memory for 100
//! concurrent QUIC sessions.
//!
//! bench_quic SERVER_ADDR CA_FILE SHARE FILE_NAME SIZE USER PASSWORD SERVER_PID SHARE_DIR
//! bench_quic raw-server SIZE download|upload [FILE]   (the raw server's end, run by the above)

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
use smb_core::engine::access;
use smb_core::proto::create::{CreateRequest, disposition, share_access};
use tokio::io::AsyncBufReadExt;

/// The name the client dials (its SNI); the server's certificate carries it.
const NAME: &str = "localhost";
/// Bytes per raw write and by default per READ/WRITE, and how many are in flight by default.
const CHUNK: usize = 8 << 20;
const IN_FLIGHT: usize = 4;

/// The SMB clients' READ/WRITE size and requests in flight: CHUNK and IN_FLIGHT unless the
/// environment sets IO_KIB and IN_FLIGHT (e.g. 1024 and 16, as Windows' copy engine does).
fn io_shape() -> (usize, usize) {
    let number = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<usize>().ok()).filter(|&n| n > 0);
    (number("IO_KIB").map_or(CHUNK, |kib| (kib << 10).min(CHUNK)), number("IN_FLIGHT").unwrap_or(IN_FLIGHT))
}

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

/// A raw quinn server endpoint on loopback with a fresh self-signed certificate for [`NAME`]
/// (EdgeShare's transport windows, ALPN `smb`, TLS 1.3), and that certificate.
fn raw_server_endpoint() -> (quinn::Endpoint, CertificateDer<'static>) {
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
    (quinn::Endpoint::server(server_config, "127.0.0.1:0".parse().unwrap()).unwrap(), cert)
}

/// The raw server's end of one transfer: accepts one connection and sends `size` bytes
/// (`download`) or receives them. With `file`, it reads what it sends from that file, or writes
/// what it receives to it (created afresh), as a file server must: the baseline for the file
/// system's share of the SMB numbers.
async fn raw_serve(server: quinn::Endpoint, size: u64, download: bool, file: Option<PathBuf>) {
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
        let mut got = 0_u64;
        while let Some(n) = recv.read(&mut chunk).await.unwrap() {
            if let Some(target) = &target {
                target.write_all_at(&chunk[..n], got).unwrap();
            }
            got += n as u64;
        }
        assert_eq!(got, size);
        send.write_all(&[1]).await.unwrap();
        send.finish().unwrap();
        let _ = send.stopped().await;
    }
    connection.closed().await;
}

/// `bench_quic raw-server SIZE download|upload [FILE]`: the raw server's end in a process of its
/// own, as a file server is. Prints its port and certificate (hex DER) on one line, serves one
/// transfer, then prints the CPU seconds it spent.
async fn raw_server_process(args: &[String]) {
    let size: u64 = args[0].parse().expect("SIZE");
    let download = args[1] == "download";
    let file = args.get(2).map(PathBuf::from);
    let (server, cert) = raw_server_endpoint();
    let port = server.local_addr().unwrap().port();
    let hex: String = cert.iter().map(|b| format!("{b:02x}")).collect();
    println!("{port} {hex}");
    let before = cpu_seconds("self");
    raw_serve(server.clone(), size, download, file).await;
    server.wait_idle().await;
    println!("{}", cpu_seconds("self") - before);
}

/// Where the raw pair's server end runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ends {
    /// Both ends on this process's runtime: no process switches, an upper bound no client and
    /// server on one machine can reach.
    OneProcess,
    /// The server end in a child process, as EdgeShare is to the SMB clients.
    TwoProcesses,
}

/// Seconds to move `size` bytes over one quinn stream, from the server to the client (`download`)
/// or the other way, and the CPU seconds of the server end when it ran in its own process.
async fn raw_transfer(size: u64, download: bool, file: Option<PathBuf>, ends: Ends) -> (f64, Option<f64>) {
    let mut child = None;
    let (address, cert, local) = match ends {
        Ends::OneProcess => {
            let (server, cert) = raw_server_endpoint();
            let address = server.local_addr().unwrap();
            (address, cert, Some(tokio::spawn(raw_serve(server, size, download, file))))
        }
        Ends::TwoProcesses => {
            let mut command = tokio::process::Command::new(std::env::current_exe().unwrap());
            command.arg("raw-server").arg(size.to_string()).arg(if download { "download" } else { "upload" });
            if let Some(file) = &file {
                command.arg(file);
            }
            let mut process = command.stdout(std::process::Stdio::piped()).kill_on_drop(true).spawn().unwrap();
            let mut lines = tokio::io::BufReader::new(process.stdout.take().unwrap()).lines();
            let first = lines.next_line().await.unwrap().expect("the raw server's port and certificate");
            let (port, hex) = first.split_once(' ').unwrap();
            let der: Vec<u8> =
                (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
            child = Some((process, lines));
            (SocketAddr::from(([127, 0, 0, 1], port.parse().unwrap())), CertificateDer::from(der), None)
        }
    };
    let client = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
    let connection = client.connect_with(client_config(cert), address, NAME).unwrap().await.unwrap();
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
        let chunk = vec![0x5A_u8; CHUNK];
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
    client.wait_idle().await;
    let mut server_cpu = None;
    if let Some(task) = local {
        let _ = task.await;
    }
    if let Some((mut process, mut lines)) = child {
        server_cpu = lines.next_line().await.unwrap().and_then(|line| line.trim().parse().ok());
        let _ = process.wait().await;
    }
    (seconds, server_cpu)
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

/// Seconds to read the whole file (see [`io_shape`]).
async fn smb_read(setup: &Setup) -> f64 {
    let (client, share) = connect(setup).await;
    let path = share.with_path(&setup.file);
    let file =
        open(&client, &path, &FileCreateArgs::make_open_existing(FileAccessMask::new().with_generic_read(true))).await;
    let (io, in_flight) = io_shape();
    let start = Instant::now();
    let offsets: Vec<u64> = (0..setup.size).step_by(io).collect();
    let file_ref = &file;
    let total: usize = futures::stream::iter(offsets)
        .map(|offset| async move {
            let mut buffer = vec![0_u8; io];
            let mut done = 0;
            while done < io && offset + (done as u64) < setup.size {
                let n = file_ref.read_at(&mut buffer[done..], offset + done as u64).await.unwrap();
                if n == 0 {
                    break;
                }
                done += n;
            }
            done
        })
        .buffer_unordered(in_flight)
        .fold(0, |sum, n| async move { sum + n })
        .await;
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(total as u64, setup.size, "read the whole file");
    file.close().await.unwrap();
    client.close().await.unwrap();
    seconds
}

/// Seconds to write a file of the same size (see [`io_shape`]).
async fn smb_write(setup: &Setup) -> f64 {
    let (client, share) = connect(setup).await;
    let path = share.with_path("bench-upload.bin");
    let args = FileCreateArgs::make_overwrite(FileAttributes::new(), CreateOptions::new());
    let file = open(&client, &path, &args).await;
    let (io, in_flight) = io_shape();
    let chunk = vec![0xA5_u8; io];
    let start = Instant::now();
    let offsets: Vec<u64> = (0..setup.size).step_by(io).collect();
    let (file_ref, chunk_ref) = (&file, &chunk);
    let total: usize = futures::stream::iter(offsets)
        .map(|offset| async move {
            let length = (setup.size - offset).min(io as u64) as usize;
            let mut done = 0;
            while done < length {
                done += file_ref.write_at(&chunk_ref[done..length], offset + done as u64).await.unwrap();
            }
            done
        })
        .buffer_unordered(in_flight)
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
    let (io, in_flight) = io_shape();
    let start = Instant::now();
    let total = client.read_all(file, setup.size, io, in_flight).await.expect("read");
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
    let (io, in_flight) = io_shape();
    let chunk = vec![0xA5_u8; io];
    let start = Instant::now();
    let total = client.write_all(file, setup.size, &chunk, in_flight).await.expect("write");
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
/// of a raw pair in one process) and the server spent on it.
#[derive(Clone, Copy)]
struct Sample {
    seconds: f64,
    client_cpu: f64,
    server_cpu: f64,
}

/// Measures one transfer: `transfer` gives its seconds and, for a raw server in a process of its
/// own, that process's CPU seconds; otherwise the server's are read from `server_pid`.
async fn measure(server_pid: u32, transfer: impl std::future::Future<Output = (f64, Option<f64>)>) -> Sample {
    let server = server_pid.to_string();
    let (client_before, server_before) = (cpu_seconds("self"), cpu_seconds(&server));
    let (seconds, own_server_cpu) = transfer.await;
    Sample {
        seconds,
        client_cpu: cpu_seconds("self") - client_before,
        server_cpu: own_server_cpu.unwrap_or_else(|| cpu_seconds(&server) - server_before),
    }
}

/// An SMB transfer's seconds, its server being EdgeShare.
async fn smb(transfer: impl std::future::Future<Output = f64>) -> (f64, Option<f64>) {
    (transfer.await, None)
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

const CASES: [Case; 10] = [
    Case { name: "raw quinn, server to client, both ends in one process", raw: 1, raw_file: 2 },
    Case { name: "raw quinn, server to client", raw: 1, raw_file: 2 },
    Case { name: "raw quinn, server to client, server reading a tmpfs file", raw: 1, raw_file: 2 },
    Case { name: "SMB READ, lean client", raw: 1, raw_file: 2 },
    Case { name: "SMB READ, smb crate", raw: 1, raw_file: 2 },
    Case { name: "raw quinn, client to server, both ends in one process", raw: 6, raw_file: 7 },
    Case { name: "raw quinn, client to server", raw: 6, raw_file: 7 },
    Case { name: "raw quinn, client to server, server writing a tmpfs file", raw: 6, raw_file: 7 },
    Case { name: "SMB WRITE, lean client", raw: 6, raw_file: 7 },
    Case { name: "SMB WRITE, smb crate", raw: 6, raw_file: 7 },
];

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("raw-server") {
        return raw_server_process(&args[1..]).await;
    }
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

    let mut samples: [Vec<Sample>; 10] = Default::default();
    for round in 1..=rounds {
        eprintln!("  round {round} of {rounds}");
        let pid = setup.pid;
        for (index, case) in CASES.iter().enumerate() {
            if !only.as_deref().is_none_or(|texts| texts.split('|').any(|text| case.name.contains(text))) {
                continue;
            }
            let (one, two) = (Ends::OneProcess, Ends::TwoProcesses);
            let sample = match index {
                0 => measure(pid, raw_transfer(setup.size, true, None, one)).await,
                1 => measure(pid, raw_transfer(setup.size, true, None, two)).await,
                2 => measure(pid, raw_transfer(setup.size, true, Some(source.clone()), two)).await,
                3 => measure(pid, smb(lean_read(&setup))).await,
                4 => measure(pid, smb(smb_read(&setup))).await,
                5 => measure(pid, raw_transfer(setup.size, false, None, one)).await,
                6 => measure(pid, raw_transfer(setup.size, false, None, two)).await,
                7 => measure(pid, raw_transfer(setup.size, false, Some(upload.clone()), two)).await,
                8 => measure(pid, smb(lean_write(&setup))).await,
                _ => measure(pid, smb(smb_write(&setup))).await,
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
        "| case | MiB/s | ratio to raw quinn | ratio to raw quinn with the file | CPU s/GiB, client (both ends \
         in one process) | CPU s/GiB, server |"
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
        let one_process = index % 5 == 0;
        let server = if one_process { "-".to_owned() } else { format!("{:.2}", cpu(values, |s| s.server_cpu)) };
        println!(
            "| {} | {:.0} | {} | {} | {:.2} | {server} |",
            case.name,
            speed(values),
            ratio(case.raw),
            ratio(case.raw_file),
            cpu(values, |s| s.client_cpu)
        );
    }
    let (io, in_flight) = io_shape();
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
         \"raw quinn\" is a minimal quinn client and server in two processes, as an SMB client and EdgeShare are \
         (\"both ends in one process\" shares one Tokio runtime, which no client and server pair can); \
         one quinn stream each way with EdgeShare's windows; both SMB clients keep {in_flight} requests of {} KiB \
         in flight and sign every request and check every response (the lean client with AES-128-GMAC); SMB \
         encryption skipped as QUIC secures the transport; loopback, files on tmpfs.",
        io >> 10
    );
}
