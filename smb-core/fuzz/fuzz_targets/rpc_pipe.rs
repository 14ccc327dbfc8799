//! A named pipe's RPC: arbitrary bytes written to `\PIPE\srvsvc` in arbitrary pieces, its
//! answers read back. It must never panic, and what it keeps (a call being reassembled, answers
//! not yet read) stays within the RPC budget.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smb_core::EngineConfig;
use smb_core::engine::shared::Shared;
use smb_core::fuzzing::RpcPipe;

fuzz_target!(|data: &[u8]| {
    let config = EngineConfig::default();
    let limit = config.server.limits.max_rpc_call as usize;
    let shared = Shared::seeded(config, 0);
    let mut pipe = RpcPipe::open("srvsvc", shared, "alice").expect("srvsvc is offered");
    // Pieces are separated by a two-byte big-endian length; a zero length reads instead.
    let mut rest = data;
    while rest.len() >= 2 {
        let length = usize::from(u16::from_be_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        if length == 0 {
            let _ = pipe.read(4280);
        } else {
            pipe.write(&rest[2..2 + length]);
        }
        rest = &rest[2 + length..];
        assert!(pipe.queued_output() <= limit + 65_536, "unread answers past the budget");
    }
});
