//! The PAC (MS-PAC) a KDC puts in a service ticket: its decoding, and the checks an acceptor
//! makes before trusting it (MS-PAC 3.2.x, MS-KILE 3.4.5.3): the server signature under the
//! service key, and the client information against the ticket's client and authtime.
//!
//! The KDC signature (MS-PAC 2.8.2) is parsed but cannot be verified here: it is keyed with the
//! krbtgt key, which only a KDC holds (a Windows server asks its DC to check it, MS-APDS 3.2.5.2,
//! and skips that for tickets to its own machine account, as Samba does). The ticket (16) and full
//! (19) checksums are krbtgt-keyed too and are only parsed.
//!
//! Nothing in a PAC is secret except that its signatures are keyed; no input panics.

use std::fmt;

use super::crypto::{ChecksumType, CryptoError, Key, verify_checksum};
use super::keytab::Principal;
use crate::proto::dtyp::Sid;
use crate::proto::{DecodeError, Reader, utf16};
use crate::rpc::ndr::{NdrReader, Syntax};

#[cfg(test)]
mod tests;

/// KERB_NON_KERB_CKSUM_SALT, the key usage of PAC signatures (MS-PAC 2.8.1).
pub(crate) const KEY_USAGE_PAC_SIGNATURE: u32 = 17;
/// More buffers than any KDC writes (Windows writes about a dozen).
pub(crate) const MAX_BUFFERS: usize = 64;
/// Larger than the PAC of a user in thousands of groups (Windows caps tokens at 64 KiB).
pub(crate) const MAX_PAC_LEN: usize = 256 * 1024;

/// MS-PAC 2.4 PAC_INFO_BUFFER ulType values.
pub(crate) mod buffer_type {
    pub(crate) const LOGON_INFO: u32 = 1;
    pub(crate) const CREDENTIALS_INFO: u32 = 2;
    pub(crate) const SERVER_CHECKSUM: u32 = 6;
    pub(crate) const KDC_CHECKSUM: u32 = 7;
    pub(crate) const CLIENT_INFO: u32 = 10;
    pub(crate) const CONSTRAINED_DELEGATION: u32 = 11;
    pub(crate) const UPN_DNS_INFO: u32 = 12;
    pub(crate) const CLIENT_CLAIMS: u32 = 13;
    pub(crate) const DEVICE_INFO: u32 = 14;
    pub(crate) const DEVICE_CLAIMS: u32 = 15;
    pub(crate) const TICKET_CHECKSUM: u32 = 16;
    pub(crate) const ATTRIBUTES_INFO: u32 = 17;
    pub(crate) const REQUESTOR_SID: u32 = 18;
    pub(crate) const FULL_CHECKSUM: u32 = 19;

    /// Types of which a PAC holds at most one (MS-PAC 2.4: "MUST NOT" repeat); a second is refused.
    pub(crate) const SINGLETONS: [u32; 14] = [
        LOGON_INFO,
        CREDENTIALS_INFO,
        SERVER_CHECKSUM,
        KDC_CHECKSUM,
        CLIENT_INFO,
        CONSTRAINED_DELEGATION,
        UPN_DNS_INFO,
        CLIENT_CLAIMS,
        DEVICE_INFO,
        DEVICE_CLAIMS,
        TICKET_CHECKSUM,
        ATTRIBUTES_INFO,
        REQUESTOR_SID,
        FULL_CHECKSUM,
    ];
}

/// MS-PAC 2.2.1 / MS-DTYP 2.4.4.1 group attributes (SE_GROUP_*), of GroupIds and ExtraSids.
#[allow(dead_code)] // the specification's whole table; not every value is read
pub(crate) mod group_attributes {
    pub(crate) const MANDATORY: u32 = 0x0000_0001;
    pub(crate) const ENABLED_BY_DEFAULT: u32 = 0x0000_0002;
    pub(crate) const ENABLED: u32 = 0x0000_0004;
    pub(crate) const OWNER: u32 = 0x0000_0008;
    pub(crate) const USE_FOR_DENY_ONLY: u32 = 0x0000_0010;
    pub(crate) const INTEGRITY: u32 = 0x0000_0020;
    pub(crate) const INTEGRITY_ENABLED: u32 = 0x0000_0040;
    pub(crate) const RESOURCE: u32 = 0x2000_0000;
    pub(crate) const LOGON_ID: u32 = 0xC000_0000;
}

/// MS-PAC 2.5 KERB_VALIDATION_INFO UserFlags bits used here.
#[allow(dead_code)] // the specification's whole table; not every value is read
pub(crate) mod user_flags {
    /// D: ExtraSids is populated.
    pub(crate) const EXTRA_SIDS: u32 = 0x0000_0020;
    /// H: ResourceGroupIds is populated.
    pub(crate) const RESOURCE_GROUPS: u32 = 0x0000_0200;
}

/// Why a PAC is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PacError {
    #[error("malformed PAC: {0}")]
    Decode(#[from] DecodeError),
    #[error("the PAC has no {0}")]
    Missing(&'static str),
    #[error("the PAC holds two buffers of type {0}")]
    Duplicate(u32),
    #[error("the PAC's server signature is of an unsupported or unkeyed type {0}")]
    ChecksumType(i32),
    #[error("the PAC's server signature does not verify: {0}")]
    Signature(CryptoError),
    #[error("the PAC's client information does not match the ticket: {0}")]
    ClientMismatch(&'static str),
}

fn invalid(what: &'static str, reason: impl fmt::Display) -> PacError {
    PacError::Decode(DecodeError::invalid(what, reason))
}

/// MS-PAC 2.4 PAC_INFO_BUFFER: where one buffer lies in the PAC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InfoBuffer {
    pub buffer_type: u32,
    pub offset: usize,
    pub size: usize,
}

/// MS-PAC 2.3 PACTYPE: the buffer list, each buffer checked to lie in the PAC, 8-byte aligned
/// as MS-PAC 2.4 requires ("Offset ... MUST be a multiple of 8"), after the list and apart from
/// the others.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PacType<'a> {
    pub bytes: &'a [u8],
    pub buffers: Vec<InfoBuffer>,
}

impl<'a> PacType<'a> {
    pub(crate) fn decode(bytes: &'a [u8]) -> Result<PacType<'a>, PacError> {
        if bytes.len() > MAX_PAC_LEN {
            return Err(invalid("PACTYPE", format!("{} bytes", bytes.len())));
        }
        let mut reader = Reader::new(bytes);
        let count = reader.u32("PACTYPE cBuffers")? as usize;
        let version = reader.u32("PACTYPE Version")?;
        if version != 0 {
            return Err(invalid("PACTYPE", format!("version {version}")));
        }
        if count == 0 || count > MAX_BUFFERS {
            return Err(invalid("PACTYPE", format!("{count} buffers")));
        }
        let header_end = 8 + 16 * count;
        let mut buffers: Vec<InfoBuffer> = Vec::with_capacity(count);
        for _ in 0..count {
            let buffer_type = reader.u32("PAC_INFO_BUFFER ulType")?;
            let size = reader.u32("PAC_INFO_BUFFER cbBufferSize")? as usize;
            let offset = usize::try_from(reader.u64("PAC_INFO_BUFFER Offset")?)
                .map_err(|_| invalid("PAC_INFO_BUFFER", "offset out of range"))?;
            if offset % 8 != 0 || offset < header_end {
                return Err(invalid("PAC_INFO_BUFFER", format!("offset {offset}")));
            }
            reader.slice_at(offset, size, "PAC_INFO_BUFFER")?;
            // Overlapping buffers would let bytes count as two fields, one of them possibly a
            // signature zeroed for the server checksum; no KDC writes them.
            if size > 0
                && buffers.iter().any(|other| other.offset < offset + size && offset < other.offset + other.size)
            {
                return Err(invalid("PAC_INFO_BUFFER", "overlaps another buffer"));
            }
            if buffer_type::SINGLETONS.contains(&buffer_type)
                && buffers.iter().any(|buffer| buffer.buffer_type == buffer_type)
            {
                return Err(PacError::Duplicate(buffer_type));
            }
            buffers.push(InfoBuffer { buffer_type, offset, size });
        }
        Ok(PacType { bytes, buffers })
    }

    /// The one buffer of a type, if present.
    pub(crate) fn buffer(&self, buffer_type: u32) -> Option<(InfoBuffer, &'a [u8])> {
        let info = *self.buffers.iter().find(|buffer| buffer.buffer_type == buffer_type)?;
        // Checked in decode.
        let bytes = self.bytes.get(info.offset..info.offset + info.size)?;
        Some((info, bytes))
    }
}

/// MS-PAC 2.8 PAC_SIGNATURE_DATA. `signature_type` is kept as the number the buffer names:
/// the KDC's may be of a type this acceptor does not compute.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Signature {
    pub signature_type: i32,
    pub signature: Vec<u8>,
    /// MS-PAC 2.8 RODCIdentifier, in the KDC signature of a ticket from a read-only DC.
    pub rodc_identifier: Option<u16>,
    /// Where `signature` lies in the PAC, to zero it for the server signature.
    offset: usize,
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signature")
            .field("signature_type", &self.signature_type)
            .field("signature", &format_args!("<{} bytes>", self.signature.len()))
            .field("rodc_identifier", &self.rodc_identifier)
            .finish()
    }
}

impl Signature {
    fn decode(info: InfoBuffer, bytes: &[u8]) -> Result<Signature, PacError> {
        let mut reader = Reader::new(bytes);
        let signature_type = reader.u32("PAC_SIGNATURE_DATA SignatureType")? as i32;
        // A type we know has a known length; else (a KDC checksum of another type) the whole
        // rest is taken as the signature, as MIT's k5_pac_zero_signature does.
        let length = ChecksumType::from_number(signature_type).map_or(reader.remaining(), ChecksumType::len);
        let signature = reader.take(length, "PAC_SIGNATURE_DATA Signature")?.to_vec();
        let rodc_identifier = match reader.remaining() {
            0 => None,
            _ => Some(reader.u16("PAC_SIGNATURE_DATA RODCIdentifier")?),
        };
        reader.finish("PAC_SIGNATURE_DATA")?;
        Ok(Signature { signature_type, signature, rodc_identifier, offset: info.offset + 4 })
    }
}

/// MS-PAC 2.7 PAC_CLIENT_INFO.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ClientInfo {
    /// The ticket's authtime as a FILETIME (MS-DTYP 2.3.3).
    pub client_id: u64,
    pub name: String,
}

impl ClientInfo {
    pub(crate) fn decode(bytes: &[u8]) -> Result<ClientInfo, PacError> {
        let mut reader = Reader::new(bytes);
        let client_id = reader.u64("PAC_CLIENT_INFO ClientId")?;
        let length = reader.u16("PAC_CLIENT_INFO NameLength")? as usize;
        let name = utf16::decode(reader.take(length, "PAC_CLIENT_INFO Name")?, "PAC_CLIENT_INFO Name")?;
        // Trailing bytes are padding to the next buffer's 8-byte alignment, which some KDCs count.
        Ok(ClientInfo { client_id, name })
    }
}

/// MS-PAC 2.10 UPN_DNS_INFO.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UpnDnsInfo {
    pub upn: String,
    pub dns_domain: String,
    pub flags: u32,
    /// With flag S (MS-PAC 2.10.1 extension): the account's SAM name and SID.
    pub sam_name: Option<String>,
    pub sid: Option<Sid>,
}

impl UpnDnsInfo {
    /// U: the user has no UPN; `upn` is made from the SAM name and the DNS domain.
    #[allow(dead_code)] // A made-up UPN still names the user.
    pub(crate) const FLAG_UPN_CONSTRUCTED: u32 = 0x1;
    /// S: the SAM name and SID extension follows.
    pub(crate) const FLAG_EXTENDED: u32 = 0x2;

    pub(crate) fn decode(bytes: &[u8]) -> Result<UpnDnsInfo, PacError> {
        let mut reader = Reader::new(bytes);
        let whole = Reader::new(bytes);
        let field = |reader: &mut Reader<'_>, what: &'static str| -> Result<&[u8], PacError> {
            let length = reader.u16(what)? as usize;
            let offset = reader.u16(what)? as usize;
            Ok(whole.slice_at(offset, length, what)?)
        };
        let upn = field(&mut reader, "UPN_DNS_INFO Upn")?;
        let dns_domain = field(&mut reader, "UPN_DNS_INFO DnsDomainName")?;
        let flags = reader.u32("UPN_DNS_INFO Flags")?;
        let (sam_name, sid) = if flags & Self::FLAG_EXTENDED != 0 {
            let sam_name = field(&mut reader, "UPN_DNS_INFO SamName")?;
            let sid = field(&mut reader, "UPN_DNS_INFO Sid")?;
            let mut sid_reader = Reader::new(sid);
            let decoded = Sid::decode(&mut sid_reader)?;
            sid_reader.finish("UPN_DNS_INFO Sid")?;
            (Some(utf16::decode(sam_name, "UPN_DNS_INFO SamName")?), Some(decoded))
        } else {
            (None, None)
        };
        Ok(UpnDnsInfo {
            upn: utf16::decode(upn, "UPN_DNS_INFO Upn")?,
            dns_domain: utf16::decode(dns_domain, "UPN_DNS_INFO DnsDomainName")?,
            flags,
            sam_name,
            sid,
        })
    }
}

/// MS-PAC 2.2.1 GROUP_MEMBERSHIP: a RID in a domain, with SE_GROUP_* attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GroupMembership {
    pub rid: u32,
    pub attributes: u32,
}

/// MS-PAC 2.2.1 KERB_SID_AND_ATTRIBUTES, and a group SID of the decoded identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SidAndAttributes {
    pub sid: Sid,
    /// [`group_attributes`].
    pub attributes: u32,
}

/// MS-PAC 2.5 KERB_VALIDATION_INFO (buffer type 1), the fields an SMB server uses. Times are
/// FILETIMEs (MS-DTYP 2.3.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ValidationInfo {
    pub logon_time: u64,
    pub logoff_time: u64,
    pub kick_off_time: u64,
    pub password_last_set: u64,
    pub effective_name: String,
    pub full_name: String,
    pub logon_server: String,
    pub logon_domain_name: String,
    pub user_id: u32,
    pub primary_group_id: u32,
    pub group_ids: Vec<GroupMembership>,
    /// [`user_flags`].
    pub user_flags: u32,
    pub logon_domain_id: Option<Sid>,
    pub user_account_control: u32,
    pub extra_sids: Vec<SidAndAttributes>,
    pub resource_group_domain_sid: Option<Sid>,
    pub resource_group_ids: Vec<GroupMembership>,
}

/// An MS-DTYP 2.3.10 RPC_UNICODE_STRING's fixed part: lengths in bytes, and whether the buffer
/// pointer is non-null.
struct UnicodeString {
    length: u16,
    maximum_length: u16,
    present: bool,
}

impl UnicodeString {
    fn decode(ndr: &mut NdrReader<'_>) -> Result<UnicodeString, DecodeError> {
        let length = ndr.u16()?;
        let maximum_length = ndr.u16()?;
        let present = ndr.pointer()?;
        if length % 2 != 0 || length > maximum_length {
            return Err(DecodeError::invalid("RPC_UNICODE_STRING", "odd or inconsistent lengths"));
        }
        Ok(UnicodeString { length, maximum_length, present })
    }

    fn pointee(&self, ndr: &mut NdrReader<'_>) -> Result<String, DecodeError> {
        match self.present {
            true => ndr.counted_string(usize::from(self.maximum_length / 2), usize::from(self.length / 2)),
            false if self.length == 0 => Ok(String::new()),
            false => Err(DecodeError::invalid("RPC_UNICODE_STRING", "a length without a buffer")),
        }
    }
}

fn filetime(ndr: &mut NdrReader<'_>) -> Result<u64, DecodeError> {
    let low = ndr.u32()?;
    let high = ndr.u32()?;
    Ok(u64::from(high) << 32 | u64::from(low))
}

fn group_memberships(ndr: &mut NdrReader<'_>, present: bool, count: usize) -> Result<Vec<GroupMembership>, PacError> {
    if !present {
        return match count {
            0 => Ok(Vec::new()),
            _ => Err(invalid("GROUP_MEMBERSHIP array", "a count without an array")),
        };
    }
    ndr.conformance(count, "GROUP_MEMBERSHIP array")?;
    // No capacity from the count: each element must be read from the bytes first.
    let mut groups = Vec::new();
    for _ in 0..count {
        groups.push(GroupMembership { rid: ndr.u32()?, attributes: ndr.u32()? });
    }
    Ok(groups)
}

impl ValidationInfo {
    /// The buffer: an MS-RPCE 2.2.6 type serialization version 1 (common header, private header)
    /// of a top-level unique pointer to the structure, in NDR 2.0 little-endian.
    pub(crate) fn decode(bytes: &[u8]) -> Result<ValidationInfo, PacError> {
        let mut reader = Reader::new(bytes);
        let version = reader.u8("type serialization Version")?;
        let endianness = reader.u8("type serialization Endianness")?;
        let header_length = reader.u16("type serialization CommonHeaderLength")?;
        reader.skip(4, "type serialization Filler")?;
        if version != 1 || endianness != 0x10 || header_length != 8 {
            return Err(invalid("type serialization header", "not version 1, little-endian, 8 bytes"));
        }
        let length = reader.u32("type serialization ObjectBufferLength")? as usize;
        reader.skip(4, "type serialization Filler")?;
        let body = reader.take(length, "type serialization object")?;
        let mut ndr = NdrReader::new(body, Syntax::Ndr20);
        if !ndr.pointer()? {
            return Err(PacError::Missing("KERB_VALIDATION_INFO"));
        }
        let info = Self::decode_ndr(&mut ndr)?;
        ndr.finish("KERB_VALIDATION_INFO")?;
        Ok(info)
    }

    fn decode_ndr(ndr: &mut NdrReader<'_>) -> Result<ValidationInfo, PacError> {
        let logon_time = filetime(ndr)?;
        let logoff_time = filetime(ndr)?;
        let kick_off_time = filetime(ndr)?;
        let password_last_set = filetime(ndr)?;
        filetime(ndr)?; // PasswordCanChange
        filetime(ndr)?; // PasswordMustChange
        let effective_name = UnicodeString::decode(ndr)?;
        let full_name = UnicodeString::decode(ndr)?;
        let logon_script = UnicodeString::decode(ndr)?;
        let profile_path = UnicodeString::decode(ndr)?;
        let home_directory = UnicodeString::decode(ndr)?;
        let home_directory_drive = UnicodeString::decode(ndr)?;
        ndr.u16()?; // LogonCount
        ndr.u16()?; // BadPasswordCount
        let user_id = ndr.u32()?;
        let primary_group_id = ndr.u32()?;
        let group_count = ndr.u32()? as usize;
        let group_ids_present = ndr.pointer()?;
        let user_flags = ndr.u32()?;
        ndr.bytes(16)?; // UserSessionKey: zeros in a PAC (MS-PAC 2.5)
        let logon_server = UnicodeString::decode(ndr)?;
        let logon_domain_name = UnicodeString::decode(ndr)?;
        let logon_domain_id_present = ndr.pointer()?;
        ndr.u32()?; // Reserved1
        ndr.u32()?;
        let user_account_control = ndr.u32()?;
        ndr.u32()?; // SubAuthStatus
        filetime(ndr)?; // LastSuccessfulILogon
        filetime(ndr)?; // LastFailedILogon
        ndr.u32()?; // FailedILogonCount
        ndr.u32()?; // Reserved3
        let sid_count = ndr.u32()? as usize;
        let extra_sids_present = ndr.pointer()?;
        let resource_domain_present = ndr.pointer()?;
        let resource_group_count = ndr.u32()? as usize;
        let resource_groups_present = ndr.pointer()?;

        // The deferred pointees, in the order of their pointers (C706 14.3.12.3).
        let effective_name = effective_name.pointee(ndr)?;
        let full_name = full_name.pointee(ndr)?;
        for skipped in [logon_script, profile_path, home_directory, home_directory_drive] {
            skipped.pointee(ndr)?;
        }
        let group_ids = group_memberships(ndr, group_ids_present, group_count)?;
        let logon_server = logon_server.pointee(ndr)?;
        let logon_domain_name = logon_domain_name.pointee(ndr)?;
        let logon_domain_id = if logon_domain_id_present { Some(ndr.sid()?) } else { None };
        let extra_sids = match (extra_sids_present, sid_count) {
            (false, 0) => Vec::new(),
            (false, _) => return Err(invalid("ExtraSids", "a count without an array")),
            (true, count) => {
                ndr.conformance(count, "ExtraSids")?;
                let mut fixed = Vec::new();
                for _ in 0..count {
                    fixed.push((ndr.pointer()?, ndr.u32()?));
                }
                let mut sids = Vec::new();
                for (present, attributes) in fixed {
                    if !present {
                        return Err(invalid("ExtraSids", "a null SID"));
                    }
                    sids.push(SidAndAttributes { sid: ndr.sid()?, attributes });
                }
                sids
            }
        };
        let resource_group_domain_sid = if resource_domain_present { Some(ndr.sid()?) } else { None };
        let resource_group_ids = group_memberships(ndr, resource_groups_present, resource_group_count)?;
        Ok(ValidationInfo {
            logon_time,
            logoff_time,
            kick_off_time,
            password_last_set,
            effective_name,
            full_name,
            logon_server,
            logon_domain_name,
            user_id,
            primary_group_id,
            group_ids,
            user_flags,
            logon_domain_id,
            user_account_control,
            extra_sids,
            resource_group_domain_sid,
            resource_group_ids,
        })
    }

    /// The user's SID: the logon domain's SID and UserId.
    pub(crate) fn user_sid(&self) -> Option<Sid> {
        self.logon_domain_id.as_ref().map(|domain| with_rid(domain, self.user_id))
    }

    /// The user's groups as a Windows token lists them (MS-PAC 3.3.1 / MS-KILE 3.4.5.3): the
    /// primary group and each GroupIds RID in the logon domain, then ExtraSids, then the
    /// resource groups in their domain. Without a logon domain SID, no domain groups.
    pub(crate) fn group_sids(&self) -> Vec<SidAndAttributes> {
        let mut sids = Vec::new();
        if let Some(domain) = &self.logon_domain_id {
            if !self.group_ids.iter().any(|group| group.rid == self.primary_group_id) {
                let attributes =
                    group_attributes::MANDATORY | group_attributes::ENABLED_BY_DEFAULT | group_attributes::ENABLED;
                sids.push(SidAndAttributes { sid: with_rid(domain, self.primary_group_id), attributes });
            }
            sids.extend(
                self.group_ids
                    .iter()
                    .map(|group| SidAndAttributes { sid: with_rid(domain, group.rid), attributes: group.attributes }),
            );
        }
        sids.extend(self.extra_sids.iter().cloned());
        if let Some(domain) = &self.resource_group_domain_sid {
            sids.extend(
                self.resource_group_ids
                    .iter()
                    .map(|group| SidAndAttributes { sid: with_rid(domain, group.rid), attributes: group.attributes }),
            );
        }
        sids
    }
}

fn with_rid(domain: &Sid, rid: u32) -> Sid {
    let mut sid = domain.clone();
    sid.sub_authorities.push(rid);
    sid
}

/// A verified PAC: the identity it gives the ticket's client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pac {
    pub client_info: ClientInfo,
    /// Absent in MIT's PACs: the caller then maps the Kerberos principal itself.
    pub logon_info: Option<ValidationInfo>,
    pub upn_dns_info: Option<UpnDnsInfo>,
    pub server_signature: Signature,
    /// Not verified (see the module docs).
    pub kdc_signature: Signature,
    /// MS-PAC 2.8.3, not verified.
    pub ticket_signature: Option<Signature>,
    /// MS-PAC 2.8.4 (extended KDC signature), not verified.
    pub full_signature: Option<Signature>,
}

impl Pac {
    /// The account name: KERB_VALIDATION_INFO's EffectiveName, else the client info's name.
    pub(crate) fn user_name(&self) -> &str {
        self.logon_info.as_ref().map_or(&self.client_info.name, |info| &info.effective_name)
    }

    /// The NetBIOS logon domain, else the DNS domain, if the PAC names one.
    pub(crate) fn domain(&self) -> Option<&str> {
        match (&self.logon_info, &self.upn_dns_info) {
            (Some(info), _) if !info.logon_domain_name.is_empty() => Some(&info.logon_domain_name),
            (_, Some(upn)) => Some(&upn.dns_domain),
            _ => None,
        }
    }

    pub(crate) fn user_sid(&self) -> Option<Sid> {
        self.logon_info.as_ref().and_then(ValidationInfo::user_sid)
    }

    /// Empty without logon info.
    pub(crate) fn group_sids(&self) -> Vec<SidAndAttributes> {
        self.logon_info.as_ref().map(ValidationInfo::group_sids).unwrap_or_default()
    }

    pub(crate) fn upn(&self) -> Option<&str> {
        self.upn_dns_info.as_ref().map(|info| info.upn.as_str())
    }

    #[cfg(test)]
    pub(crate) fn dns_domain(&self) -> Option<&str> {
        self.upn_dns_info.as_ref().map(|info| info.dns_domain.as_str())
    }
}

/// Unix seconds as a FILETIME (MS-DTYP 2.3.3), as the KDC writes authtime in ClientId.
pub(crate) fn unix_to_filetime(unix: i64) -> Option<u64> {
    u64::try_from(unix.checked_add(11_644_473_600)?.checked_mul(10_000_000)?).ok()
}

/// Decodes a PAC and checks it: the server signature with `service_key` (the key the ticket
/// was encrypted with), then the client info against the ticket's client and authtime. Any
/// failure refuses the PAC, and the acceptor refuses the ticket with it (MS-KILE 3.4.5.3:
/// KRB_AP_ERR_MODIFIED).
pub(crate) fn verify(
    bytes: &[u8],
    service_key: &Key,
    ticket_client: &Principal,
    authtime: i64,
) -> Result<Pac, PacError> {
    let pac = PacType::decode(bytes)?;
    let signature = |buffer_type, what| -> Result<Option<Signature>, PacError> {
        pac.buffer(buffer_type).map(|(info, bytes)| Signature::decode(info, bytes)).transpose().map_err(|error| {
            match error {
                PacError::Decode(DecodeError::Invalid { reason, .. }) => invalid(what, reason),
                other => other,
            }
        })
    };
    let server_signature =
        signature(buffer_type::SERVER_CHECKSUM, "server signature")?.ok_or(PacError::Missing("server signature"))?;
    let kdc_signature =
        signature(buffer_type::KDC_CHECKSUM, "KDC signature")?.ok_or(PacError::Missing("KDC signature"))?;
    let ticket_signature = signature(buffer_type::TICKET_CHECKSUM, "ticket signature")?;
    let full_signature = signature(buffer_type::FULL_CHECKSUM, "full signature")?;

    // MS-PAC 2.8.1: over the whole PAC with both signatures' Signature fields zeroed. Only keyed
    // types are known to ChecksumType; verify_checksum refuses one not of the key's enctype.
    let checksum_type = ChecksumType::from_number(server_signature.signature_type)
        .ok_or(PacError::ChecksumType(server_signature.signature_type))?;
    let mut zeroed = bytes.to_vec();
    for signature in [&server_signature, &kdc_signature] {
        if let Some(field) = zeroed.get_mut(signature.offset..signature.offset + signature.signature.len()) {
            field.fill(0);
        }
    }
    verify_checksum(service_key, checksum_type, KEY_USAGE_PAC_SIGNATURE, &zeroed, &server_signature.signature)
        .map_err(|error| match error {
            CryptoError::ChecksumType { .. } => PacError::ChecksumType(server_signature.signature_type),
            other => PacError::Signature(other),
        })?;

    let client_info = pac
        .buffer(buffer_type::CLIENT_INFO)
        .map(|(_, bytes)| ClientInfo::decode(bytes))
        .transpose()?
        .ok_or(PacError::Missing("client info"))?;
    check_client(&client_info, ticket_client, authtime)?;
    let logon_info = pac.buffer(buffer_type::LOGON_INFO).map(|(_, bytes)| ValidationInfo::decode(bytes)).transpose()?;
    let upn_dns_info = pac.buffer(buffer_type::UPN_DNS_INFO).map(|(_, bytes)| UpnDnsInfo::decode(bytes)).transpose()?;
    Ok(Pac { client_info, logon_info, upn_dns_info, server_signature, kdc_signature, ticket_signature, full_signature })
}

/// MS-PAC 2.7 / MS-KILE 3.4.5.3: ClientId is the ticket's authtime, and Name the client's name.
/// Windows and MIT write the name without the realm (MIT: the name unparsed with
/// KRB5_PRINCIPAL_UNPARSE_NO_REALM, components joined by '/'); a name with the realm is taken
/// too, as MIT's krb5_pac_verify_ext does when asked. Compared exactly, as MIT does.
fn check_client(info: &ClientInfo, client: &Principal, authtime: i64) -> Result<(), PacError> {
    if unix_to_filetime(authtime) != Some(info.client_id) {
        return Err(PacError::ClientMismatch("ClientId is not the ticket's authtime"));
    }
    let name = client.components.join("/");
    if info.name != name && info.name != format!("{name}@{}", client.realm) {
        return Err(PacError::ClientMismatch("Name is not the ticket's client"));
    }
    Ok(())
}
