//! UTF-16LE, the encoding of every name on the SMB2 wire.

use super::reader::DecodeError;

/// Decodes UTF-16LE. An odd length or an unpaired surrogate is refused: no file name can carry it.
pub fn decode(bytes: &[u8], what: &'static str) -> Result<String, DecodeError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(DecodeError::invalid(what, "odd UTF-16 length"));
    }
    let units = bytes.chunks_exact(2).map(|pair| u16::from_le_bytes([pair[0], pair[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|_| DecodeError::invalid(what, "unpaired UTF-16 surrogate"))
}

pub fn encode(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// Bytes `text` takes in UTF-16.
pub fn encoded_len(text: &str) -> usize {
    text.encode_utf16().count() * 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_including_characters_outside_the_bmp() {
        for name in ["readme.txt", "Grüße", "emoji-😀.txt", ""] {
            assert_eq!(decode(&encode(name), "n").unwrap(), name);
            assert_eq!(encoded_len(name), encode(name).len());
        }
    }

    #[test]
    fn odd_lengths_and_lone_surrogates_are_refused() {
        assert!(decode(&[0x41], "n").is_err());
        assert!(decode(&[0x00, 0xD8], "n").is_err());
    }
}
