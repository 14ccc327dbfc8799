//! MS-SMB2 2.2.26 SMB2 LOCK Request (with 2.2.26.1 SMB2_LOCK_ELEMENT) and 2.2.27 Response.

use super::reader::{DecodeError, Writer};
use super::{Field, FileId, body, expect_structure_size, fixed_body};

/// MS-SMB2 2.2.26.1 `Flags`.
pub mod lock_flags {
    pub const SHARED_LOCK: u32 = 0x0000_0001;
    pub const EXCLUSIVE_LOCK: u32 = 0x0000_0002;
    pub const UNLOCK: u32 = 0x0000_0004;
    pub const FAIL_IMMEDIATELY: u32 = 0x0000_0010;
}

/// MS-SMB2 2.2.26.1 SMB2_LOCK_ELEMENT.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct LockElement {
    pub offset: u64,
    pub length: u64,
    pub flags: u32,
}

/// MS-SMB2 2.2.26 SMB2 LOCK Request.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct LockRequest {
    /// LockSequenceNumber (low 4 bits) and LockSequenceIndex (high 28 bits).
    pub lock_sequence: u32,
    pub file_id: FileId,
    pub locks: Vec<LockElement>,
}

impl LockRequest {
    pub const STRUCTURE_SIZE: u16 = 48;

    pub fn decode(message: &[u8]) -> Result<Self, DecodeError> {
        let mut r = body(message)?;
        expect_structure_size(&mut r, Self::STRUCTURE_SIZE, "LOCK request")?;
        let count = r.u16("LockCount")?;
        if count == 0 {
            return Err(DecodeError::invalid("LOCK request", "LockCount is zero"));
        }
        let lock_sequence = r.u32("LockSequence")?;
        let file_id = FileId::read(&mut r, "FileId")?;
        let mut locks = Vec::with_capacity(usize::from(count).min(r.remaining() / 24));
        for _ in 0..count {
            let offset = r.u64("Lock Offset")?;
            let length = r.u64("Lock Length")?;
            let flags = r.u32("Lock Flags")?;
            r.skip(4, "Lock Reserved")?;
            locks.push(LockElement { offset, length, flags });
        }
        Ok(LockRequest { lock_sequence, file_id, locks })
    }

    pub fn encode(&self, out: &mut Writer) {
        out.u16(Self::STRUCTURE_SIZE).u16(self.locks.len() as u16).u32(self.lock_sequence);
        self.file_id.write(out);
        for lock in &self.locks {
            out.u64(lock.offset).u64(lock.length).u32(lock.flags).u32(0);
        }
    }
}

fixed_body! {
    /// MS-SMB2 2.2.27 SMB2 LOCK Response.
    pub struct LockResponse = 4 { reserved: u16 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::header::Command;
    use crate::proto::testing::{body_hex, message};

    #[test]
    fn lock_request_golden_bytes_round_trip() {
        let request = LockRequest {
            lock_sequence: 0,
            file_id: FileId { persistent: 1, volatile: 2 },
            locks: vec![LockElement {
                offset: 0x10,
                length: 4,
                flags: lock_flags::EXCLUSIVE_LOCK | lock_flags::FAIL_IMMEDIATELY,
            }],
        };
        let bytes = message(Command::LOCK, |out| request.encode(out));
        assert_eq!(
            body_hex(&bytes),
            "30000100000000000100000000000000020000000000000010000000000000000400000000000000\
             1200000000000000"
        );
        assert_eq!(LockRequest::decode(&bytes).unwrap(), request);
    }

    #[test]
    fn a_lock_count_beyond_the_message_is_refused() {
        let mut request = LockRequest { locks: vec![LockElement::default()], ..Default::default() };
        let mut bytes = message(Command::LOCK, |out| request.encode(out));
        bytes[64 + 2] = 200;
        assert!(LockRequest::decode(&bytes).is_err());
        request.locks.clear();
        let bytes = message(Command::LOCK, |out| request.encode(out));
        assert!(LockRequest::decode(&bytes).is_err(), "zero locks");
    }
}
