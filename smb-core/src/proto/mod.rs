//! The SMB2/3 wire format (MS-SMB2 section 2), parsed through one bounds-checked [`Reader`].
//!
//! One file per command, each holding its request and response with `decode` and `encode` in
//! both directions (the server decodes requests and encodes responses; tests and the project's
//! own test clients do the opposite). Bodies are decoded from the whole message, because SMB2
//! offsets count from the start of the header.

pub mod cancel;
pub mod change_notify;
pub mod close;
pub mod create;
pub mod dtyp;
pub mod echo;
pub mod error;
pub mod flush;
pub mod framing;
pub mod fscc;
pub mod header;
pub mod ioctl;
pub mod lock;
pub mod logoff;
pub mod negotiate;
pub mod oplock_break;
pub mod query_directory;
pub mod query_info;
pub mod read;
pub mod reader;
pub mod session_setup;
pub mod set_info;
pub mod smb1;
pub mod status;
pub mod transform;
pub mod tree_connect;
pub mod tree_disconnect;
pub mod utf16;
pub mod write;

pub use reader::{DecodeError, Reader, Writer};
pub use status::NtStatus;

use header::HEADER_SIZE;

/// MS-SMB2 2.2.14.1 SMB2_FILEID: the persistent and volatile halves of an open's handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct FileId {
    pub persistent: u64,
    pub volatile: u64,
}

impl FileId {
    /// In a related compound request, "the file of the previous operation" (MS-SMB2 3.3.5.2.7.2).
    pub const RELATED: FileId = FileId { persistent: u64::MAX, volatile: u64::MAX };
}

/// Fixed-size field types of SMB2 structures.
pub trait Field: Sized {
    fn read(reader: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError>;
    fn write(&self, out: &mut Writer);
}

impl Field for u8 {
    fn read(reader: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        reader.u8(what)
    }
    fn write(&self, out: &mut Writer) {
        out.u8(*self);
    }
}

impl Field for u16 {
    fn read(reader: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        reader.u16(what)
    }
    fn write(&self, out: &mut Writer) {
        out.u16(*self);
    }
}

impl Field for u32 {
    fn read(reader: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        reader.u32(what)
    }
    fn write(&self, out: &mut Writer) {
        out.u32(*self);
    }
}

impl Field for u64 {
    fn read(reader: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        reader.u64(what)
    }
    fn write(&self, out: &mut Writer) {
        out.u64(*self);
    }
}

impl Field for FileId {
    fn read(reader: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        Ok(FileId { persistent: reader.u64(what)?, volatile: reader.u64(what)? })
    }
    fn write(&self, out: &mut Writer) {
        out.u64(self.persistent).u64(self.volatile);
    }
}

/// Reads a body's StructureSize and refuses any other value.
pub fn expect_structure_size(reader: &mut Reader<'_>, expected: u16, what: &'static str) -> Result<(), DecodeError> {
    let size = reader.u16("StructureSize")?;
    if size != expected {
        return Err(DecodeError::invalid(what, format!("StructureSize {size}, expected {expected}")));
    }
    Ok(())
}

/// A reader positioned at the body of `message` (just past the 64-byte header).
pub fn body(message: &[u8]) -> Result<Reader<'_>, DecodeError> {
    let mut reader = Reader::new(message);
    reader.skip(HEADER_SIZE, "SMB2 header")?;
    Ok(reader)
}

/// Declares an SMB2 body made only of fixed-size fields: `decode` (after the header, checking
/// StructureSize) and `encode`. Fields named `_` are reserved: zero on output, ignored on input.
macro_rules! fixed_body {
    (
        $(#[$meta:meta])*
        pub struct $name:ident = $size:literal { $($field:ident : $ty:ty),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Default)]
        pub struct $name { $(pub $field: $ty,)* }

        impl $name {
            pub const STRUCTURE_SIZE: u16 = $size;

            pub fn decode(message: &[u8]) -> Result<Self, $crate::proto::DecodeError> {
                let mut reader = $crate::proto::body(message)?;
                $crate::proto::expect_structure_size(&mut reader, $size, stringify!($name))?;
                Ok($name { $($field: <$ty as $crate::proto::Field>::read(&mut reader, stringify!($field))?,)* })
            }

            pub fn encode(&self, out: &mut $crate::proto::Writer) {
                out.u16($size);
                $(<$ty as $crate::proto::Field>::write(&self.$field, out);)*
            }
        }
    };
}
pub(crate) use fixed_body;

#[cfg(test)]
pub(crate) mod testing {
    use super::Writer;
    use super::header::{Command, Header};

    /// A message: a default header for `command` and the body `encode` writes.
    pub(crate) fn message(command: Command, encode: impl FnOnce(&mut Writer)) -> Vec<u8> {
        let mut out = Writer::new();
        Header { command, ..Header::default() }.encode(&mut out);
        encode(&mut out);
        out.into_vec()
    }

    /// The body of `message` as hex.
    pub(crate) fn body_hex(message: &[u8]) -> String {
        hex::encode(&message[super::header::HEADER_SIZE..])
    }
}
