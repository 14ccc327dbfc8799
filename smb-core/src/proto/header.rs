//! MS-SMB2 2.2.1 SMB2 Packet Header (sync 2.2.1.2 and async 2.2.1.1 forms).

use std::fmt;

use super::reader::{DecodeError, Reader, Writer};
use super::status::NtStatus;

pub const PROTOCOL_ID: [u8; 4] = [0xFE, b'S', b'M', b'B'];
pub const HEADER_SIZE: usize = 64;
pub const SIGNATURE_OFFSET: usize = 48;
/// Where the Status field sits in the header (MS-SMB2 2.2.1.2).
pub const STATUS_OFFSET: usize = 8;
pub const SIGNATURE_SIZE: usize = 16;

/// MS-SMB2 2.2.1.2 `Command`: a newtype so that unknown values survive to be answered.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Command(pub u16);

impl Command {
    pub const NEGOTIATE: Command = Command(0x0000);
    pub const SESSION_SETUP: Command = Command(0x0001);
    pub const LOGOFF: Command = Command(0x0002);
    pub const TREE_CONNECT: Command = Command(0x0003);
    pub const TREE_DISCONNECT: Command = Command(0x0004);
    pub const CREATE: Command = Command(0x0005);
    pub const CLOSE: Command = Command(0x0006);
    pub const FLUSH: Command = Command(0x0007);
    pub const READ: Command = Command(0x0008);
    pub const WRITE: Command = Command(0x0009);
    pub const LOCK: Command = Command(0x000A);
    pub const IOCTL: Command = Command(0x000B);
    pub const CANCEL: Command = Command(0x000C);
    pub const ECHO: Command = Command(0x000D);
    pub const QUERY_DIRECTORY: Command = Command(0x000E);
    pub const CHANGE_NOTIFY: Command = Command(0x000F);
    pub const QUERY_INFO: Command = Command(0x0010);
    pub const SET_INFO: Command = Command(0x0011);
    pub const OPLOCK_BREAK: Command = Command(0x0012);

    pub const COUNT: usize = 0x13;

    const NAMES: [&'static str; Self::COUNT] = [
        "NEGOTIATE",
        "SESSION_SETUP",
        "LOGOFF",
        "TREE_CONNECT",
        "TREE_DISCONNECT",
        "CREATE",
        "CLOSE",
        "FLUSH",
        "READ",
        "WRITE",
        "LOCK",
        "IOCTL",
        "CANCEL",
        "ECHO",
        "QUERY_DIRECTORY",
        "CHANGE_NOTIFY",
        "QUERY_INFO",
        "SET_INFO",
        "OPLOCK_BREAK",
    ];

    pub fn name(self) -> Option<&'static str> {
        Self::NAMES.get(usize::from(self.0)).copied()
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "Command({:#06x})", self.0),
        }
    }
}

/// MS-SMB2 2.2.1.2 `Flags`.
pub mod flags {
    pub const SERVER_TO_REDIR: u32 = 0x0000_0001;
    pub const ASYNC_COMMAND: u32 = 0x0000_0002;
    pub const RELATED_OPERATIONS: u32 = 0x0000_0004;
    pub const SIGNED: u32 = 0x0000_0008;
    pub const PRIORITY_MASK: u32 = 0x0000_0070;
    pub const DFS_OPERATIONS: u32 = 0x1000_0000;
    pub const REPLAY_OPERATION: u32 = 0x2000_0000;
}

/// The fields of an SMB2 header. `tree_id` is meaningful in the sync form, `async_id` in the
/// async form (ASYNC_COMMAND set); they share the same eight bytes on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Header {
    pub credit_charge: u16,
    /// Status in responses; ChannelSequence (low 16 bits) in 3.x requests.
    pub status: NtStatus,
    pub command: Command,
    /// CreditRequest in requests, CreditResponse in responses.
    pub credits: u16,
    pub flags: u32,
    pub next_command: u32,
    pub message_id: u64,
    pub async_id: u64,
    pub tree_id: u32,
    pub session_id: u64,
    pub signature: [u8; SIGNATURE_SIZE],
}

impl Default for Command {
    fn default() -> Self {
        Command::NEGOTIATE
    }
}

impl Header {
    pub fn is_async(&self) -> bool {
        self.flags & flags::ASYNC_COMMAND != 0
    }

    pub fn is_related(&self) -> bool {
        self.flags & flags::RELATED_OPERATIONS != 0
    }

    pub fn is_signed(&self) -> bool {
        self.flags & flags::SIGNED != 0
    }

    /// ChannelSequence of a 3.x request (MS-SMB2 2.2.1.2): the low 16 bits of the Status field.
    pub fn channel_sequence(&self) -> u16 {
        (self.status.0 & 0xFFFF) as u16
    }

    pub fn is_response(&self) -> bool {
        self.flags & flags::SERVER_TO_REDIR != 0
    }

    pub fn decode(reader: &mut Reader<'_>) -> Result<Header, DecodeError> {
        if reader.array::<4>("SMB2 header ProtocolId")? != PROTOCOL_ID {
            return Err(DecodeError::invalid("SMB2 header", "ProtocolId is not 0xFE 'SMB'"));
        }
        let structure_size = reader.u16("SMB2 header StructureSize")?;
        if structure_size != 64 {
            return Err(DecodeError::invalid("SMB2 header", format!("StructureSize {structure_size}, not 64")));
        }
        let credit_charge = reader.u16("CreditCharge")?;
        let status = NtStatus(reader.u32("Status")?);
        let command = Command(reader.u16("Command")?);
        let credits = reader.u16("CreditRequest")?;
        let flags = reader.u32("Flags")?;
        let next_command = reader.u32("NextCommand")?;
        let message_id = reader.u64("MessageId")?;
        let (async_id, tree_id) = if flags & flags::ASYNC_COMMAND != 0 {
            (reader.u64("AsyncId")?, 0)
        } else {
            reader.skip(4, "Reserved")?;
            (0, reader.u32("TreeId")?)
        };
        let session_id = reader.u64("SessionId")?;
        let signature = reader.array("Signature")?;
        Ok(Header {
            credit_charge,
            status,
            command,
            credits,
            flags,
            next_command,
            message_id,
            async_id,
            tree_id,
            session_id,
            signature,
        })
    }

    pub fn encode(&self, out: &mut Writer) {
        out.bytes(&PROTOCOL_ID).u16(64).u16(self.credit_charge).u32(self.status.0);
        out.u16(self.command.0).u16(self.credits).u32(self.flags).u32(self.next_command).u64(self.message_id);
        if self.is_async() {
            out.u64(self.async_id);
        } else {
            out.u32(0).u32(self.tree_id);
        }
        out.u64(self.session_id).bytes(&self.signature);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TREE_CONNECT request header laid out from MS-SMB2 2.2.1.2: message 3, one credit, session
    /// 0x0001000000000025, unsigned.
    const GOLDEN: &str = "fe534d4240000100000000000300010000000000000000000300000000000000\
                          0000000000000000250000000000010000000000000000000000000000000000";

    #[test]
    fn sync_header_round_trips_through_golden_bytes() {
        let bytes = hex::decode(GOLDEN).unwrap();
        let header = Header::decode(&mut Reader::new(&bytes)).unwrap();
        assert_eq!(header.command, Command::TREE_CONNECT);
        assert_eq!(header.credit_charge, 1);
        assert_eq!(header.credits, 1);
        assert_eq!(header.message_id, 3);
        assert_eq!(header.session_id, 0x0001_0000_0000_0025);
        let mut out = Writer::new();
        header.encode(&mut out);
        assert_eq!(out.as_slice(), &bytes[..]);
    }

    #[test]
    fn async_headers_carry_the_async_id_instead_of_the_tree() {
        let header = Header {
            command: Command::CHANGE_NOTIFY,
            flags: flags::ASYNC_COMMAND | flags::SERVER_TO_REDIR,
            async_id: 0x1122_3344_5566_7788,
            status: NtStatus::PENDING,
            ..Header::default()
        };
        let mut out = Writer::new();
        header.encode(&mut out);
        assert_eq!(out.len(), HEADER_SIZE);
        let back = Header::decode(&mut Reader::new(out.as_slice())).unwrap();
        assert_eq!(back, header);
    }

    #[test]
    fn a_wrong_protocol_id_is_refused() {
        let mut bytes = hex::decode(GOLDEN).unwrap();
        bytes[0] = 0xFF;
        assert!(Header::decode(&mut Reader::new(&bytes)).is_err());
    }

    #[test]
    fn unknown_commands_keep_their_value() {
        assert_eq!(format!("{:?}", Command(0x0042)), "Command(0x0042)");
        assert_eq!(format!("{:?}", Command::QUERY_INFO), "QUERY_INFO");
    }
}
