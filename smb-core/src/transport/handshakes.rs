//! The server name (SNI) each QUIC handshake asked for, kept until the connection task has read
//! it: rustls refuses a name without a certificate mapping inside the handshake, before quinn
//! hands out any handshake data, yet the refusal event must name what the client asked for.
//!
//! quinn's rustls session is wrapped so that, while rustls reads a client's handshake bytes, the
//! thread knows which handshake it is working on; the certificate resolver, which rustls calls
//! synchronously from there with the ClientHello, records the name for that handshake. Handshakes
//! are known by the client's original destination connection id (RFC 9000 7.3), which quinn
//! shows both to the crypto session (in the server's transport parameters) and on `Incoming`.

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Buf;
use quinn::crypto::rustls::QuicServerConfig;
use quinn::crypto::{self, ExportKeyingMaterialError, KeyPair, Keys, PacketKey, UnsupportedVersion};
use quinn::{ConnectionId, Side};
use quinn_proto::coding::Codec;
use quinn_proto::transport_parameters::TransportParameters;
use quinn_proto::{TransportError, VarInt};

use crate::engine::shared::lock;

/// What one handshake's ClientHello asked for: `Some(None)` when it sent no server name.
type Seen = Arc<Mutex<Option<Option<String>>>>;

thread_local! {
    /// The handshake whose bytes rustls is reading on this thread.
    static CURRENT: RefCell<Option<Seen>> = const { RefCell::new(None) };
}

/// Records the server name of the handshake rustls is reading on this thread, if any (called by
/// the certificate resolver with the ClientHello's name).
pub(super) fn record(server_name: Option<&str>) {
    CURRENT.with(|current| {
        if let Some(seen) = current.borrow().as_ref() {
            *lock(seen) = Some(server_name.map(str::to_owned));
        }
    });
}

/// The names handshakes asked for, by original destination connection id.
#[derive(Default)]
pub(super) struct ServerNames(Mutex<HashMap<Vec<u8>, Seen>>);

impl ServerNames {
    fn register(&self, original: Vec<u8>) -> Seen {
        let seen = Seen::default();
        lock(&self.0).insert(original, seen.clone());
        seen
    }

    /// Forgets the handshake of `original` and returns the name it asked for: `None` when its
    /// ClientHello was never read, `Some(None)` when it carried no server name.
    pub(super) fn take(&self, original: &ConnectionId) -> Option<Option<String>> {
        let seen = lock(&self.0).remove(&original[..])?;
        lock(&seen).take()
    }
}

/// quinn's rustls server configuration whose sessions report the server name they were asked for.
pub(super) struct Remembering {
    pub inner: Arc<QuicServerConfig>,
    pub names: Arc<ServerNames>,
}

impl crypto::ServerConfig for Remembering {
    fn initial_keys(&self, version: u32, dst_cid: &ConnectionId) -> Result<Keys, UnsupportedVersion> {
        self.inner.initial_keys(version, dst_cid)
    }

    fn retry_tag(&self, version: u32, orig_dst_cid: &ConnectionId, packet: &[u8]) -> [u8; 16] {
        self.inner.retry_tag(version, orig_dst_cid, packet)
    }

    fn start_session(self: Arc<Self>, version: u32, params: &TransportParameters) -> Box<dyn crypto::Session> {
        let inner = self.inner.clone().start_session(version, params);
        let seen = original_destination(params).map(|original| self.names.register(original));
        Box::new(Handshake { inner, seen })
    }
}

/// The original_destination_connection_id (RFC 9000 18.2, parameter 0x00) of the server's own
/// transport parameters, as quinn encodes them.
fn original_destination(params: &TransportParameters) -> Option<Vec<u8>> {
    let mut encoded = Vec::new();
    params.write(&mut encoded);
    let mut rest = &encoded[..];
    while rest.has_remaining() {
        let id = VarInt::decode(&mut rest).ok()?.into_inner();
        let length = usize::try_from(VarInt::decode(&mut rest).ok()?.into_inner()).ok()?;
        let value = rest.get(..length)?;
        if id == 0 {
            return Some(value.to_vec());
        }
        rest.advance(length);
    }
    None
}

/// A server session that tells the certificate resolver which handshake it is reading.
struct Handshake {
    inner: Box<dyn crypto::Session>,
    seen: Option<Seen>,
}

impl crypto::Session for Handshake {
    fn initial_keys(&self, dst_cid: &ConnectionId, side: Side) -> Keys {
        self.inner.initial_keys(dst_cid, side)
    }

    fn handshake_data(&self) -> Option<Box<dyn Any>> {
        self.inner.handshake_data()
    }

    fn peer_identity(&self) -> Option<Box<dyn Any>> {
        self.inner.peer_identity()
    }

    fn early_crypto(&self) -> Option<(Box<dyn crypto::HeaderKey>, Box<dyn PacketKey>)> {
        self.inner.early_crypto()
    }

    fn early_data_accepted(&self) -> Option<bool> {
        self.inner.early_data_accepted()
    }

    fn is_handshaking(&self) -> bool {
        self.inner.is_handshaking()
    }

    fn read_handshake(&mut self, buf: &[u8]) -> Result<bool, TransportError> {
        let previous = CURRENT.with(|current| current.replace(self.seen.clone()));
        let result = self.inner.read_handshake(buf);
        CURRENT.with(|current| current.replace(previous));
        result
    }

    fn transport_parameters(&self) -> Result<Option<TransportParameters>, TransportError> {
        self.inner.transport_parameters()
    }

    fn write_handshake(&mut self, buf: &mut Vec<u8>) -> Option<Keys> {
        self.inner.write_handshake(buf)
    }

    fn next_1rtt_keys(&mut self) -> Option<KeyPair<Box<dyn PacketKey>>> {
        self.inner.next_1rtt_keys()
    }

    fn is_valid_retry(&self, orig_dst_cid: &ConnectionId, header: &[u8], payload: &[u8]) -> bool {
        self.inner.is_valid_retry(orig_dst_cid, header, payload)
    }

    fn export_keying_material(
        &self,
        output: &mut [u8],
        label: &[u8],
        context: &[u8],
    ) -> Result<(), ExportKeyingMaterialError> {
        self.inner.export_keying_material(output, label, context)
    }
}
