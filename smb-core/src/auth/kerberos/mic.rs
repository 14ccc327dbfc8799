//! The RFC 4121 section 4.2.6.1 MIC token, which SPNEGO's mechListMIC carries when Kerberos was
//! not the client's first choice (RFC 4178 section 5): a checksum over the message and the
//! token's own 16-byte header, under the context key.
//!
//! ```text
//! TOK_ID (04 04) | Flags (1) | Filler (FF x5) | SND_SEQ (8, big-endian) | SGN_CKSUM
//! ```
//!
//! Only the RFC 3962 / RFC 8009 enctypes have this token; RC4's (RFC 4757 section 7.2) is
//! another format, which EdgeShare does not produce or accept.

use super::crypto::{Enctype, Key, verify_checksum};
use crate::proto::Reader;

const TOK_ID: [u8; 2] = [0x04, 0x04];
const HEADER_LEN: usize = 16;

/// RFC 4121 section 4.2.2 flags.
mod flags {
    pub(super) const SENT_BY_ACCEPTOR: u8 = 0x01;
    pub(super) const ACCEPTOR_SUBKEY: u8 = 0x04;
}

/// RFC 4121 section 2 key usages.
const ACCEPTOR_SIGN: u32 = 23;
const INITIATOR_SIGN: u32 = 25;

/// Why a MIC token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MicError {
    /// RC4 has no RFC 4121 tokens.
    Unsupported,
    Malformed,
    /// A flag says the token came from the acceptor, or disagrees about the acceptor subkey.
    WrongDirection,
    Integrity,
}

/// Whether `key` can make and check RFC 4121 MIC tokens.
pub(crate) fn supported(key: &Key) -> bool {
    key.enctype() != Enctype::Rc4Hmac
}

fn header(sent_by_acceptor: bool, acceptor_subkey: bool, seq: u64) -> [u8; HEADER_LEN] {
    let mut header = [0xFF; HEADER_LEN];
    header[..2].copy_from_slice(&TOK_ID);
    header[2] = if sent_by_acceptor { flags::SENT_BY_ACCEPTOR } else { 0 }
        | if acceptor_subkey { flags::ACCEPTOR_SUBKEY } else { 0 };
    header[8..].copy_from_slice(&seq.to_be_bytes());
    header
}

fn signed(message: &[u8], header: &[u8]) -> Vec<u8> {
    let mut data = Vec::with_capacity(message.len() + header.len());
    data.extend_from_slice(message);
    data.extend_from_slice(header);
    data
}

/// The acceptor's MIC token over `message`, with sequence number `seq`. `acceptor_subkey` says
/// whether `key` is a subkey the acceptor made (then the AcceptorSubkey flag is set).
pub(crate) fn acceptor_mic(key: &Key, acceptor_subkey: bool, seq: u64, message: &[u8]) -> Result<Vec<u8>, MicError> {
    if !supported(key) {
        return Err(MicError::Unsupported);
    }
    let header = header(true, acceptor_subkey, seq);
    let mut token = header.to_vec();
    token.extend(super::crypto::checksum(key, ACCEPTOR_SIGN, &signed(message, &header)));
    Ok(token)
}

/// Checks the initiator's MIC token over `message`. Sequence numbers are not checked: SPNEGO
/// sends one MIC per direction, and the context offers no replay or sequence service.
pub(crate) fn verify_initiator_mic(
    key: &Key,
    acceptor_subkey: bool,
    message: &[u8],
    token: &[u8],
) -> Result<(), MicError> {
    if !supported(key) {
        return Err(MicError::Unsupported);
    }
    let mut reader = Reader::new(token);
    let header = reader.take(HEADER_LEN, "MIC token header").map_err(|_| MicError::Malformed)?;
    let checksum = reader.rest();
    if header[..2] != TOK_ID || header[3..8] != [0xFF; 5] {
        return Err(MicError::Malformed);
    }
    let flag_byte = header[2];
    if flag_byte & flags::SENT_BY_ACCEPTOR != 0 || (flag_byte & flags::ACCEPTOR_SUBKEY != 0) != acceptor_subkey {
        return Err(MicError::WrongDirection);
    }
    verify_checksum(key, key.enctype().checksum_type(), INITIATOR_SIGN, &signed(message, header), checksum)
        .map_err(|_| MicError::Integrity)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(enctype: Enctype) -> Key {
        Key::new(enctype, &vec![7; enctype.key_len()]).unwrap()
    }

    /// The initiator's token, as a client makes it (the acceptor's with the direction flipped).
    fn initiator_mic(key: &Key, acceptor_subkey: bool, message: &[u8]) -> Vec<u8> {
        let header = header(false, acceptor_subkey, 5);
        let mut token = header.to_vec();
        token.extend(super::super::crypto::checksum(key, INITIATOR_SIGN, &signed(message, &header)));
        token
    }

    #[test]
    fn an_initiator_mic_verifies_and_a_changed_list_does_not() {
        for enctype in [Enctype::Aes128CtsHmacSha1, Enctype::Aes256CtsHmacSha1, Enctype::Aes256CtsHmacSha384] {
            let key = key(enctype);
            let token = initiator_mic(&key, true, b"mech list");
            assert_eq!(verify_initiator_mic(&key, true, b"mech list", &token), Ok(()), "{enctype:?}");
            assert_eq!(verify_initiator_mic(&key, true, b"mech lisT", &token), Err(MicError::Integrity));
            assert_eq!(verify_initiator_mic(&key, false, b"mech list", &token), Err(MicError::WrongDirection));
        }
    }

    #[test]
    fn the_acceptor_mic_is_not_accepted_as_the_initiators() {
        let key = key(Enctype::Aes256CtsHmacSha1);
        let ours = acceptor_mic(&key, true, 9, b"list").unwrap();
        assert_eq!(&ours[..3], &[0x04, 0x04, 0x05]);
        assert_eq!(&ours[8..16], &9u64.to_be_bytes());
        assert_eq!(ours.len(), 16 + 12);
        assert_eq!(verify_initiator_mic(&key, true, b"list", &ours), Err(MicError::WrongDirection));
    }

    #[test]
    fn short_or_foreign_tokens_are_malformed_and_rc4_is_unsupported() {
        let aes = key(Enctype::Aes128CtsHmacSha1);
        assert_eq!(verify_initiator_mic(&aes, false, b"x", &[4, 4, 0]), Err(MicError::Malformed));
        assert_eq!(verify_initiator_mic(&aes, false, b"x", &[0; 28]), Err(MicError::Malformed));
        let rc4 = key(Enctype::Rc4Hmac);
        assert_eq!(acceptor_mic(&rc4, false, 0, b"x"), Err(MicError::Unsupported));
    }
}
