//! The one SMB1 message an SMB2 server must read: MS-CIFS 2.2.4.52.1 SMB_COM_NEGOTIATE, sent by
//! clients that do not yet know the server speaks SMB2 (MS-SMB2 3.3.5.3.1).

use super::reader::{DecodeError, Reader};

pub const PROTOCOL_ID: [u8; 4] = [0xFF, b'S', b'M', b'B'];
const SMB_COM_NEGOTIATE: u8 = 0x72;

/// The dialect strings of an SMB1 negotiate request, in order.
pub fn negotiate_dialects(message: &[u8]) -> Result<Vec<String>, DecodeError> {
    let mut r = Reader::new(message);
    if r.array::<4>("SMB1 Protocol")? != PROTOCOL_ID {
        return Err(DecodeError::invalid("SMB1 header", "Protocol is not 0xFF 'SMB'"));
    }
    if r.u8("SMB1 Command")? != SMB_COM_NEGOTIATE {
        return Err(DecodeError::invalid("SMB1 header", "only SMB_COM_NEGOTIATE is accepted"));
    }
    // The rest of the 32-byte header (status, flags, pid, tid, uid, mid ...) does not matter here.
    r.skip(27, "SMB1 header")?;
    let word_count = r.u8("WordCount")?;
    r.skip(usize::from(word_count) * 2, "Words")?;
    let byte_count = usize::from(r.u16("ByteCount")?);
    let mut bytes = r.sub(byte_count, "Bytes")?;
    let mut dialects = Vec::new();
    while !bytes.is_empty() {
        if bytes.u8("BufferFormat")? != 0x02 {
            return Err(DecodeError::invalid("SMB1 negotiate", "dialect without the 0x02 buffer format"));
        }
        let rest = bytes.rest();
        let end = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| DecodeError::invalid("SMB1 negotiate", "dialect string without terminator"))?;
        dialects.push(String::from_utf8_lossy(&rest[..end]).into_owned());
        bytes = Reader::new(&rest[end + 1..]);
    }
    Ok(dialects)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An SMB1 negotiate offering NT LM 0.12, SMB 2.002 and SMB 2.??? (the Windows set).
    pub(super) fn golden() -> Vec<u8> {
        let mut message = vec![0xFF, b'S', b'M', b'B', 0x72];
        message.extend_from_slice(&[0; 27]);
        message.push(0); // WordCount
        let mut bytes = Vec::new();
        for dialect in ["NT LM 0.12", "SMB 2.002", "SMB 2.???"] {
            bytes.push(0x02);
            bytes.extend_from_slice(dialect.as_bytes());
            bytes.push(0);
        }
        message.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
        message.extend_from_slice(&bytes);
        message
    }

    #[test]
    fn the_dialect_strings_are_read_in_order() {
        assert_eq!(negotiate_dialects(&golden()).unwrap(), ["NT LM 0.12", "SMB 2.002", "SMB 2.???"]);
    }

    #[test]
    fn a_byte_count_beyond_the_message_is_refused() {
        let mut message = golden();
        message.truncate(message.len() - 3);
        assert!(negotiate_dialects(&message).is_err());
    }
}
