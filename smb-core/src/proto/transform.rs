//! MS-SMB2 2.2.41 SMB2 TRANSFORM_HEADER: the envelope of an encrypted message.

use super::reader::{DecodeError, Reader, Writer};

pub const PROTOCOL_ID: [u8; 4] = [0xFD, b'S', b'M', b'B'];
pub const SIZE: usize = 52;
/// The authenticated (not encrypted) part: from Nonce through SessionId (MS-SMB2 3.1.4.3).
pub const AAD_RANGE: std::ops::Range<usize> = 20..52;

/// MS-SMB2 2.2.41 `Flags` (3.1.1) / `EncryptionAlgorithm` (3.0): 0x0001 = encrypted.
pub const FLAGS_ENCRYPTED: u16 = 0x0001;

/// MS-SMB2 2.2.41 SMB2 TRANSFORM_HEADER.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TransformHeader {
    pub signature: [u8; 16],
    /// 11 bytes used for CCM, 12 for GCM; the rest zero.
    pub nonce: [u8; 16],
    pub original_message_size: u32,
    pub flags: u16,
    pub session_id: u64,
}

impl TransformHeader {
    pub fn decode(bytes: &[u8]) -> Result<TransformHeader, DecodeError> {
        let mut r = Reader::new(bytes);
        if r.array::<4>("TRANSFORM_HEADER ProtocolId")? != PROTOCOL_ID {
            return Err(DecodeError::invalid("TRANSFORM_HEADER", "ProtocolId is not 0xFD 'SMB'"));
        }
        let signature = r.array("Signature")?;
        let nonce = r.array("Nonce")?;
        let original_message_size = r.u32("OriginalMessageSize")?;
        r.skip(2, "Reserved")?;
        let flags = r.u16("Flags")?;
        let session_id = r.u64("SessionId")?;
        Ok(TransformHeader { signature, nonce, original_message_size, flags, session_id })
    }

    pub fn encode(&self, out: &mut Writer) {
        out.bytes(&PROTOCOL_ID).bytes(&self.signature).bytes(&self.nonce);
        out.u32(self.original_message_size).u16(0).u16(self.flags).u64(self.session_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transform_header_is_52_bytes_and_round_trips() {
        let header = TransformHeader {
            signature: [1; 16],
            nonce: [2; 16],
            original_message_size: 100,
            flags: FLAGS_ENCRYPTED,
            session_id: 0x1234,
        };
        let mut out = Writer::new();
        header.encode(&mut out);
        assert_eq!(out.len(), SIZE);
        assert_eq!(&out.as_slice()[AAD_RANGE][..16], &[2; 16]);
        assert_eq!(TransformHeader::decode(out.as_slice()).unwrap(), header);
    }
}
