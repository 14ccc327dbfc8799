//! The small part of ASN.1 DER that SPNEGO tokens use (X.690 8.1: tag, length, value), read
//! through the crate's bounds-checked [`Reader`].

use crate::proto::{DecodeError, Reader};

/// One TLV: its tag byte and its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Tlv<'a> {
    pub tag: u8,
    pub value: &'a [u8],
    /// The whole encoding, tag and length included (for mechListMIC, which covers raw bytes).
    pub raw: &'a [u8],
}

pub(crate) fn read<'a>(reader: &mut Reader<'a>) -> Result<Tlv<'a>, DecodeError> {
    let start = reader.clone();
    let tag = reader.u8("DER tag")?;
    if tag & 0x1F == 0x1F {
        return Err(DecodeError::invalid("DER", "multi-byte tags are not used by SPNEGO"));
    }
    let first = reader.u8("DER length")?;
    let length = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7F);
        if count == 0 || count > 4 {
            return Err(DecodeError::invalid("DER", format!("length of {count} bytes")));
        }
        let mut length = 0_usize;
        for _ in 0..count {
            length = (length << 8) | usize::from(reader.u8("DER length")?);
        }
        length
    };
    let value = reader.take(length, "DER value")?;
    let consumed = start.remaining() - reader.remaining();
    let raw = start.clone().take(consumed, "DER element")?;
    Ok(Tlv { tag, value, raw })
}

/// Reads one element and checks its tag.
pub(crate) fn expect<'a>(reader: &mut Reader<'a>, tag: u8, what: &'static str) -> Result<Tlv<'a>, DecodeError> {
    let tlv = read(reader)?;
    if tlv.tag != tag {
        return Err(DecodeError::invalid(what, format!("tag {:#04x}, expected {tag:#04x}", tlv.tag)));
    }
    Ok(tlv)
}

pub(crate) fn encode(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match value.len() {
        n if n < 0x80 => out.push(n as u8),
        n if n <= 0xFF => out.extend_from_slice(&[0x81, n as u8]),
        n if n <= 0xFFFF => out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]),
        n => out.extend_from_slice(&[0x83, (n >> 16) as u8, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(value);
    out
}

pub(crate) const SEQUENCE: u8 = 0x30;
pub(crate) const OID: u8 = 0x06;
pub(crate) const OCTET_STRING: u8 = 0x04;
pub(crate) const ENUMERATED: u8 = 0x0A;
pub(crate) const GENERAL_STRING: u8 = 0x1B;

/// Context-specific constructed tag `[n]`.
pub(crate) const fn context(n: u8) -> u8 {
    0xA0 | n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_lengths_round_trip() {
        for length in [0, 1, 127, 128, 255, 256, 70_000] {
            let value = vec![0xAB; length];
            let bytes = encode(OCTET_STRING, &value);
            let tlv = read(&mut Reader::new(&bytes)).unwrap();
            assert_eq!(tlv.tag, OCTET_STRING);
            assert_eq!(tlv.value.len(), length);
            assert_eq!(tlv.raw, &bytes[..]);
        }
    }

    #[test]
    fn a_length_beyond_the_input_is_refused() {
        assert!(read(&mut Reader::new(&[0x04, 0x82, 0x01, 0x00, 0xAA])).is_err());
        assert!(read(&mut Reader::new(&[0x04, 0x85, 1, 1, 1, 1, 1])).is_err());
    }
}
