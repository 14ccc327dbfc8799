//! Keytab files: a service's long-term keys, one entry per principal, key version and enctype.
//! The "FILE" format of MIT krb5 (its doc/formats/keytab_file_format.rst), which `kadmin ktadd`,
//! `ktutil`, Heimdal, Windows `ktpass` and `samba-tool domain exportkeytab` all write:
//!
//! ```text
//! keytab  = 0x05 version(1) record*            version 2: big-endian; 1: the writer's byte order
//! record  = size(i32) entry                    size < 0: a zero-filled hole of -size bytes; 0: end
//! entry   = count(u16) realm component{count}  count includes the realm in version 1
//!           name_type(u32)                     absent in version 1
//!           timestamp(u32) kvno(u8) enctype(u16) key_length(u16) key
//!           [kvno(u32)]                        if 4 bytes remain in the record and it is not 0
//! realm, component = length(u16) bytes
//! ```
//!
//! Read through the bounds-checked [`Reader`] only, with caps on size, entries and components.

use std::fmt;

use super::crypto::{Enctype, Key};
#[cfg(test)]
use crate::proto::Writer;
use crate::proto::{DecodeError, Reader};

/// Keytabs larger than this are refused: a service's keytab is a few hundred bytes.
pub(crate) const MAX_KEYTAB_LEN: usize = 1 << 20;
/// Entries (supported or not) a keytab may hold.
pub(crate) const MAX_ENTRIES: usize = 4096;
/// Name components a principal may have (service principals have two).
pub(crate) const MAX_COMPONENTS: usize = 16;

/// Principal name types (RFC 4120 section 6.2).
#[allow(dead_code)] // the specification's whole table; not every value is read
pub(crate) mod name_type {
    /// What a version 1 keytab, which stores no name type, implies.
    pub(crate) const UNKNOWN: i32 = 0;
    /// KRB5_NT_PRINCIPAL: what MIT's tools write for every principal.
    pub(crate) const PRINCIPAL: i32 = 1;
    /// KRB5_NT_SRV_INST, as in a TGS principal.
    pub(crate) const SRV_INST: i32 = 2;
    /// KRB5_NT_SRV_HST: a service on a host, the type Windows clients put in SMB tickets.
    pub(crate) const SRV_HST: i32 = 3;
}

/// A Kerberos principal name (RFC 4120 section 5.2.2 PrincipalName with its Realm).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Principal {
    pub realm: String,
    pub components: Vec<String>,
    /// A hint only: two names are the same if realm and components are (RFC 4120 section 6.2).
    pub name_type: i32,
}

impl Principal {
    #[cfg(test)]
    pub(crate) fn new(realm: &str, components: &[&str], name_type: i32) -> Principal {
        Principal {
            realm: realm.to_owned(),
            components: components.iter().map(|component| (*component).to_owned()).collect(),
            name_type,
        }
    }

    /// Same realm and components, whatever the name types (RFC 4120 section 6.2).
    pub(crate) fn same_name(&self, other: &Principal) -> bool {
        self.realm == other.realm && self.components == other.components
    }

    /// The default salt of the AES string-to-key: the realm, then each component, with no
    /// separators (RFC 4120 section 4), e.g. "EXAMPLE.COMcifsfs.example.com".
    #[cfg(test)]
    pub(crate) fn default_salt(&self) -> Vec<u8> {
        let mut salt = self.realm.as_bytes().to_vec();
        for component in &self.components {
            salt.extend_from_slice(component.as_bytes());
        }
        salt
    }
}

/// `cifs/fs.example.com@EXAMPLE.COM`, the form of RFC 1964 section 2.1.1: a `/`, `@` or `\`
/// inside a component (and an `@` or `\` inside the realm) is escaped with a backslash.
impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn escaped(f: &mut fmt::Formatter<'_>, text: &str, special: &[char]) -> fmt::Result {
            for c in text.chars() {
                if special.contains(&c) {
                    f.write_str("\\")?;
                }
                write!(f, "{c}")?;
            }
            Ok(())
        }
        for (index, component) in self.components.iter().enumerate() {
            if index > 0 {
                f.write_str("/")?;
            }
            escaped(f, component, &['/', '@', '\\'])?;
        }
        f.write_str("@")?;
        escaped(f, &self.realm, &['@', '\\'])
    }
}

/// One key of a keytab.
#[derive(Clone, Debug)]
pub(crate) struct KeytabEntry {
    pub principal: Principal,
    /// Seconds since 1970 when the key was written (informational).
    pub timestamp: u32,
    /// The key version number, which a ticket names to say which key encrypted it.
    pub kvno: u32,
    pub key: Key,
}

/// An entry whose enctype EdgeShare does not support (DES, 3DES, Camellia...): not used, but
/// reported so that an administrator can see why a keytab yields fewer keys than it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SkippedEntry {
    pub principal: Principal,
    pub kvno: u32,
    /// The enctype number as the keytab stores it.
    pub enctype: u16,
}

/// The keytab file format version (the byte after 0x05).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Version {
    /// 0x0501: "native byte order" per MIT, but which one is not recorded. Read as big-endian
    /// (what version 2 made explicit); a little-endian version 1 file, which only a very old
    /// krb5 on a little-endian host could have written, is refused as malformed, not misread
    /// silently (its sizes come out in the gigabytes).
    V1,
    /// 0x0502: big-endian. What every current tool writes.
    V2,
}

/// A parsed keytab: its usable keys, in file order, and the entries skipped.
#[derive(Clone, Debug)]
pub(crate) struct Keytab {
    pub version: Version,
    pub entries: Vec<KeytabEntry>,
    pub skipped: Vec<SkippedEntry>,
}

impl Default for Keytab {
    fn default() -> Keytab {
        Keytab { version: Version::V2, entries: Vec::new(), skipped: Vec::new() }
    }
}

impl Keytab {
    /// Parses a keytab file's bytes; anything malformed is refused with the field named.
    /// Lenient where MIT is: holes are skipped, a record may be longer than its entry (a reused
    /// hole) and a record size of 0 ends the keytab, whatever follows.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Keytab, DecodeError> {
        if bytes.len() > MAX_KEYTAB_LEN {
            return Err(DecodeError::invalid(
                "keytab",
                format!("{} bytes, more than the {MAX_KEYTAB_LEN} accepted", bytes.len()),
            ));
        }
        let mut r = Reader::new(bytes);
        let version = match r.array("keytab version")? {
            [5, 2] => Version::V2,
            [5, 1] => Version::V1,
            [first, second] => {
                return Err(DecodeError::invalid(
                    "keytab version",
                    format!("{first:02x}{second:02x}, not 0502 or 0501 (is this a keytab?)"),
                ));
            }
        };
        let mut keytab = Keytab { version, entries: Vec::new(), skipped: Vec::new() };
        while !r.is_empty() {
            let size = r.u32_be("keytab record size")? as i32;
            if size == 0 {
                break;
            }
            if size < 0 {
                r.skip(size.unsigned_abs() as usize, "keytab hole")?;
                continue;
            }
            if keytab.entries.len() + keytab.skipped.len() == MAX_ENTRIES {
                return Err(DecodeError::invalid("keytab", format!("more than {MAX_ENTRIES} entries")));
            }
            let mut record = r.sub(size as usize, "keytab entry")?;
            keytab.read_entry(&mut record)?;
        }
        Ok(keytab)
    }

    fn read_entry(&mut self, r: &mut Reader<'_>) -> Result<(), DecodeError> {
        let mut count = usize::from(r.u16_be("keytab num_components")?);
        if self.version == Version::V1 {
            count = count
                .checked_sub(1)
                .ok_or_else(|| DecodeError::invalid("keytab num_components", "0, but version 1 counts the realm"))?;
        }
        if count == 0 {
            return Err(DecodeError::invalid("keytab num_components", "a principal without name components"));
        }
        if count > MAX_COMPONENTS {
            return Err(DecodeError::invalid(
                "keytab num_components",
                format!("{count} components, more than the {MAX_COMPONENTS} accepted"),
            ));
        }
        let realm = counted_string(r, "keytab realm")?;
        let components =
            (0..count).map(|_| counted_string(r, "keytab principal component")).collect::<Result<Vec<_>, _>>()?;
        let name_type = match self.version {
            Version::V2 => r.u32_be("keytab name_type")? as i32,
            Version::V1 => name_type::UNKNOWN,
        };
        let principal = Principal { realm, components, name_type };
        let timestamp = r.u32_be("keytab timestamp")?;
        let mut kvno = u32::from(r.u8("keytab vno8")?);
        let enctype = r.u16_be("keytab keyblock enctype")?;
        let key_len = usize::from(r.u16_be("keytab keyblock length")?);
        let key_bytes = r.take(key_len, "keytab keyblock contents")?;
        // The 32-bit kvno extension; whatever follows it (MIT's flags, the rest of a reused
        // hole) is not read.
        if r.remaining() >= 4 {
            let long_kvno = r.u32_be("keytab vno")?;
            if long_kvno != 0 {
                kvno = long_kvno;
            }
        }
        match Enctype::from_number(i32::from(enctype)) {
            Some(enctype) => {
                let key = Key::new(enctype, key_bytes)
                    .map_err(|error| DecodeError::invalid("keytab keyblock", format!("{principal}: {error}")))?;
                self.entries.push(KeytabEntry { principal, timestamp, kvno, key });
            }
            None => self.skipped.push(SkippedEntry { principal, kvno, enctype }),
        }
        Ok(())
    }

    /// The key that decrypts a ticket for `principal` (compared by name, RFC 4120 section 6.2)
    /// made with `enctype` and, when the ticket names one, key version `kvno`. Without a kvno,
    /// the highest version (the last such entry if several share it).
    pub(crate) fn find(&self, principal: &Principal, enctype: Enctype, kvno: Option<u32>) -> Option<&KeytabEntry> {
        let mut candidates = self.entries.iter().filter(|entry| {
            entry.principal.same_name(principal)
                && entry.key.enctype() == enctype
                && kvno.is_none_or(|kvno| entry.kvno == kvno)
        });
        match kvno {
            Some(_) => candidates.next(),
            None => candidates.max_by_key(|entry| entry.kvno),
        }
    }

    /// A version 2 keytab holding `entries`, as MIT writes it (the 32-bit kvno on every entry,
    /// its low 8 bits in the 8-bit field). For building fixtures and tests.
    ///
    /// Panics if a realm, component or key is longer than 65,535 bytes or a principal has more
    /// than 65,535 components: no Kerberos name comes near.
    #[cfg(test)]
    pub(crate) fn encode(entries: &[KeytabEntry]) -> Vec<u8> {
        fn counted(out: &mut Writer, bytes: &[u8]) {
            out.u16_be(u16::try_from(bytes.len()).expect("keytab fields are shorter than 64 KiB")).bytes(bytes);
        }
        let mut out = Writer::new();
        out.u8(5).u8(2);
        for entry in entries {
            let principal = &entry.principal;
            let mut record = Writer::new();
            record.u16_be(u16::try_from(principal.components.len()).expect("fewer than 65,536 components"));
            counted(&mut record, principal.realm.as_bytes());
            for component in &principal.components {
                counted(&mut record, component.as_bytes());
            }
            record.u32_be(principal.name_type as u32).u32_be(entry.timestamp).u8(entry.kvno as u8);
            record.u16_be(entry.key.enctype().number() as u16);
            counted(&mut record, entry.key.bytes());
            record.u32_be(entry.kvno);
            out.u32_be(u32::try_from(record.len()).expect("an entry is shorter than 2 GiB")).bytes(record.as_slice());
        }
        out.into_vec()
    }
}

/// A keytab `data` field (u16 length, bytes) as text. Kerberos names are ASCII in practice
/// (KerberosString, RFC 4120 section 5.2.1); anything that is not UTF-8 is refused.
fn counted_string(r: &mut Reader<'_>, what: &'static str) -> Result<String, DecodeError> {
    let length = usize::from(r.u16_be(what)?);
    let bytes = r.take(length, what)?;
    String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError::invalid(what, "not UTF-8"))
}

#[cfg(test)]
mod tests;
