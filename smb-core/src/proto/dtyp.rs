//! MS-DTYP security types: SID (2.4.2), ACE (2.4.4), ACL (2.4.5) and the self-relative
//! SECURITY_DESCRIPTOR (2.4.6) that QUERY_INFO and SET_INFO carry.

use std::fmt;

use super::reader::{DecodeError, Reader, Writer, slice_at};

/// MS-DTYP 2.4.2 SID.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Sid {
    pub authority: u64,
    pub sub_authorities: Vec<u32>,
}

impl Sid {
    pub fn new(authority: u64, sub_authorities: &[u32]) -> Sid {
        Sid { authority, sub_authorities: sub_authorities.to_vec() }
    }

    /// S-1-1-0, Everyone.
    pub fn everyone() -> Sid {
        Sid::new(1, &[0])
    }

    /// S-1-5-18, the local system.
    pub fn system() -> Sid {
        Sid::new(5, &[18])
    }

    /// S-1-5-32-544, BUILTIN\Administrators.
    pub fn administrators() -> Sid {
        Sid::new(5, &[32, 544])
    }

    /// S-1-22-1-uid: how Samba names Unix users without a Windows identity.
    pub fn unix_user(uid: u32) -> Sid {
        Sid::new(22, &[1, uid])
    }

    /// S-1-22-2-gid.
    pub fn unix_group(gid: u32) -> Sid {
        Sid::new(22, &[2, gid])
    }

    pub fn decode(r: &mut Reader<'_>) -> Result<Sid, DecodeError> {
        let revision = r.u8("SID Revision")?;
        if revision != 1 {
            return Err(DecodeError::invalid("SID", format!("revision {revision}")));
        }
        let count = r.u8("SubAuthorityCount")?;
        if count > 15 {
            return Err(DecodeError::invalid("SID", format!("{count} sub-authorities")));
        }
        let bytes = r.array::<6>("IdentifierAuthority")?;
        let authority = bytes.iter().fold(0_u64, |acc, b| (acc << 8) | u64::from(*b));
        let sub_authorities = (0..count).map(|_| r.u32("SubAuthority")).collect::<Result<_, _>>()?;
        Ok(Sid { authority, sub_authorities })
    }

    pub fn encode(&self, out: &mut Writer) {
        out.u8(1).u8(self.sub_authorities.len() as u8);
        out.bytes(&self.authority.to_be_bytes()[2..]);
        for sub in &self.sub_authorities {
            out.u32(*sub);
        }
    }

    pub fn len(&self) -> usize {
        8 + 4 * self.sub_authorities.len()
    }

    pub fn is_empty(&self) -> bool {
        false
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S-1-{}", self.authority)?;
        for sub in &self.sub_authorities {
            write!(f, "-{sub}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// MS-DTYP 2.4.4.1 ACE types EdgeShare writes.
pub mod ace_type {
    pub const ACCESS_ALLOWED: u8 = 0x00;
    pub const ACCESS_DENIED: u8 = 0x01;
}

/// MS-DTYP 2.4.4.1 ACE flags.
pub mod ace_flags {
    pub const OBJECT_INHERIT: u8 = 0x01;
    pub const CONTAINER_INHERIT: u8 = 0x02;
    pub const INHERITED: u8 = 0x10;
}

/// An ACE: the common header and the mask + SID body of the basic types; other types are kept
/// as their raw body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ace {
    pub ace_type: u8,
    pub flags: u8,
    pub body: AceBody,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AceBody {
    MaskSid { mask: u32, sid: Sid },
    Raw(Vec<u8>),
}

impl Ace {
    pub fn allow(sid: Sid, mask: u32, flags: u8) -> Ace {
        Ace { ace_type: ace_type::ACCESS_ALLOWED, flags, body: AceBody::MaskSid { mask, sid } }
    }

    fn decode(r: &mut Reader<'_>) -> Result<Ace, DecodeError> {
        let ace_type = r.u8("AceType")?;
        let flags = r.u8("AceFlags")?;
        let size = usize::from(r.u16("AceSize")?);
        if size < 4 {
            return Err(DecodeError::invalid("ACE", "AceSize below the header"));
        }
        let mut body = r.sub(size - 4, "ACE body")?;
        let body = match ace_type {
            0x00..=0x03 | 0x09..=0x0A | 0x11 => {
                let mask = body.u32("ACE Mask")?;
                AceBody::MaskSid { mask, sid: Sid::decode(&mut body)? }
            }
            _ => AceBody::Raw(body.rest().to_vec()),
        };
        Ok(Ace { ace_type, flags, body })
    }

    fn encode(&self, out: &mut Writer) {
        let start = out.len();
        out.u8(self.ace_type).u8(self.flags).u16(0);
        match &self.body {
            AceBody::MaskSid { mask, sid } => {
                out.u32(*mask);
                sid.encode(out);
            }
            AceBody::Raw(bytes) => {
                out.bytes(bytes);
            }
        }
        out.align(4);
        let size = out.len() - start;
        out.patch_u16(start + 2, size as u16);
    }
}

/// MS-DTYP 2.4.5 ACL.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Acl {
    pub revision: u8,
    pub aces: Vec<Ace>,
}

impl Acl {
    fn decode(bytes: &[u8]) -> Result<Acl, DecodeError> {
        let mut r = Reader::new(bytes);
        let revision = r.u8("AclRevision")?;
        r.skip(1, "Sbz1")?;
        let size = usize::from(r.u16("AclSize")?);
        let count = r.u16("AceCount")?;
        r.skip(2, "Sbz2")?;
        if size < 8 {
            return Err(DecodeError::invalid("ACL", "AclSize below the header"));
        }
        let mut body = Reader::new(slice_at(bytes, 8, size - 8, "ACL body")?);
        let aces = (0..count).map(|_| Ace::decode(&mut body)).collect::<Result<_, _>>()?;
        Ok(Acl { revision, aces })
    }

    fn encode(&self, out: &mut Writer) {
        let start = out.len();
        out.u8(if self.revision == 0 { 2 } else { self.revision }).u8(0).u16(0).u16(self.aces.len() as u16).u16(0);
        for ace in &self.aces {
            ace.encode(out);
        }
        let size = out.len() - start;
        out.patch_u16(start + 2, size as u16);
    }
}

/// MS-DTYP 2.4.7 SECURITY_INFORMATION: which parts a query or set concerns.
pub mod security_information {
    pub const OWNER: u32 = 0x0000_0001;
    pub const GROUP: u32 = 0x0000_0002;
    pub const DACL: u32 = 0x0000_0004;
    pub const SACL: u32 = 0x0000_0008;
    pub const LABEL: u32 = 0x0000_0010;
}

/// MS-DTYP 2.4.6 `Control` bits.
pub mod control {
    pub const DACL_PRESENT: u16 = 0x0004;
    pub const SACL_PRESENT: u16 = 0x0010;
    pub const DACL_AUTO_INHERITED: u16 = 0x0400;
    pub const SELF_RELATIVE: u16 = 0x8000;
}

/// MS-DTYP 2.4.6 SECURITY_DESCRIPTOR, self-relative.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SecurityDescriptor {
    pub control: u16,
    pub owner: Option<Sid>,
    pub group: Option<Sid>,
    pub sacl: Option<Acl>,
    pub dacl: Option<Acl>,
}

impl SecurityDescriptor {
    pub fn decode(bytes: &[u8]) -> Result<SecurityDescriptor, DecodeError> {
        let mut r = Reader::new(bytes);
        let revision = r.u8("SD Revision")?;
        if revision != 1 {
            return Err(DecodeError::invalid("SECURITY_DESCRIPTOR", format!("revision {revision}")));
        }
        r.skip(1, "Sbz1")?;
        let control = r.u16("Control")?;
        let offsets = [r.u32("OffsetOwner")?, r.u32("OffsetGroup")?, r.u32("OffsetSacl")?, r.u32("OffsetDacl")?];
        let at = |offset: u32| -> Result<Option<Reader<'_>>, DecodeError> {
            if offset == 0 {
                return Ok(None);
            }
            let offset = offset as usize;
            let rest = slice_at(bytes, offset, bytes.len().saturating_sub(offset), "SECURITY_DESCRIPTOR offset")?;
            if rest.is_empty() {
                return Err(DecodeError::invalid("SECURITY_DESCRIPTOR", "offset at the end"));
            }
            Ok(Some(Reader::new(rest)))
        };
        let owner = at(offsets[0])?.map(|mut r| Sid::decode(&mut r)).transpose()?;
        let group = at(offsets[1])?.map(|mut r| Sid::decode(&mut r)).transpose()?;
        let sacl = match at(offsets[2])? {
            Some(mut r) if control & control::SACL_PRESENT != 0 => Some(Acl::decode(r.rest())?),
            _ => None,
        };
        let dacl = match at(offsets[3])? {
            Some(mut r) if control & control::DACL_PRESENT != 0 => Some(Acl::decode(r.rest())?),
            _ => None,
        };
        Ok(SecurityDescriptor { control, owner, group, sacl, dacl })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Writer::new();
        let mut control = self.control | control::SELF_RELATIVE;
        if self.dacl.is_some() {
            control |= control::DACL_PRESENT;
        }
        if self.sacl.is_some() {
            control |= control::SACL_PRESENT;
        }
        out.u8(1).u8(0).u16(control).zeros(16);
        if let Some(owner) = &self.owner {
            out.patch_u32(4, out.len() as u32);
            owner.encode(&mut out);
        }
        if let Some(group) = &self.group {
            out.patch_u32(8, out.len() as u32);
            group.encode(&mut out);
        }
        if let Some(sacl) = &self.sacl {
            out.patch_u32(12, out.len() as u32);
            sacl.encode(&mut out);
        }
        if let Some(dacl) = &self.dacl {
            out.patch_u32(16, out.len() as u32);
            dacl.encode(&mut out);
        }
        out.into_vec()
    }

    /// Only the parts `information` asks for (MS-SMB2 3.3.5.20.3).
    pub fn select(&self, information: u32) -> SecurityDescriptor {
        use security_information as si;
        SecurityDescriptor {
            control: self.control
                & !(if information & si::DACL == 0 { control::DACL_PRESENT | control::DACL_AUTO_INHERITED } else { 0 })
                & !(if information & si::SACL == 0 { control::SACL_PRESENT } else { 0 }),
            owner: self.owner.clone().filter(|_| information & si::OWNER != 0),
            group: self.group.clone().filter(|_| information & si::GROUP != 0),
            sacl: self.sacl.clone().filter(|_| information & si::SACL != 0),
            dacl: self.dacl.clone().filter(|_| information & si::DACL != 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sids_print_and_round_trip() {
        let sid = Sid::new(5, &[21, 1, 2, 3, 1001]);
        assert_eq!(sid.to_string(), "S-1-5-21-1-2-3-1001");
        let mut out = Writer::new();
        sid.encode(&mut out);
        assert_eq!(out.len(), sid.len());
        assert_eq!(Sid::decode(&mut Reader::new(out.as_slice())).unwrap(), sid);
    }

    #[test]
    fn everyone_has_the_well_known_encoding() {
        let mut out = Writer::new();
        Sid::everyone().encode(&mut out);
        assert_eq!(hex::encode(out.as_slice()), "010100000000000100000000");
    }

    #[test]
    fn a_descriptor_round_trips_and_selects_its_parts() {
        let sd = SecurityDescriptor {
            control: 0,
            owner: Some(Sid::unix_user(1000)),
            group: Some(Sid::unix_group(1000)),
            sacl: None,
            dacl: Some(Acl {
                revision: 2,
                aces: vec![Ace::allow(Sid::everyone(), 0x001f_01ff, ace_flags::OBJECT_INHERIT)],
            }),
        };
        let bytes = sd.encode();
        let decoded = SecurityDescriptor::decode(&bytes).unwrap();
        assert_eq!(decoded.owner, sd.owner);
        assert_eq!(decoded.dacl, sd.dacl);
        let owner_only = decoded.select(security_information::OWNER);
        assert!(owner_only.dacl.is_none() && owner_only.group.is_none());
        assert_eq!(owner_only.owner, sd.owner);
    }

    #[test]
    fn malformed_descriptors_are_refused() {
        let bytes = SecurityDescriptor { owner: Some(Sid::everyone()), ..Default::default() }.encode();
        let mut bad_offset = bytes.clone();
        bad_offset[4] = 0xF0;
        assert!(SecurityDescriptor::decode(&bad_offset).is_err());
        let mut bad_count = bytes;
        bad_count[21] = 200;
        assert!(SecurityDescriptor::decode(&bad_count).is_err());
    }
}
