//! SPNEGO (RFC 4178, with the MS-SPNG 2.2 extensions): the GSS envelope around NTLMSSP.

use super::der::{self, Tlv, context};
use super::kerberos::messages::gss::{OID_KRB5, OID_MS_KRB5};
use crate::proto::{DecodeError, Reader};

/// 1.3.6.1.5.5.2
pub(crate) const OID_SPNEGO: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
/// 1.3.6.1.4.1.311.2.2.10
pub(crate) const OID_NTLMSSP: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a];

/// RFC 4178 4.2.2 `negState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NegState {
    AcceptCompleted = 0,
    AcceptIncomplete = 1,
    Reject = 2,
    RequestMic = 3,
}

/// RFC 4178 4.2.1 NegTokenInit, as the client's first token.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub(crate) struct NegTokenInit {
    /// Each mechanism's OID content bytes, in the client's order of preference.
    pub mech_types: Vec<Vec<u8>>,
    /// The DER encoding of the MechTypeList: what mechListMIC covers.
    pub mech_types_der: Vec<u8>,
    pub mech_token: Option<Vec<u8>>,
    pub mech_list_mic: Option<Vec<u8>>,
}

/// RFC 4178 4.2.2 NegTokenResp.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub(crate) struct NegTokenResp {
    pub neg_state: Option<NegState>,
    pub supported_mech: Option<Vec<u8>>,
    pub response_token: Option<Vec<u8>>,
    pub mech_list_mic: Option<Vec<u8>>,
}

/// A token a client sends in SESSION_SETUP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ClientToken {
    Init(NegTokenInit),
    Resp(NegTokenResp),
    /// A bare NTLMSSP message without the SPNEGO envelope.
    RawNtlmssp(Vec<u8>),
    /// A bare Kerberos AP-REQ in its RFC 4121 framing (the GSS-API Kerberos mechanism without
    /// SPNEGO).
    RawKerberos(Vec<u8>),
}

pub(crate) fn parse_client_token(bytes: &[u8]) -> Result<ClientToken, DecodeError> {
    if bytes.starts_with(b"NTLMSSP\0") {
        return Ok(ClientToken::RawNtlmssp(bytes.to_vec()));
    }
    let mut reader = Reader::new(bytes);
    let outer = der::read(&mut reader)?;
    match outer.tag {
        // [APPLICATION 0] InitialContextToken: the SPNEGO OID, then NegTokenInit [0].
        0x60 => {
            let mut inner = Reader::new(outer.value);
            let oid = der::expect(&mut inner, der::OID, "InitialContextToken thisMech")?;
            if oid.value == OID_KRB5 || oid.value == OID_MS_KRB5 {
                return Ok(ClientToken::RawKerberos(bytes.to_vec()));
            }
            if oid.value != OID_SPNEGO {
                return Err(DecodeError::invalid("InitialContextToken", "not a SPNEGO token"));
            }
            let init = der::expect(&mut inner, context(0), "NegotiationToken negTokenInit")?;
            parse_init(init).map(ClientToken::Init)
        }
        t if t == context(0) => parse_init(outer).map(ClientToken::Init),
        t if t == context(1) => parse_resp(outer).map(ClientToken::Resp),
        other => Err(DecodeError::invalid("SPNEGO token", format!("unexpected tag {other:#04x}"))),
    }
}

fn fields<'a>(sequence: &Tlv<'a>, what: &'static str) -> Result<Vec<Tlv<'a>>, DecodeError> {
    let mut inner = Reader::new(sequence.value);
    let sequence = der::expect(&mut inner, der::SEQUENCE, what)?;
    let mut reader = Reader::new(sequence.value);
    let mut fields = Vec::new();
    while !reader.is_empty() {
        fields.push(der::read(&mut reader)?);
    }
    Ok(fields)
}

fn octets(field: &Tlv<'_>, what: &'static str) -> Result<Vec<u8>, DecodeError> {
    Ok(der::expect(&mut Reader::new(field.value), der::OCTET_STRING, what)?.value.to_vec())
}

fn parse_init(token: Tlv<'_>) -> Result<NegTokenInit, DecodeError> {
    let mut init = NegTokenInit::default();
    for field in fields(&token, "NegTokenInit")? {
        match field.tag {
            t if t == context(0) => {
                let list = der::expect(&mut Reader::new(field.value), der::SEQUENCE, "MechTypeList")?;
                init.mech_types_der = list.raw.to_vec();
                let mut reader = Reader::new(list.value);
                while !reader.is_empty() {
                    init.mech_types.push(der::expect(&mut reader, der::OID, "MechType")?.value.to_vec());
                }
            }
            t if t == context(2) => init.mech_token = Some(octets(&field, "mechToken")?),
            // MS-SPNG 2.2.1: the mechListMIC of NegTokenInit is [3] (NegTokenInit2 moves it to [4]).
            t if t == context(3) || t == context(4) => {
                if let Ok(mic) = octets(&field, "mechListMIC") {
                    init.mech_list_mic = Some(mic);
                }
            }
            _ => {} // reqFlags and negHints carry nothing a server needs.
        }
    }
    Ok(init)
}

fn parse_resp(token: Tlv<'_>) -> Result<NegTokenResp, DecodeError> {
    let mut resp = NegTokenResp::default();
    for field in fields(&token, "NegTokenResp")? {
        match field.tag {
            t if t == context(0) => {
                let state = der::expect(&mut Reader::new(field.value), der::ENUMERATED, "negState")?;
                resp.neg_state = match state.value {
                    [0] => Some(NegState::AcceptCompleted),
                    [1] => Some(NegState::AcceptIncomplete),
                    [2] => Some(NegState::Reject),
                    [3] => Some(NegState::RequestMic),
                    _ => return Err(DecodeError::invalid("negState", "unknown value")),
                };
            }
            t if t == context(1) => {
                resp.supported_mech =
                    Some(der::expect(&mut Reader::new(field.value), der::OID, "supportedMech")?.value.to_vec());
            }
            t if t == context(2) => resp.response_token = Some(octets(&field, "responseToken")?),
            t if t == context(3) => resp.mech_list_mic = Some(octets(&field, "mechListMIC")?),
            _ => {}
        }
    }
    Ok(resp)
}

/// The server's NegTokenResp.
pub(crate) fn encode_resp(resp: &NegTokenResp) -> Vec<u8> {
    let mut sequence = Vec::new();
    if let Some(state) = resp.neg_state {
        sequence.extend(der::encode(context(0), &der::encode(der::ENUMERATED, &[state as u8])));
    }
    if let Some(mech) = &resp.supported_mech {
        sequence.extend(der::encode(context(1), &der::encode(der::OID, mech)));
    }
    if let Some(token) = &resp.response_token {
        sequence.extend(der::encode(context(2), &der::encode(der::OCTET_STRING, token)));
    }
    if let Some(mic) = &resp.mech_list_mic {
        sequence.extend(der::encode(context(3), &der::encode(der::OCTET_STRING, mic)));
    }
    der::encode(context(1), &der::encode(der::SEQUENCE, &sequence))
}

/// MS-SPNG 2.2.1 NegTokenInit2: the hint the server puts in its NEGOTIATE response, listing
/// the mechanisms it accepts.
pub(crate) fn encode_init2(mechs: &[&[u8]]) -> Vec<u8> {
    let list: Vec<u8> = mechs.iter().flat_map(|oid| der::encode(der::OID, oid)).collect();
    let mut sequence = der::encode(context(0), &der::encode(der::SEQUENCE, &list));
    // negHints [3] { hintName [0] "not_defined_in_RFC4178@please_ignore" }, as Windows sends it.
    let hint = der::encode(context(0), &der::encode(der::GENERAL_STRING, b"not_defined_in_RFC4178@please_ignore"));
    sequence.extend(der::encode(context(3), &der::encode(der::SEQUENCE, &hint)));
    let token = der::encode(context(0), &der::encode(der::SEQUENCE, &sequence));
    let mut inner = der::encode(der::OID, OID_SPNEGO);
    inner.extend(token);
    der::encode(0x60, &inner)
}

/// The client side (for tests and the project's own test clients): a NegTokenInit carrying a
/// first NTLMSSP message.
pub(crate) fn encode_init(mechs: &[&[u8]], mech_token: &[u8]) -> Vec<u8> {
    let list: Vec<u8> = mechs.iter().flat_map(|oid| der::encode(der::OID, oid)).collect();
    let mut sequence = der::encode(context(0), &der::encode(der::SEQUENCE, &list));
    sequence.extend(der::encode(context(2), &der::encode(der::OCTET_STRING, mech_token)));
    let token = der::encode(context(0), &der::encode(der::SEQUENCE, &sequence));
    let mut inner = der::encode(der::OID, OID_SPNEGO);
    inner.extend(token);
    der::encode(0x60, &inner)
}

/// The client side of the second leg: a NegTokenResp carrying AUTHENTICATE and a mechListMIC.
pub(crate) fn encode_client_resp(response_token: &[u8], mech_list_mic: Option<&[u8]>) -> Vec<u8> {
    encode_resp(&NegTokenResp {
        neg_state: None,
        supported_mech: None,
        response_token: Some(response_token.to_vec()),
        mech_list_mic: mech_list_mic.map(<[u8]>::to_vec),
    })
}

/// The DER MechTypeList that `encode_init` sends for `mechs` (what mechListMIC covers).
pub(crate) fn mech_types_der(mechs: &[&[u8]]) -> Vec<u8> {
    let list: Vec<u8> = mechs.iter().flat_map(|oid| der::encode(der::OID, oid)).collect();
    der::encode(der::SEQUENCE, &list)
}

/// Parses the server's token (client side).
pub(crate) fn parse_server_token(bytes: &[u8]) -> Result<NegTokenResp, DecodeError> {
    let tlv = der::expect(&mut Reader::new(bytes), context(1), "NegTokenResp")?;
    parse_resp(tlv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_init_token_carries_its_mechanisms_and_ntlm_message() {
        let token = encode_init(&[OID_NTLMSSP], b"NTLMSSP\0\x01\0\0\0");
        let ClientToken::Init(init) = parse_client_token(&token).unwrap() else { panic!("not an init") };
        assert_eq!(init.mech_types, vec![OID_NTLMSSP.to_vec()]);
        assert_eq!(init.mech_token.as_deref(), Some(&b"NTLMSSP\0\x01\0\0\0"[..]));
        assert_eq!(init.mech_types_der, mech_types_der(&[OID_NTLMSSP]));
    }

    #[test]
    fn a_response_token_round_trips() {
        let resp = NegTokenResp {
            neg_state: Some(NegState::AcceptIncomplete),
            supported_mech: Some(OID_NTLMSSP.to_vec()),
            response_token: Some(vec![1, 2, 3]),
            mech_list_mic: Some(vec![4; 16]),
        };
        let bytes = encode_resp(&resp);
        assert_eq!(parse_server_token(&bytes).unwrap(), resp);
        let ClientToken::Resp(parsed) = parse_client_token(&bytes).unwrap() else { panic!("not a resp") };
        assert_eq!(parsed, resp);
    }

    #[test]
    fn the_negotiate_hint_lists_ntlmssp() {
        let hint = encode_init2(&[OID_NTLMSSP]);
        let ClientToken::Init(init) = parse_client_token(&hint).unwrap() else { panic!("not an init") };
        assert_eq!(init.mech_types, vec![OID_NTLMSSP.to_vec()]);
    }

    #[test]
    fn garbage_is_refused_not_panicked_on() {
        for bytes in [&[][..], &[0x60], &[0x60, 0x05, 0x06, 0x01], &[0xa1, 0x03, 0x30, 0x01, 0xa0], &[0x99, 0x00]] {
            assert!(parse_client_token(bytes).is_err(), "{bytes:02x?}");
        }
    }
}
