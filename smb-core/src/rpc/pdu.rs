//! Connection-oriented DCE/RPC PDUs (C706 chapter 12, MS-RPCE 2.2.2): the bind exchange, requests,
//! responses and faults that travel over a named pipe.

use crate::proto::{DecodeError, Reader, Writer};

pub(crate) const HEADER_SIZE: usize = 16;

/// C706 12.6.4.1 PTYPE values.
pub(crate) mod ptype {
    pub(crate) const REQUEST: u8 = 0;
    pub(crate) const RESPONSE: u8 = 2;
    pub(crate) const FAULT: u8 = 3;
    pub(crate) const BIND: u8 = 11;
    pub(crate) const BIND_ACK: u8 = 12;
    pub(crate) const BIND_NAK: u8 = 13;
    pub(crate) const ALTER_CONTEXT: u8 = 14;
    pub(crate) const ALTER_CONTEXT_RESP: u8 = 15;
}

/// C706 12.6.3.1 `pfc_flags`.
pub(crate) mod pfc {
    pub(crate) const FIRST_FRAG: u8 = 0x01;
    pub(crate) const LAST_FRAG: u8 = 0x02;
    pub(crate) const OBJECT_UUID: u8 = 0x80;
}

/// A syntax identifier: interface or transfer syntax UUID and version (C706 12.6.3.1 p_syntax_id_t).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SyntaxId {
    pub uuid: [u8; 16],
    pub version: u32,
}

impl SyntaxId {
    /// A UUID in its usual text form, stored in the wire's mixed-endian layout.
    pub(crate) const fn new(uuid: u128, version: u32) -> SyntaxId {
        let be = uuid.to_be_bytes();
        let uuid = [
            be[3], be[2], be[1], be[0], be[5], be[4], be[7], be[6], be[8], be[9], be[10], be[11], be[12], be[13],
            be[14], be[15],
        ];
        SyntaxId { uuid, version }
    }

    fn read(r: &mut Reader<'_>) -> Result<SyntaxId, DecodeError> {
        Ok(SyntaxId { uuid: r.array("syntax uuid")?, version: r.u32("syntax version")? })
    }

    fn write(&self, out: &mut Writer) {
        out.bytes(&self.uuid).u32(self.version);
    }
}

/// NDR 2.0 (C706 14).
pub(crate) const NDR20: SyntaxId = SyntaxId::new(0x8a885d04_1ceb_11c9_9fe8_08002b104860, 2);
/// NDR64 (MS-RPCE 2.2.5).
pub(crate) const NDR64: SyntaxId = SyntaxId::new(0x71710533_beba_4937_8319_b5dbef9ccc36, 1);
/// Bind time feature negotiation (MS-RPCE 3.3.1.5.3): the UUID's first 8 bytes identify it.
const BIND_TIME_FEATURES_PREFIX: [u8; 8] = [0x2c, 0x1c, 0xb7, 0x6c, 0x12, 0x98, 0x40, 0x45];

/// The common header (C706 12.6.3.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub ptype: u8,
    pub flags: u8,
    pub frag_length: u16,
    pub auth_length: u16,
    pub call_id: u32,
}

impl Header {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Header, DecodeError> {
        let version = r.u8("rpc_vers")?;
        let minor = r.u8("rpc_vers_minor")?;
        if version != 5 || minor > 1 {
            return Err(DecodeError::invalid("DCE/RPC header", format!("version {version}.{minor}")));
        }
        let ptype = r.u8("PTYPE")?;
        let flags = r.u8("pfc_flags")?;
        let drep = r.array::<4>("packed_drep")?;
        if drep[0] & 0xF0 != 0x10 {
            return Err(DecodeError::invalid("DCE/RPC header", "only little-endian data representation is supported"));
        }
        Ok(Header {
            ptype,
            flags,
            frag_length: r.u16("frag_length")?,
            auth_length: r.u16("auth_length")?,
            call_id: r.u32("call_id")?,
        })
    }

    pub(crate) fn encode(&self, out: &mut Writer) {
        out.u8(5).u8(0).u8(self.ptype).u8(self.flags).bytes(&[0x10, 0, 0, 0]);
        out.u16(self.frag_length).u16(self.auth_length).u32(self.call_id);
    }
}

/// One presentation context a client proposes (C706 12.6.3.1 p_cont_elem_t).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Context {
    pub id: u16,
    pub abstract_syntax: SyntaxId,
    pub transfer_syntaxes: Vec<SyntaxId>,
}

/// C706 12.6.4.3 bind (and 12.6.4.1 alter_context, the same layout).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Bind {
    pub max_xmit_frag: u16,
    pub max_recv_frag: u16,
    pub assoc_group_id: u32,
    pub contexts: Vec<Context>,
}

impl Bind {
    pub(crate) fn decode(body: &[u8]) -> Result<Bind, DecodeError> {
        let mut r = Reader::new(body);
        let max_xmit_frag = r.u16("max_xmit_frag")?;
        let max_recv_frag = r.u16("max_recv_frag")?;
        let assoc_group_id = r.u32("assoc_group_id")?;
        let count = r.u8("n_context_elem")?;
        r.skip(3, "reserved")?;
        let mut contexts = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            let id = r.u16("p_cont_id")?;
            let transfer_count = r.u8("n_transfer_syn")?;
            r.skip(1, "reserved")?;
            let abstract_syntax = SyntaxId::read(&mut r)?;
            let transfer_syntaxes = (0..transfer_count).map(|_| SyntaxId::read(&mut r)).collect::<Result<_, _>>()?;
            contexts.push(Context { id, abstract_syntax, transfer_syntaxes });
        }
        Ok(Bind { max_xmit_frag, max_recv_frag, assoc_group_id, contexts })
    }

    #[cfg(test)]
    pub(crate) fn encode(&self, out: &mut Writer) {
        out.u16(self.max_xmit_frag).u16(self.max_recv_frag).u32(self.assoc_group_id);
        out.u8(self.contexts.len() as u8).zeros(3);
        for context in &self.contexts {
            out.u16(context.id).u8(context.transfer_syntaxes.len() as u8).u8(0);
            context.abstract_syntax.write(out);
            for syntax in &context.transfer_syntaxes {
                syntax.write(out);
            }
        }
    }
}

/// The verdict on one proposed context (C706 12.6.3.1 p_result_t).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ContextResult {
    Accepted(SyntaxId),
    /// MS-RPCE 3.3.1.5.3: the features the server supports, as the reason field.
    NegotiateAck(u16),
    /// Reason 1: abstract syntax not supported; 2: no proposed transfer syntax supported.
    Rejected(u16),
}

/// C706 12.6.4.4 bind_ack (and alter_context_resp).
pub(crate) fn encode_bind_ack(
    ptype: u8,
    call_id: u32,
    max_frag: u16,
    assoc_group_id: u32,
    secondary_address: &str,
    results: &[ContextResult],
) -> Vec<u8> {
    let mut body = Writer::new();
    body.u16(max_frag).u16(max_frag).u32(assoc_group_id);
    if secondary_address.is_empty() {
        body.u16(0);
    } else {
        body.u16(secondary_address.len() as u16 + 1).bytes(secondary_address.as_bytes()).u8(0);
    }
    // The result list is 4-byte aligned, counted from the start of the PDU.
    let header_and_fixed = HEADER_SIZE + body.len();
    body.zeros(header_and_fixed.next_multiple_of(4) - header_and_fixed);
    body.u8(results.len() as u8).zeros(3);
    for result in results {
        match result {
            ContextResult::Accepted(syntax) => {
                body.u16(0).u16(0);
                syntax.write(&mut body);
            }
            ContextResult::NegotiateAck(features) => {
                body.u16(3).u16(*features).zeros(20);
            }
            ContextResult::Rejected(reason) => {
                body.u16(2).u16(*reason).zeros(20);
            }
        }
    }
    pdu(ptype, pfc::FIRST_FRAG | pfc::LAST_FRAG, call_id, body.as_slice())
}

/// Whether a proposed transfer syntax is the bind-time feature negotiation marker.
pub(crate) fn is_feature_negotiation(syntax: &SyntaxId) -> bool {
    syntax.uuid[..8] == BIND_TIME_FEATURES_PREFIX
}

/// C706 12.6.4.9 request: context, operation and stub data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Request<'a> {
    pub context_id: u16,
    pub opnum: u16,
    pub stub: &'a [u8],
}

impl<'a> Request<'a> {
    pub(crate) fn decode(flags: u8, body: &'a [u8]) -> Result<Request<'a>, DecodeError> {
        let mut r = Reader::new(body);
        r.skip(4, "alloc_hint")?;
        let context_id = r.u16("p_cont_id")?;
        let opnum = r.u16("opnum")?;
        if flags & pfc::OBJECT_UUID != 0 {
            r.skip(16, "object")?;
        }
        Ok(Request { context_id, opnum, stub: r.rest() })
    }
}

/// A whole PDU with its header.
pub(crate) fn pdu(ptype: u8, flags: u8, call_id: u32, body: &[u8]) -> Vec<u8> {
    let mut out = Writer::with_capacity(HEADER_SIZE + body.len());
    Header { ptype, flags, frag_length: (HEADER_SIZE + body.len()) as u16, auth_length: 0, call_id }.encode(&mut out);
    out.bytes(body);
    out.into_vec()
}

/// C706 12.6.4.10 response, split into fragments of at most `max_frag` bytes.
pub(crate) fn responses(call_id: u32, context_id: u16, stub: &[u8], max_frag: u16) -> Vec<Vec<u8>> {
    let room = usize::from(max_frag).saturating_sub(HEADER_SIZE + 8).max(8) & !7;
    let chunks: Vec<&[u8]> = if stub.is_empty() { vec![&[][..]] } else { stub.chunks(room).collect() };
    let count = chunks.len();
    chunks
        .into_iter()
        .enumerate()
        .map(|(index, chunk)| {
            let mut flags = 0;
            if index == 0 {
                flags |= pfc::FIRST_FRAG;
            }
            if index + 1 == count {
                flags |= pfc::LAST_FRAG;
            }
            let mut body = Writer::new();
            body.u32((stub.len() - index * room) as u32).u16(context_id).u8(0).u8(0).bytes(chunk);
            pdu(ptype::RESPONSE, flags, call_id, body.as_slice())
        })
        .collect()
}

/// C706 12.6.4.7 fault.
pub(crate) fn fault(call_id: u32, context_id: u16, status: u32) -> Vec<u8> {
    let mut body = Writer::new();
    body.u32(0).u16(context_id).u8(0).u8(0).u32(status).u32(0);
    pdu(ptype::FAULT, pfc::FIRST_FRAG | pfc::LAST_FRAG | 0x20, call_id, body.as_slice())
}

/// C706 Appendix E: the operation number is out of range.
pub(crate) const NCA_S_OP_RNG_ERROR: u32 = 0x1C01_0002;
/// C706 Appendix E: the call cannot be processed (bad stub data).
pub(crate) const NCA_S_FAULT_NDR: u32 = 0x0000_06F7;
/// The context id was never bound.
pub(crate) const NCA_S_UNKNOWN_IF: u32 = 0x1C01_0003;
/// RPC_S_SERVER_OUT_OF_MEMORY (MS-RPCE 2.2.2.9, a Win32 status as a fault): a call larger than
/// the server reassembles.
pub(crate) const RPC_S_SERVER_OUT_OF_MEMORY: u32 = 0x0000_046A;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_take_the_wire_layout() {
        // NDR 2.0's UUID 8a885d04-1ceb-11c9-9fe8-08002b104860 as it appears on the wire.
        assert_eq!(hex::encode(NDR20.uuid), "045d888aeb1cc9119fe808002b104860");
    }

    #[test]
    fn a_bind_round_trips() {
        let bind = Bind {
            max_xmit_frag: 4280,
            max_recv_frag: 4280,
            assoc_group_id: 0,
            contexts: vec![Context {
                id: 0,
                abstract_syntax: SyntaxId::new(1, 3),
                transfer_syntaxes: vec![NDR20, NDR64],
            }],
        };
        let mut out = Writer::new();
        bind.encode(&mut out);
        assert_eq!(Bind::decode(out.as_slice()).unwrap(), bind);
    }

    #[test]
    fn large_responses_are_fragmented_with_first_and_last_flags() {
        let stub = vec![7; 10_000];
        let fragments = responses(9, 0, &stub, 4280);
        assert!(fragments.len() >= 3);
        assert_eq!(fragments[0][3] & pfc::FIRST_FRAG, pfc::FIRST_FRAG);
        assert_eq!(fragments.last().unwrap()[3] & pfc::LAST_FRAG, pfc::LAST_FRAG);
        let carried: usize = fragments.iter().map(|f| f.len() - HEADER_SIZE - 8).sum();
        assert_eq!(carried, stub.len());
        assert!(fragments.iter().all(|f| f.len() <= 4280));
    }

    #[test]
    fn a_big_endian_client_is_refused() {
        let mut bytes = pdu(ptype::BIND, 3, 1, &[]);
        bytes[4] = 0x00;
        assert!(Header::decode(&mut Reader::new(&bytes)).is_err());
    }
}
