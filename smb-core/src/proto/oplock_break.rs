//! MS-SMB2 2.2.23 OPLOCK_BREAK Notification (2.2.23.1 oplock, 2.2.23.2 lease), 2.2.24
//! Acknowledgment and 2.2.25 Response (the acknowledgment's layout, for both kinds).

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

/// MS-SMB2 2.2.23.2 Lease Break Notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseBreakNotification {
    pub new_epoch: u16,
    /// SMB2_NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED (0x01).
    pub ack_required: bool,
    pub lease_key: [u8; 16],
    pub current_state: u32,
    pub new_state: u32,
}

impl LeaseBreakNotification {
    pub const STRUCTURE_SIZE: u16 = 44;

    pub fn encode(&self, out: &mut Writer) {
        out.u16(Self::STRUCTURE_SIZE).u16(self.new_epoch).u32(u32::from(self.ack_required));
        out.bytes(&self.lease_key).u32(self.current_state).u32(self.new_state);
        // BreakReason, AccessMaskHint, ShareMaskHint: reserved, zero.
        out.zeros(12);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::header::Command;
    use crate::proto::testing::message;

    #[test]
    fn a_lease_break_notification_is_44_bytes_with_its_fields_in_place() {
        let mut out = Writer::new();
        LeaseBreakNotification { new_epoch: 2, ack_required: true, lease_key: [7; 16], current_state: 7, new_state: 3 }
            .encode(&mut out);
        let bytes = out.into_vec();
        assert_eq!(bytes.len(), 44);
        assert_eq!(&bytes[..8], &[44, 0, 2, 0, 1, 0, 0, 0]);
        assert_eq!(&bytes[24..32], &[7, 0, 0, 0, 3, 0, 0, 0]);
    }

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
