//! The small part of ASN.1 DER that SPNEGO tokens and Kerberos messages use (X.690 8.1: tag,
//! length, value; 8.3 INTEGER, 8.6 BIT STRING), read through the crate's bounds-checked
//! [`Reader`].

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
        return Err(DecodeError::invalid("DER", "multi-byte tags are used by neither SPNEGO nor Kerberos"));
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
        n if n <= 0xFF_FFFF => out.extend_from_slice(&[0x83, (n >> 16) as u8, (n >> 8) as u8, n as u8]),
        // Four length bytes, what `read` accepts; nothing this crate encodes comes near 4 GiB.
        n => out.extend_from_slice(&[0x84, (n >> 24) as u8, (n >> 16) as u8, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(value);
    out
}

/// The tag of the next element, without consuming it (`None` at the end of the input).
pub(crate) fn peek_tag(reader: &Reader<'_>) -> Option<u8> {
    reader.clone().u8("DER tag").ok()
}

/// The value of an INTEGER (X.690 8.3) that fits an `i64`. Redundant leading bytes, which DER
/// forbids, are accepted as MIT and Heimdal accept them; more than 8 value bytes are not.
pub(crate) fn integer(tlv: &Tlv<'_>, what: &'static str) -> Result<i64, DecodeError> {
    if tlv.tag != INTEGER {
        return Err(DecodeError::invalid(what, format!("tag {:#04x}, expected an INTEGER", tlv.tag)));
    }
    let bytes = tlv.value;
    if bytes.is_empty() || bytes.len() > 8 {
        return Err(DecodeError::invalid(what, format!("an INTEGER of {} bytes", bytes.len())));
    }
    let negative = bytes[0] & 0x80 != 0;
    let value = bytes.iter().fold(if negative { -1_i64 } else { 0 }, |value, &byte| (value << 8) | i64::from(byte));
    Ok(value)
}

/// An INTEGER in its shortest two's-complement form.
pub(crate) fn encode_integer(value: i64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let mut start = 0;
    // Drop a leading byte while the next one's top bit still carries the sign.
    while start < 7 {
        let (lead, next) = (bytes[start], bytes[start + 1]);
        if (lead == 0x00 && next & 0x80 == 0) || (lead == 0xFF && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    encode(INTEGER, &bytes[start..])
}

/// The bits of a BIT STRING (X.690 8.6): the bytes after the unused-bit count, which must be 0
/// to 7 (0 for an empty string) with the unused bits clear (X.690 11.2.1).
pub(crate) fn bit_string<'a>(tlv: &Tlv<'a>, what: &'static str) -> Result<&'a [u8], DecodeError> {
    if tlv.tag != BIT_STRING {
        return Err(DecodeError::invalid(what, format!("tag {:#04x}, expected a BIT STRING", tlv.tag)));
    }
    let Some((&unused, bits)) = tlv.value.split_first() else {
        return Err(DecodeError::invalid(what, "a BIT STRING without its unused-bit count"));
    };
    let last = bits.last().copied().unwrap_or(0);
    if unused > 7 || (bits.is_empty() && unused != 0) || last & ((1_u8 << unused) - 1) != 0 {
        return Err(DecodeError::invalid(what, format!("{unused} unused bits")));
    }
    Ok(bits)
}

/// A BIT STRING of whole bytes.
pub(crate) fn encode_bit_string(bits: &[u8]) -> Vec<u8> {
    let mut value = vec![0];
    value.extend_from_slice(bits);
    encode(BIT_STRING, &value)
}

pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const BIT_STRING: u8 = 0x03;
pub(crate) const GENERALIZED_TIME: u8 = 0x18;
pub(crate) const SEQUENCE: u8 = 0x30;
pub(crate) const OID: u8 = 0x06;
pub(crate) const OCTET_STRING: u8 = 0x04;
pub(crate) const ENUMERATED: u8 = 0x0A;
pub(crate) const GENERAL_STRING: u8 = 0x1B;

/// Context-specific constructed tag `[n]`.
pub(crate) const fn context(n: u8) -> u8 {
    0xA0 | n
}

/// Application-class constructed tag `[APPLICATION n]` (n < 31: one tag byte).
pub(crate) const fn application(n: u8) -> u8 {
    0x60 | n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_lengths_round_trip() {
        for length in [0, 1, 127, 128, 255, 256, 70_000, 0x100_0000] {
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

    #[test]
    fn integers_round_trip_in_their_shortest_form() {
        for (value, hex) in [
            (0_i64, "020100"),
            (5, "020105"),
            (127, "02017f"),
            (128, "02020080"),
            (-1, "0201ff"),
            (-128, "020180"),
            (-129, "0202ff7f"),
            (4_294_967_295, "020500ffffffff"),
            (i64::MIN, "02088000000000000000"),
        ] {
            let bytes = encode_integer(value);
            assert_eq!(hex::encode(&bytes), hex, "{value}");
            let tlv = read(&mut Reader::new(&bytes)).unwrap();
            assert_eq!(integer(&tlv, "test").unwrap(), value);
        }
    }

    #[test]
    fn empty_and_oversized_integers_are_refused() {
        for bytes in [&[0x02, 0x00][..], &[0x02, 0x09, 0, 1, 2, 3, 4, 5, 6, 7, 8], &[0x04, 0x01, 0x05]] {
            let tlv = read(&mut Reader::new(bytes)).unwrap();
            assert!(integer(&tlv, "test").is_err(), "{bytes:02x?}");
        }
    }

    #[test]
    fn bit_strings_refuse_bad_unused_bit_counts() {
        let ok = encode_bit_string(&[0x20, 0, 0, 0]);
        assert_eq!(bit_string(&read(&mut Reader::new(&ok)).unwrap(), "test").unwrap(), &[0x20, 0, 0, 0]);
        for bytes in [&[0x03, 0x00][..], &[0x03, 0x01, 0x01], &[0x03, 0x02, 0x08, 0xFF], &[0x03, 0x02, 0x01, 0x01]] {
            let tlv = read(&mut Reader::new(bytes)).unwrap();
            assert!(bit_string(&tlv, "test").is_err(), "{bytes:02x?}");
        }
    }
}
