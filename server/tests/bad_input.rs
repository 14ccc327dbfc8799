//! Hostile and broken input on the wire: truncated, oversized and garbage frames, bad offsets,
//! unknown commands, requests beyond the granted credits, random bytes, and paths that try to
//! leave the share. Each gets an NT status or a closed connection, never a panic, and the server
//! goes on serving everyone else.

mod support;

use std::time::Duration;

use smb_core::Access;
use smb_core::proto::header::{Command, Header};
use smb_core::proto::negotiate::{Dialect, NegotiateRequest};
use smb_core::proto::{NtStatus, Writer};
use support::{PASSWORD, SmbServer, USER, python, run_tool, run_tool_in, transcript};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const WAIT: Duration = Duration::from_secs(10);

/// A Direct-TCP frame (MS-SMB2 2.1): a zero byte and a 24-bit length, then the message.
fn frame(message: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, (message.len() >> 16) as u8, (message.len() >> 8) as u8, message.len() as u8];
    bytes.extend_from_slice(message);
    bytes
}

fn message(command: Command, message_id: u64, body: impl FnOnce(&mut Writer)) -> Vec<u8> {
    let mut out = Writer::new();
    Header { command, message_id, credits: 1, ..Header::default() }.encode(&mut out);
    body(&mut out);
    out.into_vec()
}

fn negotiate(message_id: u64) -> Vec<u8> {
    message(Command::NEGOTIATE, message_id, |out| {
        NegotiateRequest {
            security_mode: 1,
            capabilities: 0,
            client_guid: [7; 16],
            dialects: vec![Dialect::SMB3_0, Dialect::SMB3_0_2],
            contexts: Vec::new(),
        }
        .encode(out)
    })
}

/// What the server did with the bytes: the status of its first reply, or that it closed.
#[derive(Debug, PartialEq, Eq)]
enum Reaction {
    Replied(Vec<NtStatus>),
    Closed,
}

async fn send(server: &SmbServer, bytes: &[u8]) -> Reaction {
    let mut stream = TcpStream::connect(server.address).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    let _ = stream.shutdown().await;
    let mut statuses = Vec::new();
    loop {
        let mut head = [0_u8; 4];
        match tokio::time::timeout(WAIT, stream.read_exact(&mut head)).await {
            Ok(Ok(_)) => {}
            Ok(Err(_)) => break,
            Err(_) => panic!("the server neither answered nor closed within {WAIT:?}"),
        }
        let length = usize::from(head[1]) << 16 | usize::from(head[2]) << 8 | usize::from(head[3]);
        let mut reply = vec![0; length];
        tokio::time::timeout(WAIT, stream.read_exact(&mut reply)).await.expect("reply in time").expect("whole reply");
        let status = u32::from_le_bytes(reply[8..12].try_into().unwrap());
        statuses.push(NtStatus(status));
    }
    if statuses.is_empty() { Reaction::Closed } else { Reaction::Replied(statuses) }
}

/// The server still serves a well-behaved client.
async fn still_serves(server: &SmbServer) {
    let port = server.port();
    let credentials = server.credentials();
    let output = run_tool_in("smbclient", &["-L", "127.0.0.1", "-p", &port, "-U", &credentials], None, WAIT).await;
    assert!(output.status.success(), "the server stopped serving:\n{}", transcript(&output));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_frames_close_the_connection_and_the_server_goes_on() {
    let server = SmbServer::start().await;
    server.share("data", Access::Full).await;
    let valid = negotiate(0);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        ("a frame cut short", frame(&valid)[..40].to_vec()),
        ("a length beyond any message", vec![0, 0xFF, 0xFF, 0xFF, 0xFE, b'S', b'M', b'B']),
        ("a non-zero frame type", vec![0x85, 0, 0, 4, 0xFE, b'S', b'M', b'B']),
        ("a header cut short", frame(&valid[..40])),
        ("an unknown protocol id", frame(&[b"\xFFXYZ".as_slice(), &valid[4..]].concat())),
        ("a response instead of a request", {
            let mut reply = valid.clone();
            reply[16] |= 1;
            frame(&reply)
        }),
        (
            "a request before negotiating",
            frame(&message(Command::CREATE, 0, |out| {
                out.u16(57).zeros(55);
            })),
        ),
        (
            "an unknown command before negotiating",
            frame(&message(Command(0x77), 0, |out| {
                out.u16(4).u16(0);
            })),
        ),
    ];
    for (name, bytes) in cases {
        assert_eq!(send(&server, &bytes).await, Reaction::Closed, "{name}");
    }
    still_serves(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_negotiates_get_a_status_or_a_closed_connection() {
    let server = SmbServer::start().await;
    let valid = negotiate(0);
    // DialectCount (offset 64+2) far beyond the message.
    let mut many_dialects = valid.clone();
    many_dialects[66..68].copy_from_slice(&0xFFFF_u16.to_le_bytes());
    // No dialect at all.
    let mut no_dialects = valid.clone();
    no_dialects[66..68].copy_from_slice(&0_u16.to_le_bytes());
    // A wrong StructureSize.
    let mut wrong_size = valid.clone();
    wrong_size[64..66].copy_from_slice(&99_u16.to_le_bytes());
    // Only dialects the server does not speak.
    let mut unknown_dialects = valid.clone();
    let at = valid.len() - 4;
    unknown_dialects[at..].copy_from_slice(&[0x22, 0x02, 0x44, 0x04]);
    for (name, bytes) in [
        ("many dialects", many_dialects),
        ("no dialects", no_dialects),
        ("wrong structure size", wrong_size),
        ("unknown dialects", unknown_dialects),
    ] {
        match send(&server, &frame(&bytes)).await {
            Reaction::Closed => {}
            Reaction::Replied(statuses) => {
                assert!(statuses.iter().all(|s| s.0 & 0xC000_0000 == 0xC000_0000), "{name}: {statuses:?}")
            }
        }
    }
    // The valid one still works on its own.
    assert_eq!(send(&server, &frame(&valid)).await, Reaction::Replied(vec![NtStatus::SUCCESS]));
    still_serves(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_beyond_the_granted_credits_ends_the_connection() {
    let server = SmbServer::start().await;
    // Message 0 negotiates and is granted a credit; message 5000 was never granted.
    let beyond = message(Command::ECHO, 5000, |out| {
        out.u16(4).u16(0);
    });
    let bytes = [frame(&negotiate(0)), frame(&beyond)].concat();
    assert_eq!(send(&server, &bytes).await, Reaction::Replied(vec![NtStatus::SUCCESS]));
    // Replaying a message id that was used already is the same offence.
    let again = message(Command::ECHO, 0, |out| {
        out.u16(4).u16(0);
    });
    let bytes = [frame(&negotiate(0)), frame(&again)].concat();
    assert_eq!(send(&server, &bytes).await, Reaction::Replied(vec![NtStatus::SUCCESS]));
    still_serves(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_bytes_never_crash_the_server() {
    let server = SmbServer::start().await;
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut random = move || {
        state ^= state << 7;
        state ^= state >> 9;
        state
    };
    let valid = negotiate(0);
    for round in 0..300 {
        let mut bytes = valid.clone();
        // Flip a few bytes of a valid negotiate, header and body alike, or append junk.
        for _ in 0..(1 + random() % 8) {
            let at = (random() as usize) % bytes.len();
            bytes[at] = random() as u8;
        }
        if round % 3 == 0 {
            bytes.extend((0..random() % 200).map(|_| random() as u8));
        }
        let reaction = send(&server, &frame(&bytes)).await;
        if let Reaction::Replied(statuses) = reaction {
            assert!(!statuses.is_empty());
        }
    }
    still_serves(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paths_that_try_to_leave_the_share_are_refused() {
    let server = SmbServer::start().await;
    let share_dir = server.share("jail", Access::Full).await;
    // Outside the share: a directory with a secret, and a symbolic link to it from inside.
    let outside = server.dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), b"not for clients").unwrap();
    std::os::unix::fs::symlink(&outside, share_dir.join("link")).unwrap();
    std::os::unix::fs::symlink(outside.join("secret.txt"), share_dir.join("secret-link.txt")).unwrap();
    let script = format!("{}/tests/clients/impacket_path_escapes.py", env!("CARGO_MANIFEST_DIR"));
    let python = python();
    let port = server.port();
    let args = [script.as_str(), "127.0.0.1", &port, USER, PASSWORD, "jail"];
    let output = run_tool(python.to_str().unwrap(), &args, Duration::from_secs(60)).await;
    assert!(output.status.success(), "{}", transcript(&output));
    let outside_now: Vec<_> = std::fs::read_dir(&outside).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(outside_now, vec![std::ffi::OsString::from("secret.txt")], "something was written outside");
    assert_eq!(std::fs::read(outside.join("secret.txt")).unwrap(), b"not for clients");
    let parent: Vec<_> =
        std::fs::read_dir(share_dir.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(parent, vec![std::ffi::OsString::from("jail")], "something was written beside the share");
    still_serves(&server).await;
}
