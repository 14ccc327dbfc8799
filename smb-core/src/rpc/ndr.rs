//! NDR marshalling (C706 chapter 14 for NDR 2.0, MS-RPCE 2.2.5 for NDR64), as much as srvsvc
//! needs: integers, unique pointers, conformant arrays and conformant varying strings; and the
//! decoding MS-PAC needs (RPC_UNICODE_STRING pointees, RPC_SID).
//! Alignment counts from the start of the stub data.

use crate::proto::dtyp::Sid;
use crate::proto::{DecodeError, Reader, Writer, utf16};

/// Which transfer syntax a context was bound with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Syntax {
    Ndr20,
    Ndr64,
}

/// Output in one syntax. Unique pointers' referent ids are non-zero, as Windows writes them:
/// increasing in NDR 2.0, and always 0x20000 in NDR64 (where unique pointers never alias, and
/// some clients expect exactly that value).
pub(crate) struct NdrWriter {
    out: Writer,
    syntax: Syntax,
    next_referent: u64,
}

impl NdrWriter {
    pub(crate) fn new(syntax: Syntax) -> NdrWriter {
        NdrWriter { out: Writer::new(), syntax, next_referent: 0x0002_0000 }
    }

    pub(crate) fn is_ndr64(&self) -> bool {
        self.syntax == Syntax::Ndr64
    }

    pub(crate) fn align(&mut self, alignment: usize) -> &mut Self {
        self.out.align(alignment);
        self
    }

    /// The alignment of a structure holding pointers or sizes (4 in NDR 2.0, 8 in NDR64).
    pub(crate) fn align_struct(&mut self) -> &mut Self {
        let alignment = if self.is_ndr64() { 8 } else { 4 };
        self.align(alignment)
    }

    pub(crate) fn u32(&mut self, value: u32) -> &mut Self {
        self.align(4);
        self.out.u32(value);
        self
    }

    /// A conformance or variance count: 32 bits in NDR 2.0, 64 in NDR64.
    pub(crate) fn size(&mut self, value: usize) -> &mut Self {
        if self.is_ndr64() {
            self.align(8);
            self.out.u64(value as u64);
        } else {
            self.u32(value as u32);
        }
        self
    }

    /// A unique pointer's referent id (zero for null).
    pub(crate) fn pointer(&mut self, present: bool) -> &mut Self {
        let referent = match (present, self.syntax) {
            (false, _) => 0,
            (true, Syntax::Ndr64) => 0x0002_0000,
            (true, Syntax::Ndr20) => {
                let id = self.next_referent;
                self.next_referent += 4;
                id
            }
        };
        if self.is_ndr64() {
            self.align(8);
            self.out.u64(referent);
        } else {
            self.u32(referent as u32);
        }
        self
    }

    /// A NUL-terminated UTF-16 conformant varying string (`[string] wchar_t*` pointee).
    pub(crate) fn string(&mut self, text: &str) -> &mut Self {
        let mut units = utf16::encode(text);
        units.extend_from_slice(&[0, 0]);
        let count = units.len() / 2;
        self.size(count).size(0).size(count);
        self.out.bytes(&units);
        self
    }

    // Only the PAC tests encode these so far.
    #[cfg(test)]
    pub(crate) fn u16(&mut self, value: u16) -> &mut Self {
        self.align(2);
        self.out.u16(value);
        self
    }

    // Only the PAC tests encode these so far.
    #[cfg(test)]
    pub(crate) fn bytes(&mut self, value: &[u8]) -> &mut Self {
        self.out.bytes(value);
        self
    }

    // Only the PAC tests encode these so far.
    #[cfg(test)]
    /// An RPC_SID pointee (MS-DTYP 2.4.2.3): conformance, then the SID.
    pub(crate) fn sid(&mut self, sid: &Sid) -> &mut Self {
        self.size(sid.sub_authorities.len());
        sid.encode(&mut self.out);
        self
    }

    pub(crate) fn into_vec(self) -> Vec<u8> {
        self.out.into_vec()
    }
}

/// Input in one syntax.
pub(crate) struct NdrReader<'a> {
    bytes: &'a [u8],
    reader: Reader<'a>,
    syntax: Syntax,
}

impl<'a> NdrReader<'a> {
    pub(crate) fn new(bytes: &'a [u8], syntax: Syntax) -> NdrReader<'a> {
        NdrReader { bytes, reader: Reader::new(bytes), syntax }
    }

    fn align(&mut self, alignment: usize) -> Result<(), DecodeError> {
        let position = self.bytes.len() - self.reader.remaining();
        self.reader.skip(position.next_multiple_of(alignment) - position, "NDR padding")
    }

    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        self.align(4)?;
        self.reader.u32("NDR u32")
    }

    /// Skips to the alignment of a structure holding pointers or sizes (4 in NDR 2.0, 8 in NDR64).
    pub(crate) fn align_struct(&mut self) -> Result<(), DecodeError> {
        self.align(if self.syntax == Syntax::Ndr64 { 8 } else { 4 })
    }

    fn size(&mut self) -> Result<usize, DecodeError> {
        if self.syntax == Syntax::Ndr64 {
            self.align(8)?;
            Ok(self.reader.u64("NDR64 size")? as usize)
        } else {
            Ok(self.u32()? as usize)
        }
    }

    /// A unique pointer: whether its referent follows.
    pub(crate) fn pointer(&mut self) -> Result<bool, DecodeError> {
        if self.syntax == Syntax::Ndr64 {
            self.align(8)?;
            Ok(self.reader.u64("NDR64 pointer")? != 0)
        } else {
            Ok(self.u32()? != 0)
        }
    }

    /// A conformant varying UTF-16 string, without its terminating NUL.
    pub(crate) fn string(&mut self) -> Result<String, DecodeError> {
        let maximum = self.size()?;
        let offset = self.size()?;
        let actual = self.size()?;
        if offset != 0 || actual > maximum {
            return Err(DecodeError::invalid("NDR string", "offset or length out of range"));
        }
        let bytes = self
            .reader
            .take(actual.checked_mul(2).ok_or_else(|| DecodeError::invalid("NDR string", "too long"))?, "NDR string")?;
        let text = utf16::decode(bytes, "NDR string")?;
        Ok(text.trim_end_matches('\0').to_owned())
    }

    /// A unique pointer to a string.
    pub(crate) fn optional_string(&mut self) -> Result<Option<String>, DecodeError> {
        if self.pointer()? { self.string().map(Some) } else { Ok(None) }
    }

    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        self.align(2)?;
        self.reader.u16("NDR u16")
    }

    /// `count` bytes (an array of bytes or a fixed-size byte structure), unaligned.
    pub(crate) fn bytes(&mut self, count: usize) -> Result<&'a [u8], DecodeError> {
        self.reader.take(count, "NDR bytes")
    }

    /// A conformance count (the maximum count of a conformant array), checked against the count
    /// the enclosing structure gave for it.
    pub(crate) fn conformance(&mut self, expected: usize, what: &'static str) -> Result<(), DecodeError> {
        match self.size()? {
            count if count == expected => Ok(()),
            count => Err(DecodeError::invalid(what, format!("conformance {count}, expected {expected}"))),
        }
    }

    /// A conformant varying array of `max_units` UTF-16 code units at most holding exactly
    /// `units` (the pointee of an MS-DTYP 2.3.10 RPC_UNICODE_STRING: not NUL-terminated).
    pub(crate) fn counted_string(&mut self, max_units: usize, units: usize) -> Result<String, DecodeError> {
        let maximum = self.size()?;
        let offset = self.size()?;
        let actual = self.size()?;
        if maximum != max_units || offset != 0 || actual != units || actual > maximum {
            return Err(DecodeError::invalid("NDR counted string", "counts differ from the string's lengths"));
        }
        utf16::decode(self.reader.take(actual * 2, "NDR counted string")?, "NDR counted string")
    }

    /// The pointee of an MS-DTYP 2.4.2.3 RPC_SID: its conformance (the sub-authority count),
    /// then the SID.
    pub(crate) fn sid(&mut self) -> Result<Sid, DecodeError> {
        let conformance = self.size()?;
        let sid = Sid::decode(&mut self.reader)?;
        if conformance != sid.sub_authorities.len() {
            return Err(DecodeError::invalid("RPC_SID", "conformance differs from SubAuthorityCount"));
        }
        Ok(sid)
    }

    /// Fails unless every byte up to the last alignment padding was read.
    pub(crate) fn finish(&mut self, what: &'static str) -> Result<(), DecodeError> {
        let rest = self.reader.rest();
        match rest.len() < 8 && rest.iter().all(|&byte| byte == 0) {
            true => Ok(()),
            false => Err(DecodeError::TrailingBytes { what, count: rest.len() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip_in_both_syntaxes() {
        for syntax in [Syntax::Ndr20, Syntax::Ndr64] {
            let mut writer = NdrWriter::new(syntax);
            writer.pointer(true).string("\\\\server").u32(7);
            let bytes = writer.into_vec();
            let mut reader = NdrReader::new(&bytes, syntax);
            assert_eq!(reader.optional_string().unwrap().as_deref(), Some("\\\\server"));
            assert_eq!(reader.u32().unwrap(), 7);
        }
    }

    #[test]
    fn a_string_longer_than_its_maximum_is_refused() {
        let mut writer = NdrWriter::new(Syntax::Ndr20);
        writer.size(1).size(0).size(5);
        let bytes = writer.into_vec();
        assert!(NdrReader::new(&bytes, Syntax::Ndr20).string().is_err());
    }
}
