//! MS-SMB2 2.2.24 SMB2 OPLOCK_BREAK Acknowledgment (2.2.24.1 oplock, 2.2.24.2 lease).
//! EdgeShare grants neither oplocks nor leases, so only the decoding matters: an acknowledgment
//! is then always a protocol error, answered with a status.

use super::reader::{DecodeError, Writer};
use super::{Field, FileId, body};

/// MS-SMB2 2.2.24 the two acknowledgment forms, told apart by StructureSize.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OplockBreakAcknowledgment {
    /// 2.2.24.1, StructureSize 24.
    Oplock { oplock_level: u8, file_id: FileId },
    /// 2.2.24.2, StructureSize 36.
    Lease { flags: u32, lease_key: [u8; 16], lease_state: u32, lease_duration: u64 },
}

impl OplockBreakAcknowledgment {
    pub fn decode(message: &[u8]) -> Result<Self, DecodeError> {
        let mut r = body(message)?;
        match r.u16("StructureSize")? {
            24 => {
                let oplock_level = r.u8("OplockLevel")?;
                r.skip(5, "Reserved")?;
                Ok(Self::Oplock { oplock_level, file_id: FileId::read(&mut r, "FileId")? })
            }
            36 => {
                r.skip(2, "Reserved")?;
                let flags = r.u32("Flags")?;
                let lease_key = r.array("LeaseKey")?;
                let lease_state = r.u32("LeaseState")?;
                let lease_duration = r.u64("LeaseDuration")?;
                Ok(Self::Lease { flags, lease_key, lease_state, lease_duration })
            }
            other => Err(DecodeError::invalid("OPLOCK_BREAK acknowledgment", format!("StructureSize {other}"))),
        }
    }

    pub fn encode(&self, out: &mut Writer) {
        match self {
            Self::Oplock { oplock_level, file_id } => {
                out.u16(24).u8(*oplock_level).zeros(5);
                file_id.write(out);
            }
            Self::Lease { flags, lease_key, lease_state, lease_duration } => {
                out.u16(36).u16(0).u32(*flags).bytes(lease_key).u32(*lease_state).u64(*lease_duration);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::header::Command;
    use crate::proto::testing::message;

    #[test]
    fn both_acknowledgment_forms_round_trip() {
        for ack in [
            OplockBreakAcknowledgment::Oplock { oplock_level: 1, file_id: FileId { persistent: 3, volatile: 4 } },
            OplockBreakAcknowledgment::Lease { flags: 0, lease_key: [9; 16], lease_state: 1, lease_duration: 0 },
        ] {
            let bytes = message(Command::OPLOCK_BREAK, |out| ack.encode(out));
            assert_eq!(OplockBreakAcknowledgment::decode(&bytes).unwrap(), ack);
        }
    }
}
