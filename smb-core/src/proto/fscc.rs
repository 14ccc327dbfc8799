//! MS-FSCC information classes: what QUERY_INFO, SET_INFO and QUERY_DIRECTORY carry.

use super::reader::{DecodeError, Reader, Writer};
use super::utf16;

/// MS-FSCC 2.6 file attributes.
pub mod attributes {
    pub const READONLY: u32 = 0x0000_0001;
    pub const HIDDEN: u32 = 0x0000_0002;
    pub const SYSTEM: u32 = 0x0000_0004;
    pub const DIRECTORY: u32 = 0x0000_0010;
    pub const ARCHIVE: u32 = 0x0000_0020;
    pub const NORMAL: u32 = 0x0000_0080;
    pub const TEMPORARY: u32 = 0x0000_0100;
    pub const SPARSE_FILE: u32 = 0x0000_0200;
    pub const REPARSE_POINT: u32 = 0x0000_0400;
    pub const COMPRESSED: u32 = 0x0000_0800;
    pub const OFFLINE: u32 = 0x0000_1000;
    pub const NOT_CONTENT_INDEXED: u32 = 0x0000_2000;
    pub const ENCRYPTED: u32 = 0x0000_4000;
    pub const INTEGRITY_STREAM: u32 = 0x0000_8000;
    pub const NO_SCRUB_DATA: u32 = 0x0002_0000;
    /// What a client may set; the rest describe the file and are kept by the server.
    pub const SETTABLE: u32 = READONLY | HIDDEN | SYSTEM | ARCHIVE | TEMPORARY | OFFLINE | NOT_CONTENT_INDEXED;
}

/// MS-FSCC 2.4 file information classes.
pub mod file_class {
    pub const DIRECTORY: u8 = 1;
    pub const FULL_DIRECTORY: u8 = 2;
    pub const BOTH_DIRECTORY: u8 = 3;
    pub const BASIC: u8 = 4;
    pub const STANDARD: u8 = 5;
    pub const INTERNAL: u8 = 6;
    pub const EA: u8 = 7;
    pub const ACCESS: u8 = 8;
    pub const NAME: u8 = 9;
    pub const RENAME: u8 = 10;
    pub const LINK: u8 = 11;
    pub const NAMES: u8 = 12;
    pub const DISPOSITION: u8 = 13;
    pub const POSITION: u8 = 14;
    pub const FULL_EA: u8 = 15;
    pub const MODE: u8 = 16;
    pub const ALIGNMENT: u8 = 17;
    pub const ALL: u8 = 18;
    pub const ALLOCATION: u8 = 19;
    pub const END_OF_FILE: u8 = 20;
    pub const ALTERNATE_NAME: u8 = 21;
    pub const STREAM: u8 = 22;
    pub const PIPE: u8 = 23;
    pub const COMPRESSION: u8 = 28;
    pub const NETWORK_OPEN: u8 = 34;
    pub const ATTRIBUTE_TAG: u8 = 35;
    pub const ID_BOTH_DIRECTORY: u8 = 37;
    pub const ID_FULL_DIRECTORY: u8 = 38;
    pub const VALID_DATA_LENGTH: u8 = 39;
    pub const SHORT_NAME: u8 = 40;
    pub const NORMALIZED_NAME: u8 = 48;
    pub const ID: u8 = 59;
    pub const DISPOSITION_EX: u8 = 64;
}

/// MS-FSCC 2.5 file system information classes.
pub mod fs_class {
    pub const VOLUME: u8 = 1;
    pub const LABEL: u8 = 2;
    pub const SIZE: u8 = 3;
    pub const DEVICE: u8 = 4;
    pub const ATTRIBUTE: u8 = 5;
    pub const CONTROL: u8 = 6;
    pub const FULL_SIZE: u8 = 7;
    pub const OBJECT_ID: u8 = 8;
    pub const SECTOR_SIZE: u8 = 11;
}

/// What every class describing a file is made from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileMeta {
    /// FILETIMEs (100 ns since 1601).
    pub creation_time: u64,
    pub last_access_time: u64,
    pub last_write_time: u64,
    pub change_time: u64,
    pub end_of_file: u64,
    pub allocation_size: u64,
    pub attributes: u32,
    /// The on-disk identity (IndexNumber, FileId).
    pub file_id: u64,
    pub links: u32,
    pub is_directory: bool,
}

/// MS-FSCC 2.4.7 FileBasicInformation (40 bytes).
pub fn basic(meta: &FileMeta, out: &mut Writer) {
    out.u64(meta.creation_time).u64(meta.last_access_time).u64(meta.last_write_time).u64(meta.change_time);
    out.u32(meta.attributes).u32(0);
}

/// MS-FSCC 2.4.41 FileStandardInformation (24 bytes). A file whose deletion is pending has no
/// links left in the namespace's eyes (NumberOfLinks 0, as NTFS reports).
pub fn standard(meta: &FileMeta, delete_pending: bool, out: &mut Writer) {
    let links = if delete_pending { meta.links.saturating_sub(1) } else { meta.links };
    out.u64(meta.allocation_size).u64(meta.end_of_file).u32(links);
    out.u8(u8::from(delete_pending)).u8(u8::from(meta.is_directory)).u16(0);
}

/// MS-FSCC 2.4.29 FileNetworkOpenInformation (56 bytes).
pub fn network_open(meta: &FileMeta, out: &mut Writer) {
    out.u64(meta.creation_time).u64(meta.last_access_time).u64(meta.last_write_time).u64(meta.change_time);
    out.u64(meta.allocation_size).u64(meta.end_of_file).u32(meta.attributes).u32(0);
}

/// MS-FSCC 2.1.7 FILE_NAME_INFORMATION layout (FileNameInformation, FileNormalizedNameInformation).
pub fn name(name: &str, out: &mut Writer) {
    let bytes = utf16::encode(name);
    out.u32(bytes.len() as u32).bytes(&bytes);
}

/// MS-FSCC 2.4.2 FileAllInformation.
pub struct AllInformation<'a> {
    pub meta: &'a FileMeta,
    pub delete_pending: bool,
    pub access: u32,
    pub position: u64,
    pub mode: u32,
    pub name: &'a str,
}

pub fn all(info: &AllInformation<'_>, out: &mut Writer) {
    basic(info.meta, out);
    standard(info.meta, info.delete_pending, out);
    out.u64(info.meta.file_id); // Internal
    out.u32(0); // EaSize
    out.u32(info.access);
    out.u64(info.position);
    out.u32(info.mode);
    out.u32(0); // AlignmentRequirement: byte
    name(info.name, out);
}

/// MS-FSCC 2.4.49 FileStreamInformation for a file with only its unnamed data stream.
pub fn data_stream(meta: &FileMeta, out: &mut Writer) {
    let stream = utf16::encode("::$DATA");
    out.u32(0).u32(stream.len() as u32).u64(meta.end_of_file).u64(meta.allocation_size).bytes(&stream);
}

/// MS-FSCC 2.1.5.2.1 8.3 names: the name itself (upper case) when it already is one, else a
/// mangled `STEM~XYZ.EXT` whose three characters after `~` come from a hash of the whole name, so
/// that names alike in their first letters still get different short names without any state.
pub fn short_name(name: &str) -> String {
    let valid = |c: char| c.is_ascii_alphanumeric() || "!#$%&'()-@^_`{}~".contains(c);
    let (stem, extension) = match name.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() => (stem, extension),
        _ => (name, ""),
    };
    let is_short =
        !stem.is_empty() && stem.len() <= 8 && extension.len() <= 3 && stem.chars().chain(extension.chars()).all(valid);
    if is_short {
        return name.to_uppercase();
    }
    let clean =
        |text: &str, length: usize| text.chars().filter(|c| valid(*c)).take(length).collect::<String>().to_uppercase();
    let stem = clean(stem, 4);
    let extension = clean(extension, 3);
    let stem = if stem.is_empty() { "FILE".to_owned() } else { stem };
    // FNV-1a over the upper-cased name: lookups are case-insensitive, so is the short name.
    let mut hash: u32 = 0x811c_9dc5;
    for byte in name.to_uppercase().bytes() {
        hash = (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193);
    }
    const DIGITS: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let tag: String = (0..3).map(|i| DIGITS[(hash / 36u32.pow(i) % 36) as usize] as char).collect();
    if extension.is_empty() { format!("{stem}~{tag}") } else { format!("{stem}~{tag}.{extension}") }
}

/// Directory enumeration classes: one entry. Returns `false`, writing nothing, when the entry
/// does not fit in `space` bytes. Entries are 8-byte aligned by the caller.
pub fn directory_entry(
    class: u8,
    entry_name: &str,
    meta: &FileMeta,
    file_index: u32,
    space: usize,
    out: &mut Writer,
) -> Result<bool, DecodeError> {
    let name = utf16::encode(entry_name);
    let fixed = match class {
        file_class::DIRECTORY => 64,
        file_class::FULL_DIRECTORY => 68,
        file_class::BOTH_DIRECTORY => 94,
        file_class::NAMES => 12,
        file_class::ID_BOTH_DIRECTORY => 104,
        file_class::ID_FULL_DIRECTORY => 80,
        other => return Err(DecodeError::invalid("FileInformationClass", format!("{other} is not a directory class"))),
    };
    if fixed + name.len() > space {
        return Ok(false);
    }
    out.u32(0).u32(file_index);
    if class == file_class::NAMES {
        out.u32(name.len() as u32).bytes(&name);
        return Ok(true);
    }
    out.u64(meta.creation_time).u64(meta.last_access_time).u64(meta.last_write_time).u64(meta.change_time);
    out.u64(meta.end_of_file).u64(meta.allocation_size).u32(meta.attributes).u32(name.len() as u32);
    match class {
        file_class::DIRECTORY => {}
        file_class::FULL_DIRECTORY => {
            out.u32(0);
        }
        file_class::ID_FULL_DIRECTORY => {
            out.u32(0).u32(0).u64(meta.file_id);
        }
        _ => {
            // BOTH_DIRECTORY: EaSize, ShortNameLength, Reserved, ShortName (24 bytes); ID_BOTH adds
            // Reserved2 and FileId. "." and ".." have no short name.
            let short = if entry_name == "." || entry_name == ".." {
                Vec::new()
            } else {
                utf16::encode(&short_name(entry_name))
            };
            let short = &short[..short.len().min(24)];
            out.u32(0).u8(short.len() as u8).u8(0).bytes(short).zeros(24 - short.len());
            if class == file_class::ID_BOTH_DIRECTORY {
                out.u16(0).u64(meta.file_id);
            }
        }
    }
    out.bytes(&name);
    Ok(true)
}

/// MS-FSCC 2.4.7 FileBasicInformation as a SET_INFO input. Times: 0 leaves the time alone,
/// -1 (all ones) stops its automatic update, -2 resumes it (MS-FSCC 2.4.7).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct BasicInformation {
    pub creation_time: i64,
    pub last_access_time: i64,
    pub last_write_time: i64,
    pub change_time: i64,
    pub attributes: u32,
}

impl BasicInformation {
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let info = BasicInformation {
            creation_time: r.u64("CreationTime")? as i64,
            last_access_time: r.u64("LastAccessTime")? as i64,
            last_write_time: r.u64("LastWriteTime")? as i64,
            change_time: r.u64("ChangeTime")? as i64,
            attributes: r.u32("FileAttributes")?,
        };
        // Reserved (4 bytes) is optional in practice: some clients send 36 bytes.
        Ok(info)
    }

    pub fn encode(&self, out: &mut Writer) {
        out.u64(self.creation_time as u64).u64(self.last_access_time as u64);
        out.u64(self.last_write_time as u64).u64(self.change_time as u64).u32(self.attributes).u32(0);
    }
}

/// MS-FSCC 2.4.15 FILE_FULL_EA_INFORMATION: one extended attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FullEa {
    /// FILE_NEED_EA (0x80) or 0.
    pub flags: u8,
    pub name: String,
    pub value: Vec<u8>,
}

/// Characters an EA name cannot hold (MS-FSCC 2.4.15: those of file names, and no controls).
pub fn valid_ea_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name.bytes().all(|b| b > 0x1F && b < 0x7F && !b"\"*+,/:;<=>?[\\]|".contains(&b))
}

impl FullEa {
    /// A chain of entries, each 4-byte aligned and linked by NextEntryOffset.
    pub fn encode_all(entries: &[FullEa]) -> Vec<u8> {
        let mut out = Writer::new();
        for (index, entry) in entries.iter().enumerate() {
            let start = out.len();
            out.u32(0).u8(entry.flags).u8(entry.name.len() as u8).u16(entry.value.len() as u16);
            out.bytes(entry.name.as_bytes()).u8(0).bytes(&entry.value);
            if index + 1 < entries.len() {
                out.align(4);
                let next = (out.len() - start) as u32;
                out.patch_u32(start, next);
            }
        }
        out.into_vec()
    }

    /// The size clients are told the EAs take (FileEaInformation, directory entries).
    pub fn size_of_all(entries: &[FullEa]) -> u32 {
        if entries.is_empty() { 0 } else { Self::encode_all(entries).len() as u32 }
    }

    pub fn decode_all(bytes: &[u8]) -> Result<Vec<FullEa>, DecodeError> {
        let mut entries = Vec::new();
        let mut position = 0;
        loop {
            let mut r = Reader::new(super::reader::slice_at(
                bytes,
                position,
                bytes.len().saturating_sub(position),
                "FILE_FULL_EA_INFORMATION",
            )?);
            let next = r.u32("NextEntryOffset")? as usize;
            let flags = r.u8("Flags")?;
            let name_length = usize::from(r.u8("EaNameLength")?);
            let value_length = usize::from(r.u16("EaValueLength")?);
            let name = r.take(name_length, "EaName")?;
            if r.u8("EaName terminator")? != 0 {
                return Err(DecodeError::invalid("FILE_FULL_EA_INFORMATION", "EaName is not NUL-terminated"));
            }
            let value = r.take(value_length, "EaValue")?.to_vec();
            let name = String::from_utf8(name.to_vec()).map_err(|_| DecodeError::invalid("EaName", "not ASCII"))?;
            entries.push(FullEa { flags, name, value });
            if next == 0 {
                return Ok(entries);
            }
            if next < 8 + name_length + 1 {
                return Err(DecodeError::invalid("FILE_FULL_EA_INFORMATION", "NextEntryOffset inside the entry"));
            }
            position += next;
        }
    }
}

/// MS-FSCC 2.4.15.1 FILE_GET_EA_INFORMATION: the names a query asks for.
pub fn decode_get_ea_names(bytes: &[u8]) -> Result<Vec<String>, DecodeError> {
    let mut names = Vec::new();
    let mut position = 0;
    loop {
        let mut r = Reader::new(super::reader::slice_at(
            bytes,
            position,
            bytes.len().saturating_sub(position),
            "FILE_GET_EA_INFORMATION",
        )?);
        let next = r.u32("NextEntryOffset")? as usize;
        let length = usize::from(r.u8("EaNameLength")?);
        let name = r.take(length, "EaName")?;
        names.push(String::from_utf8_lossy(name).into_owned());
        if next == 0 {
            return Ok(names);
        }
        if next < 5 + length {
            return Err(DecodeError::invalid("FILE_GET_EA_INFORMATION", "NextEntryOffset inside the entry"));
        }
        position += next;
    }
}

/// MS-FSCC 2.4.37.2 FILE_RENAME_INFORMATION_TYPE_2 (and 2.4.23 FileLinkInformation, the same
/// layout).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct RenameInformation {
    pub replace_if_exists: bool,
    pub root_directory: u64,
    pub name: String,
}

impl RenameInformation {
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let replace_if_exists = r.u8("ReplaceIfExists")? != 0;
        r.skip(7, "Reserved")?;
        let root_directory = r.u64("RootDirectory")?;
        let length = r.u32("FileNameLength")? as usize;
        let name = utf16::decode(r.take(length, "FileName")?, "FileName")?;
        Ok(RenameInformation { replace_if_exists, root_directory, name })
    }

    pub fn encode(&self, out: &mut Writer) {
        let name = utf16::encode(&self.name);
        out.u8(u8::from(self.replace_if_exists)).zeros(7).u64(self.root_directory).u32(name.len() as u32).bytes(&name);
    }
}

/// MS-FSCC 2.4.11.2 FileDispositionInformationEx flags.
pub mod disposition_ex {
    pub const DELETE: u32 = 0x0000_0001;
    pub const POSIX_SEMANTICS: u32 = 0x0000_0002;
    pub const ON_CLOSE: u32 = 0x0000_0008;
    pub const IGNORE_READONLY_ATTRIBUTE: u32 = 0x0000_0010;
}

/// MS-FSCC 2.5.10 FileFsVolumeInformation.
pub fn fs_volume(creation_time: u64, serial: u32, label: &str, out: &mut Writer) {
    let label = utf16::encode(label);
    out.u64(creation_time).u32(serial).u32(label.len() as u32).u8(0).u8(0).bytes(&label);
}

/// MS-FSCC 2.5.8 FileFsSizeInformation.
pub fn fs_size(total_units: u64, available_units: u64, sectors_per_unit: u32, bytes_per_sector: u32, out: &mut Writer) {
    out.u64(total_units).u64(available_units).u32(sectors_per_unit).u32(bytes_per_sector);
}

/// MS-FSCC 2.5.4 FileFsFullSizeInformation.
pub fn fs_full_size(
    total: u64,
    caller_available: u64,
    actual_available: u64,
    sectors_per_unit: u32,
    bytes_per_sector: u32,
    out: &mut Writer,
) {
    out.u64(total).u64(caller_available).u64(actual_available).u32(sectors_per_unit).u32(bytes_per_sector);
}

/// MS-FSCC 2.5.10 FileFsDeviceInformation: a disk, remote.
pub fn fs_device(out: &mut Writer) {
    const FILE_DEVICE_DISK: u32 = 0x0000_0007;
    const FILE_REMOTE_DEVICE: u32 = 0x0000_0010;
    const FILE_DEVICE_IS_MOUNTED: u32 = 0x0000_0020;
    out.u32(FILE_DEVICE_DISK).u32(FILE_REMOTE_DEVICE | FILE_DEVICE_IS_MOUNTED);
}

/// MS-FSCC 2.5.1 FileFsAttributeInformation flags EdgeShare's shares have.
pub mod fs_attributes {
    pub const CASE_SENSITIVE_SEARCH: u32 = 0x0000_0001;
    pub const CASE_PRESERVED_NAMES: u32 = 0x0000_0002;
    pub const UNICODE_ON_DISK: u32 = 0x0000_0004;
    pub const PERSISTENT_ACLS: u32 = 0x0000_0008;
    pub const SUPPORTS_SPARSE_FILES: u32 = 0x0000_0040;
    pub const SUPPORTS_OBJECT_IDS: u32 = 0x0001_0000;
}

/// MS-FSCC 2.5.1 FileFsAttributeInformation.
pub fn fs_attribute(flags: u32, max_component_length: u32, name: &str, out: &mut Writer) {
    let name = utf16::encode(name);
    out.u32(flags).u32(max_component_length).u32(name.len() as u32).bytes(&name);
}

/// MS-FSCC 2.5.7 FileFsSectorSizeInformation.
pub fn fs_sector_size(sector: u32, out: &mut Writer) {
    const SSINFO_FLAGS_ALIGNED_DEVICE: u32 = 0x1;
    const SSINFO_FLAGS_PARTITION_ALIGNED_ON_DEVICE: u32 = 0x2;
    out.u32(sector).u32(sector).u32(sector).u32(sector);
    out.u32(SSINFO_FLAGS_ALIGNED_DEVICE | SSINFO_FLAGS_PARTITION_ALIGNED_ON_DEVICE).u32(0).u32(0);
}

/// Unix time to FILETIME (100 ns intervals since 1601-01-01).
pub fn filetime(seconds: i64, nanos: u32) -> u64 {
    const EPOCH_DIFFERENCE: i64 = 11_644_473_600;
    let ticks =
        (seconds.saturating_add(EPOCH_DIFFERENCE)).saturating_mul(10_000_000).saturating_add(i64::from(nanos / 100));
    ticks.max(0) as u64
}

/// FILETIME to Unix seconds and nanoseconds.
pub fn from_filetime(filetime: u64) -> (i64, u32) {
    const EPOCH_DIFFERENCE: i64 = 11_644_473_600;
    let ticks = filetime as i64;
    (ticks.div_euclid(10_000_000) - EPOCH_DIFFERENCE, (ticks.rem_euclid(10_000_000) * 100) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_keep_8_3_names_and_mangle_the_rest_distinctly() {
        assert_eq!(short_name("readme.txt"), "README.TXT");
        let a = short_name("A long file name.html");
        let b = short_name("A long file name 2.html");
        assert!(a.starts_with("ALON~") && a.ends_with(".HTM") && a.len() == 12, "{a}");
        assert_ne!(a, b);
        assert_eq!(a, short_name("a LONG file name.HTML"), "short names ignore case");
        assert!(short_name(".bashrc").starts_with("BASH~"));
        assert!(short_name("日本語.txt").starts_with("FILE~"));
    }

    fn meta() -> FileMeta {
        FileMeta {
            creation_time: 1,
            last_access_time: 2,
            last_write_time: 3,
            change_time: 4,
            end_of_file: 5,
            allocation_size: 4096,
            attributes: attributes::ARCHIVE,
            file_id: 77,
            links: 1,
            is_directory: false,
        }
    }

    #[test]
    fn fixed_classes_have_their_specified_sizes() {
        let mut out = Writer::new();
        basic(&meta(), &mut out);
        assert_eq!(out.len(), 40);
        let mut out = Writer::new();
        standard(&meta(), false, &mut out);
        assert_eq!(out.len(), 24);
        let mut out = Writer::new();
        network_open(&meta(), &mut out);
        assert_eq!(out.len(), 56);
        let mut out = Writer::new();
        all(
            &AllInformation { meta: &meta(), delete_pending: false, access: 0, position: 0, mode: 0, name: "\\a" },
            &mut out,
        );
        assert_eq!(out.len(), 100 + 4);
    }

    #[test]
    fn directory_entries_have_their_fixed_sizes_before_the_name() {
        for (class, fixed) in [(1, 64), (2, 68), (3, 94), (12, 12), (37, 104), (38, 80)] {
            let mut out = Writer::new();
            assert!(directory_entry(class, "ab", &meta(), 0, 4096, &mut out).unwrap());
            assert_eq!(out.len(), fixed + 4, "class {class}");
            assert_eq!(&out.as_slice()[fixed..], &utf16::encode("ab")[..]);
        }
    }

    #[test]
    fn an_entry_that_does_not_fit_writes_nothing() {
        let mut out = Writer::new();
        assert!(!directory_entry(37, "name", &meta(), 0, 100, &mut out).unwrap());
        assert!(out.is_empty());
    }

    #[test]
    fn filetime_conversion_round_trips_and_matches_the_unix_epoch() {
        assert_eq!(filetime(0, 0), 116_444_736_000_000_000);
        assert_eq!(from_filetime(filetime(1_700_000_000, 123_456_700)), (1_700_000_000, 123_456_700));
    }

    #[test]
    fn extended_attributes_round_trip_aligned() {
        let entries = vec![
            FullEa { flags: 0, name: "FIRST".into(), value: b"one".to_vec() },
            FullEa { flags: 0x80, name: "SECOND.EA".into(), value: Vec::new() },
        ];
        let bytes = FullEa::encode_all(&entries);
        assert_eq!(&bytes[..4], &20u32.to_le_bytes(), "8 + 5 + 1 + 3 bytes, aligned to 4");
        assert_eq!(FullEa::decode_all(&bytes).unwrap(), entries);
        assert!(!valid_ea_name("a:b") && valid_ea_name("user.ea"));
    }

    #[test]
    fn rename_information_round_trips() {
        let info = RenameInformation { replace_if_exists: true, root_directory: 0, name: "dir\\new.txt".into() };
        let mut out = Writer::new();
        info.encode(&mut out);
        assert_eq!(RenameInformation::decode(out.as_slice()).unwrap(), info);
    }
}
