//! The whole pipeline of one connection (framing aside): arbitrary messages, one after another,
//! into a fresh connection of an engine with one user and no shares. It must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smb_core::engine::connection::{Connection, ConnectionInfo};
use smb_core::engine::shared::Shared;
use smb_core::proto::Writer;
use smb_core::proto::header::{Command, Header};
use smb_core::proto::negotiate::{Dialect, NegotiateRequest};
use smb_core::EngineConfig;

/// A valid SMB 3.0.2 NEGOTIATE, so that the fuzzed messages meet a negotiated connection.
fn negotiate() -> Vec<u8> {
    let mut out = Writer::new();
    Header { command: Command::NEGOTIATE, credits: 64, ..Header::default() }.encode(&mut out);
    NegotiateRequest {
        security_mode: 1,
        capabilities: 0x7F,
        client_guid: [9; 16],
        dialects: vec![Dialect::SMB3_0, Dialect::SMB3_0_2],
        contexts: Vec::new(),
    }
    .encode(&mut out);
    out.into_vec()
}

fuzz_target!(|data: &[u8]| {
    let now = smb_core::engine::clock::Now::read();
    let shared = Shared::seeded(EngineConfig::default(), 0);
    let info = ConnectionInfo::tcp(smb_core::engine::ids::ConnectionId(1), "127.0.0.1:50000".parse().unwrap(), "127.0.0.1:445".parse().unwrap(), now.instant);
    let mut connection = Connection::new(shared, info, now);
    if connection.receive(&mut negotiate(), now).close {
        panic!("a valid NEGOTIATE must be answered");
    }
    // Messages are separated by a two-byte big-endian length, so that one input holds several.
    let mut rest = data;
    while rest.len() >= 2 {
        let length = usize::from(u16::from_be_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        let mut message = rest[2..2 + length].to_vec();
        rest = &rest[2 + length..];
        let output = connection.receive(&mut message, now);
        if output.close {
            break;
        }
    }
    connection.shutdown(now);
});
