//! Direct-TCP transport framing (MS-SMB2 2.1): a zero byte, a 3-byte big-endian length, then one
//! SMB message. TCP port 445 and the single QUIC stream of SMB over QUIC both carry it.

use super::reader::{DecodeError, Reader};

/// The largest length the 24-bit field can state.
pub const MAX_FRAME_LENGTH: usize = 0x00FF_FFFF;
pub const HEADER_LENGTH: usize = 4;

/// The message length stated by a frame header.
pub fn frame_length(header: [u8; HEADER_LENGTH]) -> Result<usize, DecodeError> {
    let mut reader = Reader::new(&header);
    let word = reader.u32_be("Direct-TCP header")?;
    if word >> 24 != 0 {
        return Err(DecodeError::invalid("Direct-TCP header", format!("first byte {:#04x} is not zero", word >> 24)));
    }
    Ok((word & 0x00FF_FFFF) as usize)
}

/// The frame header for a message of `length` bytes.
pub fn frame_header(length: usize) -> Result<[u8; HEADER_LENGTH], DecodeError> {
    if length > MAX_FRAME_LENGTH {
        return Err(DecodeError::invalid("Direct-TCP frame", format!("{length} bytes exceed the 24-bit length")));
    }
    Ok((length as u32).to_be_bytes())
}

/// Splits a byte stream into messages, without I/O: the transport pushes what it received and
/// pops whole messages. Frames longer than `max_length` are refused before they are buffered.
#[derive(Debug)]
pub struct Deframer {
    buffer: Vec<u8>,
    max_length: usize,
}

impl Deframer {
    pub fn new(max_length: usize) -> Self {
        Deframer { buffer: Vec::new(), max_length: max_length.min(MAX_FRAME_LENGTH) }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// Bytes buffered but not yet returned as a message.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// The next whole message, `None` when more bytes are needed.
    pub fn next_message(&mut self) -> Result<Option<Vec<u8>>, DecodeError> {
        let Some(header) = self.buffer.first_chunk::<HEADER_LENGTH>() else {
            return Ok(None);
        };
        let length = frame_length(*header)?;
        if length > self.max_length {
            return Err(DecodeError::invalid(
                "Direct-TCP frame",
                format!("{length} bytes exceed the {}-byte limit", self.max_length),
            ));
        }
        if self.buffer.len() < HEADER_LENGTH + length {
            return Ok(None);
        }
        let message = self.buffer[HEADER_LENGTH..HEADER_LENGTH + length].to_vec();
        self.buffer.drain(..HEADER_LENGTH + length);
        Ok(Some(message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_states_the_length_big_endian() {
        assert_eq!(frame_header(0x01_02_03).unwrap(), [0, 1, 2, 3]);
        assert_eq!(frame_length([0, 1, 2, 3]).unwrap(), 0x01_02_03);
    }

    #[test]
    fn a_nonzero_first_byte_is_refused() {
        assert!(frame_length([0x81, 0, 0, 4]).is_err());
    }

    #[test]
    fn messages_split_across_reads_are_reassembled() {
        let mut deframer = Deframer::new(1024);
        deframer.push(&[0, 0, 0, 3, b'a']);
        assert_eq!(deframer.next_message().unwrap(), None);
        deframer.push(&[b'b', b'c', 0, 0, 0, 1, b'd']);
        assert_eq!(deframer.next_message().unwrap(), Some(b"abc".to_vec()));
        assert_eq!(deframer.next_message().unwrap(), Some(b"d".to_vec()));
        assert_eq!(deframer.next_message().unwrap(), None);
        assert_eq!(deframer.buffered(), 0);
    }

    #[test]
    fn oversized_frames_are_refused_before_buffering_them() {
        let mut deframer = Deframer::new(16);
        deframer.push(&[0, 0, 1, 0]);
        assert!(deframer.next_message().is_err());
    }
}
