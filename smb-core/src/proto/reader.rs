//! The one way wire data is read ([`Reader`]) and written ([`Writer`]).
//!
//! Every length and offset a peer sends passes through [`Reader`]: it hands out sub-readers of
//! checked length and slices at checked offsets, so no code indexes a buffer with a peer-supplied
//! number. Integers on the SMB2 wire are little-endian (MS-SMB2 section 2.1); the Direct-TCP
//! length prefix is the one big-endian exception and lives in [`super::framing`].

use std::fmt;

/// Why bytes could not be decoded. Carries the name of the structure or field being read, so a
/// peer's misbehaviour can be logged precisely once.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("{what}: needs {needed} bytes, {available} left")]
    Truncated { what: &'static str, needed: usize, available: usize },
    #[error("{what}: {count} unexpected trailing bytes")]
    TrailingBytes { what: &'static str, count: usize },
    #[error("{what}: offset {offset} length {length} lies outside the {bound}-byte message")]
    OutOfBounds { what: &'static str, offset: usize, length: usize, bound: usize },
    #[error("{what}: {reason}")]
    Invalid { what: &'static str, reason: String },
}

impl DecodeError {
    pub fn invalid(what: &'static str, reason: impl fmt::Display) -> Self {
        DecodeError::Invalid { what, reason: reason.to_string() }
    }
}

/// A cursor over borrowed wire bytes that never reads past its end.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, position: 0 }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.position
    }

    pub fn position(&self) -> usize {
        self.position
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The next `count` bytes.
    pub fn take(&mut self, count: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let available = self.remaining();
        if count > available {
            return Err(DecodeError::Truncated { what, needed: count, available });
        }
        let start = self.position;
        self.position += count;
        Ok(&self.bytes[start..self.position])
    }

    /// A reader over the next `count` bytes; this reader moves past them.
    pub fn sub(&mut self, count: usize, what: &'static str) -> Result<Reader<'a>, DecodeError> {
        self.take(count, what).map(Reader::new)
    }

    pub fn skip(&mut self, count: usize, what: &'static str) -> Result<(), DecodeError> {
        self.take(count, what).map(drop)
    }

    /// Everything not yet read.
    pub fn rest(&mut self) -> &'a [u8] {
        let start = self.position;
        self.position = self.bytes.len();
        &self.bytes[start..]
    }

    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let bytes = self.take(N, what)?;
        let mut array = [0; N];
        array.copy_from_slice(bytes);
        Ok(array)
    }

    pub fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(what)?[0])
    }

    pub fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        self.array(what).map(u16::from_le_bytes)
    }

    pub fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        self.array(what).map(u32::from_le_bytes)
    }

    pub fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        self.array(what).map(u64::from_le_bytes)
    }

    pub fn u16_be(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        self.array(what).map(u16::from_be_bytes)
    }

    pub fn u32_be(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        self.array(what).map(u32::from_be_bytes)
    }

    /// Fails unless every byte was read: a structure with a fixed size must not carry extra bytes.
    pub fn finish(&self, what: &'static str) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(DecodeError::TrailingBytes { what, count }),
        }
    }

    /// The `length` bytes at `offset` counted from the start of this reader's whole buffer: how
    /// SMB2 locates variable-length fields (offsets are from the start of the SMB2 header).
    pub fn slice_at(&self, offset: usize, length: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        slice_at(self.bytes, offset, length, what)
    }
}

/// The `length` bytes at `offset` in `bytes`, or an error naming the field.
pub fn slice_at<'a>(
    bytes: &'a [u8],
    offset: usize,
    length: usize,
    what: &'static str,
) -> Result<&'a [u8], DecodeError> {
    offset
        .checked_add(length)
        .filter(|&end| end <= bytes.len())
        .map(|end| &bytes[offset..end])
        .ok_or(DecodeError::OutOfBounds { what, offset, length, bound: bytes.len() })
}

/// Little-endian output with the padding and back-patching SMB2 encoders need.
///
/// A writer may start with a reserved prefix (room for the Direct-TCP and transform headers the
/// transport adds later, so a large READ response is never copied): lengths, offsets and patches
/// all count from the end of that prefix.
#[derive(Clone, Debug, Default)]
pub struct Writer {
    bytes: Vec<u8>,
    base: usize,
}

impl Writer {
    pub fn new() -> Self {
        Writer::default()
    }

    pub fn with_capacity(capacity: usize) -> Self {
        Writer { bytes: Vec::with_capacity(capacity), base: 0 }
    }

    /// A writer whose first `prefix` bytes are reserved (zero) and not counted.
    pub fn with_prefix(prefix: usize, capacity: usize) -> Self {
        let mut bytes = Vec::with_capacity(prefix + capacity);
        bytes.resize(prefix, 0);
        Writer { bytes, base: prefix }
    }

    pub fn len(&self) -> usize {
        self.bytes.len() - self.base
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn u8(&mut self, value: u8) -> &mut Self {
        self.bytes.push(value);
        self
    }

    pub fn u16(&mut self, value: u16) -> &mut Self {
        self.bytes.extend_from_slice(&value.to_le_bytes());
        self
    }

    pub fn u32(&mut self, value: u32) -> &mut Self {
        self.bytes.extend_from_slice(&value.to_le_bytes());
        self
    }

    pub fn u64(&mut self, value: u64) -> &mut Self {
        self.bytes.extend_from_slice(&value.to_le_bytes());
        self
    }

    pub fn u16_be(&mut self, value: u16) -> &mut Self {
        self.bytes.extend_from_slice(&value.to_be_bytes());
        self
    }

    pub fn u32_be(&mut self, value: u32) -> &mut Self {
        self.bytes.extend_from_slice(&value.to_be_bytes());
        self
    }

    pub fn bytes(&mut self, value: &[u8]) -> &mut Self {
        self.bytes.extend_from_slice(value);
        self
    }

    pub fn zeros(&mut self, count: usize) -> &mut Self {
        self.bytes.resize(self.bytes.len() + count, 0);
        self
    }

    /// Pads with zeros to a multiple of `alignment` (counted from the start of the output).
    pub fn align(&mut self, alignment: usize) -> &mut Self {
        let padding = self.len().next_multiple_of(alignment) - self.len();
        self.zeros(padding)
    }

    /// Overwrites a u16 written earlier (for lengths and offsets known only later).
    pub fn patch_u16(&mut self, at: usize, value: u16) {
        let at = self.base + at;
        self.bytes[at..at + 2].copy_from_slice(&value.to_le_bytes());
    }

    pub fn patch_u32(&mut self, at: usize, value: u32) {
        let at = self.base + at;
        self.bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
    }

    /// Drops output after `len` bytes (for replacing a body that turned out to be an error).
    pub fn truncate(&mut self, len: usize) {
        self.bytes.truncate(self.base + len);
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[self.base..]
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.bytes[self.base..]
    }

    /// The underlying buffer, to append to it directly (e.g. reading file data into it).
    pub fn vec_mut(&mut self) -> &mut Vec<u8> {
        &mut self.bytes
    }

    /// The output without the prefix.
    pub fn into_vec(mut self) -> Vec<u8> {
        if self.base == 0 { self.bytes } else { self.bytes.split_off(self.base) }
    }

    /// The whole buffer and the length of its reserved prefix.
    pub fn into_parts(self) -> (Vec<u8>, usize) {
        (self.bytes, self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_little_endian_integers_in_order() {
        let mut reader = Reader::new(&[0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07]);
        assert_eq!(reader.u8("a").unwrap(), 0x01);
        assert_eq!(reader.u16("b").unwrap(), 0x0302);
        assert_eq!(reader.u32("c").unwrap(), 0x0706_0504);
        reader.finish("all").unwrap();
    }

    #[test]
    fn refuses_to_read_past_the_end_and_names_the_field() {
        let mut reader = Reader::new(&[1, 2, 3]);
        let error = reader.u32("StructureSize").unwrap_err();
        assert_eq!(error, DecodeError::Truncated { what: "StructureSize", needed: 4, available: 3 });
        // A failed read consumes nothing.
        assert_eq!(reader.remaining(), 3);
    }

    #[test]
    fn sub_readers_cannot_see_beyond_their_length() {
        let mut reader = Reader::new(&[1, 2, 3, 4]);
        let mut sub = reader.sub(2, "head").unwrap();
        assert_eq!(sub.u16("x").unwrap(), 0x0201);
        assert!(sub.u8("y").is_err());
        assert_eq!(reader.remaining(), 2);
    }

    #[test]
    fn offsets_that_overflow_or_overrun_are_refused() {
        let bytes = [0_u8; 8];
        assert!(slice_at(&bytes, 4, 4, "f").is_ok());
        assert!(slice_at(&bytes, 5, 4, "f").is_err());
        assert!(slice_at(&bytes, usize::MAX, 2, "f").is_err());
    }

    #[test]
    fn trailing_bytes_are_reported() {
        let mut reader = Reader::new(&[1, 2]);
        reader.u8("a").unwrap();
        assert_eq!(reader.finish("s"), Err(DecodeError::TrailingBytes { what: "s", count: 1 }));
    }

    #[test]
    fn a_prefix_is_invisible_to_lengths_offsets_and_patches() {
        let mut writer = Writer::with_prefix(4, 16);
        writer.u8(1).align(4).u16(0);
        writer.patch_u16(4, 0x0102);
        assert_eq!(writer.as_slice(), &[1, 0, 0, 0, 2, 1]);
        let (bytes, base) = writer.into_parts();
        assert_eq!((bytes.len(), base), (10, 4));
    }

    #[test]
    fn writer_aligns_and_patches() {
        let mut writer = Writer::new();
        writer.u8(1).align(8).u16(0);
        writer.patch_u16(8, 0xbeef);
        assert_eq!(writer.as_slice(), &[1, 0, 0, 0, 0, 0, 0, 0, 0xef, 0xbe]);
    }
}
