//! DCE/RPC over named pipes on IPC$: the bind exchange and the srvsvc calls, as a pipe that the
//! engine writes client bytes into and reads server bytes from (MS-SMB2 named pipes are message
//! mode: each PDU is read as one message).

pub(crate) mod ndr;
pub(crate) mod pdu;
pub(crate) mod srvsvc;

use std::collections::VecDeque;

use self::ndr::Syntax;
use self::pdu::{ContextResult, ptype};
use crate::engine::config::Access;
use crate::engine::session::Identity;
use crate::engine::shared::{Refusal, Shared};
use crate::proto::Reader;

/// The largest fragment either side sends (what Windows uses on SMB pipes).
const MAX_FRAGMENT: u16 = 4280;

/// What a call may see: the caller and the server's shares.
pub(crate) struct Context<'a> {
    shared: &'a Shared,
    identity: &'a Identity,
}

impl<'a> Context<'a> {
    pub(crate) fn new(shared: &'a Shared, identity: &'a Identity) -> Context<'a> {
        Context { shared, identity }
    }

    /// The largest call reassembled, and the most unread answers kept.
    fn max_call(&self) -> usize {
        self.shared.runtime().config.server.limits.max_rpc_call as usize
    }

    /// The server as srvsvc shows it to this user: shares with access-based enumeration are
    /// listed only to users who may open them.
    pub(crate) fn server_view(&self) -> srvsvc::ServerView {
        let runtime = self.shared.runtime();
        let settings = &runtime.config.server;
        let mut shares: Vec<srvsvc::ShareView> = runtime
            .config
            .shares
            .iter()
            .filter(|share| !share.access_based_enumeration || runtime.access(share, self.identity) != Access::Deny)
            .map(|share| srvsvc::ShareView {
                name: share.name.clone(),
                kind: srvsvc::share_type::DISK_TREE,
                remark: share.description.clone(),
            })
            .collect();
        shares.push(srvsvc::ShareView {
            name: "IPC$".into(),
            kind: srvsvc::share_type::IPC | srvsvc::share_type::SPECIAL,
            remark: "IPC Service (EdgeShare)".into(),
        });
        srvsvc::ServerView { name: settings.computer_name.to_uppercase(), comment: "EdgeShare".into(), shares }
    }
}

/// One open named pipe.
pub(crate) struct Pipe {
    name: String,
    /// Bound presentation contexts: id and transfer syntax.
    contexts: Vec<(u16, Syntax)>,
    max_fragment: u16,
    /// Messages (PDUs) waiting to be read; the front one may be partly read.
    output: VecDeque<Vec<u8>>,
    /// Bytes of a request split over several writes or fragments.
    input: Vec<u8>,
    /// Stub data of a request arriving in several fragments.
    fragments: Vec<u8>,
    /// The call being received grew past the limit: its further fragments are dropped.
    discarding: bool,
}

impl Pipe {
    /// Opens a pipe by name (`srvsvc`, `\PIPE\srvsvc` ...); `None` for services not offered.
    pub(crate) fn open(name: &str) -> Option<Pipe> {
        let name = name.trim_start_matches('\\');
        let name = name.strip_prefix("PIPE\\").or_else(|| name.strip_prefix("pipe\\")).unwrap_or(name);
        name.eq_ignore_ascii_case("srvsvc").then(|| Pipe {
            name: "srvsvc".into(),
            contexts: Vec::new(),
            max_fragment: MAX_FRAGMENT,
            output: VecDeque::new(),
            input: Vec::new(),
            fragments: Vec::new(),
            discarding: false,
        })
    }

    /// Takes client bytes; every whole PDU among them is answered into the output.
    pub(crate) fn write(&mut self, data: &[u8], context: &Context<'_>) {
        // Answers the client does not read are not piled up past the limit either.
        if self.queued_output() > context.max_call() {
            context.shared.refuse(Refusal::RpcCall);
            self.input.clear();
            return;
        }
        self.input.extend_from_slice(data);
        loop {
            let Some(length) = self.input.get(8..10).map(|b| usize::from(u16::from_le_bytes([b[0], b[1]]))) else {
                return;
            };
            if length < pdu::HEADER_SIZE || self.input.len() < length {
                if length < pdu::HEADER_SIZE {
                    // Not a PDU: nothing sensible can follow on this pipe.
                    self.input.clear();
                }
                return;
            }
            let message: Vec<u8> = self.input.drain(..length).collect();
            self.handle(&message, context);
        }
    }

    /// Up to `max` bytes of the next message.
    pub(crate) fn read(&mut self, max: usize) -> Vec<u8> {
        let Some(front) = self.output.front_mut() else { return Vec::new() };
        if front.len() <= max {
            return self.output.pop_front().unwrap_or_default();
        }
        front.drain(..max).collect()
    }

    /// Bytes of answers not yet read.
    pub(crate) fn queued_output(&self) -> usize {
        self.output.iter().map(Vec::len).sum()
    }

    /// Bytes left of the message being read (a READ that stops short says BUFFER_OVERFLOW).
    pub(crate) fn pending_output(&self) -> usize {
        self.output.front().map_or(0, Vec::len)
    }

    fn handle(&mut self, message: &[u8], context: &Context<'_>) {
        let mut reader = Reader::new(message);
        let Ok(header) = pdu::Header::decode(&mut reader) else { return };
        let body = reader.rest();
        match header.ptype {
            ptype::BIND | ptype::ALTER_CONTEXT => self.bind(&header, body),
            ptype::REQUEST => self.request(&header, body, context),
            _ => {}
        }
    }

    fn bind(&mut self, header: &pdu::Header, body: &[u8]) {
        let reply_type = if header.ptype == ptype::BIND { ptype::BIND_ACK } else { ptype::ALTER_CONTEXT_RESP };
        let Ok(bind) = pdu::Bind::decode(body) else {
            self.output.push_back(pdu::pdu(ptype::BIND_NAK, 3, header.call_id, &[0, 0, 0, 0]));
            return;
        };
        if header.ptype == ptype::BIND {
            self.max_fragment = bind.max_recv_frag.clamp(pdu::HEADER_SIZE as u16 + 32, MAX_FRAGMENT);
        }
        let results: Vec<ContextResult> = bind
            .contexts
            .iter()
            .map(|context| {
                if let Some(features) = context.transfer_syntaxes.iter().find(|s| pdu::is_feature_negotiation(s)) {
                    // Accept security context multiplexing and keeping the connection on orphan.
                    let _ = features;
                    return ContextResult::NegotiateAck(0x0003);
                }
                if context.abstract_syntax != srvsvc::INTERFACE {
                    return ContextResult::Rejected(1);
                }
                let syntax = if context.transfer_syntaxes.contains(&pdu::NDR64) {
                    Some((pdu::NDR64, Syntax::Ndr64))
                } else if context.transfer_syntaxes.contains(&pdu::NDR20) {
                    Some((pdu::NDR20, Syntax::Ndr20))
                } else {
                    None
                };
                match syntax {
                    Some((id, syntax)) => {
                        self.contexts.retain(|(c, _)| *c != context.id);
                        self.contexts.push((context.id, syntax));
                        ContextResult::Accepted(id)
                    }
                    None => ContextResult::Rejected(2),
                }
            })
            .collect();
        let address = if header.ptype == ptype::BIND { format!("\\PIPE\\{}", self.name) } else { String::new() };
        let assoc_group = if bind.assoc_group_id == 0 { 0x0001_2345 } else { bind.assoc_group_id };
        self.output.push_back(pdu::encode_bind_ack(
            reply_type,
            header.call_id,
            self.max_fragment,
            assoc_group,
            &address,
            &results,
        ));
    }

    fn request(&mut self, header: &pdu::Header, body: &[u8], context: &Context<'_>) {
        let Ok(request) = pdu::Request::decode(header.flags, body) else {
            self.output.push_back(pdu::fault(header.call_id, 0, pdu::NCA_S_FAULT_NDR));
            return;
        };
        if header.flags & pdu::pfc::FIRST_FRAG != 0 {
            self.fragments.clear();
            self.discarding = false;
        }
        if self.discarding {
            return;
        }
        if self.fragments.len() + request.stub.len() > context.max_call() {
            // A call larger than any this service takes: refused once, the rest of it dropped.
            context.shared.refuse(Refusal::RpcCall);
            self.fragments = Vec::new();
            self.discarding = header.flags & pdu::pfc::LAST_FRAG == 0;
            self.output.push_back(pdu::fault(header.call_id, request.context_id, pdu::RPC_S_SERVER_OUT_OF_MEMORY));
            return;
        }
        self.fragments.extend_from_slice(request.stub);
        if header.flags & pdu::pfc::LAST_FRAG == 0 {
            return;
        }
        let stub = std::mem::take(&mut self.fragments);
        let Some(&(_, syntax)) = self.contexts.iter().find(|(id, _)| *id == request.context_id) else {
            self.output.push_back(pdu::fault(header.call_id, request.context_id, pdu::NCA_S_UNKNOWN_IF));
            return;
        };
        match srvsvc::call(request.opnum, &stub, syntax, &context.server_view()) {
            Ok(Some(response)) => {
                for fragment in pdu::responses(header.call_id, request.context_id, &response, self.max_fragment) {
                    self.output.push_back(fragment);
                }
            }
            Ok(None) => self.output.push_back(pdu::fault(header.call_id, request.context_id, pdu::NCA_S_OP_RNG_ERROR)),
            Err(error) => {
                tracing::debug!(%error, opnum = request.opnum, "bad srvsvc request");
                self.output.push_back(pdu::fault(header.call_id, request.context_id, pdu::NCA_S_FAULT_NDR));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_offered_services_open() {
        assert!(Pipe::open("srvsvc").is_some());
        assert!(Pipe::open("\\PIPE\\srvsvc").is_some());
        assert!(Pipe::open("samr").is_none());
        assert!(Pipe::open("..\\srvsvc").is_none());
    }
}
