//! EdgeShare's SMB engine.
//!
//! [`proto`] is the wire codec, [`auth`] the SPNEGO/NTLMv2 acceptor and [`crypto`] the key
//! derivation, signing and encryption: none of them does I/O. [`engine`] holds connection,
//! session, tree and open state, driven by parsed requests through one dispatch table, with
//! shares on local directories ([`vfs`]) and named-pipe RPC ([`rpc`]). [`transport`] owns the
//! sockets; [`EngineHandle`] is how the rest of the program drives it all.

#![warn(unreachable_pub)]

pub mod auth;
pub mod crypto;
pub mod engine;
mod handle;
pub mod proto;
mod rpc;
pub mod transport;
mod vfs;

/// What only the fuzz targets reach: the named-pipe RPC server on its own.
#[cfg(fuzzing)]
pub mod fuzzing {
    use std::sync::Arc;

    use crate::engine::shared::Shared;

    /// A named pipe opened by `user`, as a session's open would hold it.
    pub struct RpcPipe {
        pipe: crate::rpc::Pipe,
        shared: Arc<Shared>,
        identity: crate::engine::session::Identity,
    }

    impl RpcPipe {
        pub fn open(name: &str, shared: Arc<Shared>, user: &str) -> Option<RpcPipe> {
            let identity = crate::engine::session::Identity::local(user);
            Some(RpcPipe { pipe: crate::rpc::Pipe::open(name)?, shared, identity })
        }

        /// Bytes the client writes to the pipe; whole calls among them are answered.
        pub fn write(&mut self, data: &[u8]) {
            self.pipe.write(data, &crate::rpc::Context::new(&self.shared, &self.identity));
        }

        /// Up to `max` bytes of answers.
        pub fn read(&mut self, max: usize) -> Vec<u8> {
            self.pipe.read(max)
        }

        /// Answer bytes not read yet.
        pub fn queued_output(&self) -> usize {
            self.pipe.queued_output()
        }
    }
}

pub use engine::config::{
    Access, CertificateMapping, ClientAccess, ClientMatch, EVERYONE, EngineConfig, KerberosSettings, Limits,
    LockoutPolicy, NtlmPolicy, QuicSettings, ServerSettings, ShareConfig, UserConfig, fold_name, same_name,
};
pub use engine::events::{Counters, Event, OpenFileStatus, SessionStatus, Transport};
pub use engine::persistent::{OpenJournal, PersistedCaching, PersistedLock, PersistentOpen};
pub use engine::shared::{BudgetUse, Refusal};
pub use handle::EngineHandle;
