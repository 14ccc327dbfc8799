//! The KDC proxy's message (MS-KKDCP 2.2.2): a Kerberos message as it travels over TCP (with
//! its 4-byte length, RFC 4120 section 7.2.2), the realm it is for, and a locator hint.
//!
//! ```text
//! KDC-PROXY-MESSAGE ::= SEQUENCE {
//!     kerb-message   [0] OCTET STRING,
//!     target-domain  [1] KERB-REALM OPTIONAL,      -- GeneralString
//!     dclocator-hint [2] INTEGER OPTIONAL
//! }
//! ```
//!
//! The proxy relays requests only: [`ProxyRequest::decode`] checks that the message is one whole
//! AS-REQ or TGS-REQ (as Debian's python3-kdcproxy does) before a byte goes to a KDC.

use crate::auth::der::{self, context};
use crate::proto::{DecodeError, Reader};

/// The Kerberos messages the proxy forwards (RFC 4120 section 5.10 application tags).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    /// KRB_AS_REQ, [APPLICATION 10]: a ticket-granting ticket.
    AsReq,
    /// KRB_TGS_REQ, [APPLICATION 12]: a service ticket.
    TgsReq,
}

impl RequestKind {
    pub fn name(self) -> &'static str {
        match self {
            RequestKind::AsReq => "AS-REQ",
            RequestKind::TgsReq => "TGS-REQ",
        }
    }
}

/// A client's KDC-PROXY-MESSAGE, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyRequest {
    /// The Kerberos message with its 4-byte big-endian length, as sent to a KDC over TCP.
    pub message: Vec<u8>,
    pub kind: RequestKind,
    /// The realm the client names (MS-KKDCP 3.2.5.1: it must).
    pub realm: String,
}

/// Why a proxy message was refused (an HTTP 400 for the client; the reason for the audit log).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProxyError {
    #[error("not a KDC-PROXY-MESSAGE: {0}")]
    Malformed(#[from] DecodeError),
    #[error("the message's length prefix does not match its size")]
    Length,
    #[error("not an AS-REQ or TGS-REQ")]
    NotARequest,
    #[error("no target-domain (realm)")]
    NoRealm,
}

impl ProxyRequest {
    /// Decodes and checks a client's message. The whole input must be one message.
    pub fn decode(bytes: &[u8]) -> Result<ProxyRequest, ProxyError> {
        let mut reader = Reader::new(bytes);
        let sequence = der::expect(&mut reader, der::SEQUENCE, "KDC-PROXY-MESSAGE")?;
        reader.finish("KDC-PROXY-MESSAGE")?;
        let mut fields = Reader::new(sequence.value);
        let message = der::expect(&mut fields, context(0), "kerb-message")?;
        let message = der::expect(&mut Reader::new(message.value), der::OCTET_STRING, "kerb-message")?.value;
        let mut realm = None;
        if der::peek_tag(&fields) == Some(context(1)) {
            let field = der::expect(&mut fields, context(1), "target-domain")?;
            let text = der::expect(&mut Reader::new(field.value), der::GENERAL_STRING, "target-domain")?.value;
            let text = std::str::from_utf8(text).map_err(|_| DecodeError::invalid("target-domain", "not UTF-8"))?;
            realm = Some(text.to_owned());
        }
        if der::peek_tag(&fields) == Some(context(2)) {
            let field = der::expect(&mut fields, context(2), "dclocator-hint")?;
            der::integer(
                &der::expect(&mut Reader::new(field.value), der::INTEGER, "dclocator-hint")?,
                "dclocator-hint",
            )?;
        }
        fields.finish("KDC-PROXY-MESSAGE")?;

        let mut framed = Reader::new(message);
        let length = framed.u32_be("kerb-message length")? as usize;
        if length != framed.remaining() {
            return Err(ProxyError::Length);
        }
        let mut body = Reader::new(framed.rest());
        let kerberos = der::read(&mut body).map_err(|_| ProxyError::NotARequest)?;
        if !body.is_empty() {
            return Err(ProxyError::NotARequest);
        }
        let kind = match kerberos.tag {
            tag if tag == der::application(10) => RequestKind::AsReq,
            tag if tag == der::application(12) => RequestKind::TgsReq,
            _ => return Err(ProxyError::NotARequest),
        };
        // Its body is a KDC-REQ SEQUENCE (RFC 4120 section 5.4.1), whole.
        let mut inner = Reader::new(kerberos.value);
        der::expect(&mut inner, der::SEQUENCE, "KDC-REQ").map_err(|_| ProxyError::NotARequest)?;
        if !inner.is_empty() {
            return Err(ProxyError::NotARequest);
        }
        let realm = realm.filter(|realm| !realm.is_empty()).ok_or(ProxyError::NoRealm)?;
        Ok(ProxyRequest { message: message.to_vec(), kind, realm })
    }
}

/// The proxy's reply to the client: the KDC's answer (with its 4-byte length) alone, as
/// MS-KKDCP 3.1.5.1 and python3-kdcproxy send it.
pub fn encode_reply(kdc_reply: &[u8]) -> Vec<u8> {
    let message = der::encode(context(0), &der::encode(der::OCTET_STRING, kdc_reply));
    der::encode(der::SEQUENCE, &message)
}

/// A client's request message (the client side, for tests and tools).
pub fn encode_request(message: &[u8], realm: &str) -> Vec<u8> {
    let mut fields = der::encode(context(0), &der::encode(der::OCTET_STRING, message));
    fields.extend(der::encode(context(1), &der::encode(der::GENERAL_STRING, realm.as_bytes())));
    der::encode(der::SEQUENCE, &fields)
}

/// The KDC's answer inside a proxy reply (the client side).
pub fn decode_reply(bytes: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let mut reader = Reader::new(bytes);
    let sequence = der::expect(&mut reader, der::SEQUENCE, "KDC-PROXY-MESSAGE")?;
    reader.finish("KDC-PROXY-MESSAGE")?;
    let mut fields = Reader::new(sequence.value);
    let message = der::expect(&mut fields, context(0), "kerb-message")?;
    Ok(der::expect(&mut Reader::new(message.value), der::OCTET_STRING, "kerb-message")?.value.to_vec())
}

/// The 4-byte length prefix of RFC 4120 section 7.2.2 in front of `message`.
pub fn tcp_framed(message: &[u8]) -> Option<Vec<u8>> {
    let length = u32::try_from(message.len()).ok().filter(|length| length & 0x8000_0000 == 0)?;
    let mut framed = length.to_be_bytes().to_vec();
    framed.extend_from_slice(message);
    Some(framed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal AS-REQ shape: [APPLICATION 10] SEQUENCE { ... }.
    fn as_req() -> Vec<u8> {
        der::encode(
            der::application(10),
            &der::encode(der::SEQUENCE, &der::encode(context(1), &der::encode_integer(5))),
        )
    }

    #[test]
    fn a_request_round_trips_with_its_realm_and_kind() {
        let framed = tcp_framed(&as_req()).unwrap();
        let request = ProxyRequest::decode(&encode_request(&framed, "EXAMPLE.COM")).unwrap();
        assert_eq!(
            request,
            ProxyRequest { message: framed.clone(), kind: RequestKind::AsReq, realm: "EXAMPLE.COM".into() }
        );
        assert_eq!(decode_reply(&encode_reply(&framed)).unwrap(), framed);
    }

    #[test]
    fn what_is_no_whole_kdc_request_is_refused() {
        let framed = tcp_framed(&as_req()).unwrap();
        // No realm.
        let message = der::encode(der::SEQUENCE, &der::encode(context(0), &der::encode(der::OCTET_STRING, &framed)));
        assert_eq!(ProxyRequest::decode(&message), Err(ProxyError::NoRealm));
        // A length prefix that lies.
        let mut lying = framed.clone();
        lying[3] += 1;
        assert_eq!(ProxyRequest::decode(&encode_request(&lying, "R")), Err(ProxyError::Length));
        // An AP-REQ ([APPLICATION 14]) is no KDC request; nor is trailing garbage.
        let ap_req = tcp_framed(&der::encode(der::application(14), &der::encode(der::SEQUENCE, &[]))).unwrap();
        assert_eq!(ProxyRequest::decode(&encode_request(&ap_req, "R")), Err(ProxyError::NotARequest));
        let mut trailing = as_req();
        trailing.push(0);
        let trailing = tcp_framed(&trailing).unwrap();
        assert_eq!(ProxyRequest::decode(&encode_request(&trailing, "R")), Err(ProxyError::NotARequest));
        // Bytes after the message.
        let mut extra = encode_request(&framed, "R");
        extra.push(0);
        assert!(matches!(ProxyRequest::decode(&extra), Err(ProxyError::Malformed(_))));
    }

    #[test]
    fn every_truncation_is_refused_without_a_panic() {
        let message = encode_request(&tcp_framed(&as_req()).unwrap(), "EXAMPLE.COM");
        for end in 0..message.len() {
            assert!(ProxyRequest::decode(&message[..end]).is_err(), "{end}");
        }
    }
}
