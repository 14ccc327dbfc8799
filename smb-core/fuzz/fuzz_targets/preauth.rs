//! What an unauthenticated client can send: arbitrary messages into a fresh connection, from
//! its very first byte (NEGOTIATE, SESSION_SETUP legs, anything else), of an engine with one
//! user. It must never panic, and the sessions it holds stay within the connection's budget.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smb_core::engine::connection::{Connection, ConnectionInfo};
use smb_core::engine::shared::Shared;
use smb_core::{EngineConfig, UserConfig};

fuzz_target!(|data: &[u8]| {
    let mut config = EngineConfig::default();
    config.users.push(UserConfig { name: "alice".into(), nt_hash: [7; 16], enabled: true, locked_until: None });
    let limits = config.server.limits;
    let now = smb_core::engine::clock::Now::read();
    let shared = Shared::seeded(config, 0);
    let info = ConnectionInfo::tcp(smb_core::engine::ids::ConnectionId(1), "127.0.0.1:50000".parse().unwrap(), "127.0.0.1:445".parse().unwrap(), now.instant);
    let mut connection = Connection::new(shared, info, now);
    // Messages are separated by a two-byte big-endian length, so that one input holds several.
    let mut rest = data;
    while rest.len() >= 2 {
        let length = usize::from(u16::from_be_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        let mut message = rest[2..2 + length].to_vec();
        rest = &rest[2 + length..];
        let output = connection.receive(&mut message, now);
        assert!(connection.session_count() <= limits.max_sessions_per_connection as usize);
        assert!(!connection.has_valid_session(), "no one signs in without the password");
        if output.close {
            break;
        }
    }
    connection.shutdown(now);
});
