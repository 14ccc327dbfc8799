//! PAC decoding and verification against MIT 1.20's PACs (tests/data/kerberos/README.txt, no
//! logon info), Samba AD DC's full PACs (tests/data/kerberos-ad/README.txt, which records the
//! directory's SIDs), and PACs built here with a small NDR writer, field by field from MS-PAC
//! 2.5, for the cases no KDC writes (resource groups, absent primary group, malformed layouts).

use std::path::PathBuf;

use proptest::prelude::*;

use super::*;
use crate::auth::kerberos::crypto::{Enctype, checksum};
use crate::auth::kerberos::keytab::{Keytab, name_type};
use crate::auth::kerberos::messages::ApReq;
use crate::proto::Writer;
use crate::rpc::ndr::NdrWriter;

const MIT: &str = "tests/data/kerberos";
const AD: &str = "tests/data/kerberos-ad";

fn data_dir(dir: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir)
}

/// Every value README.txt records as `<file> <key> = <value>` (a key may repeat), trimmed.
fn recorded_all(dir: &str, file: &str, key: &str) -> Vec<String> {
    let text = std::fs::read_to_string(data_dir(dir).join("README.txt")).unwrap();
    let prefix = format!("{file} {key} =");
    text.lines().filter_map(|line| line.strip_prefix(&prefix)).map(|value| value.trim().to_owned()).collect()
}

fn recorded(dir: &str, file: &str, key: &str) -> String {
    recorded_all(dir, file, key).into_iter().next().unwrap_or_else(|| panic!("{dir}: no {file} {key}"))
}

/// The first word of a recorded value, as a number.
fn recorded_number(dir: &str, file: &str, key: &str) -> i64 {
    recorded(dir, file, key).split_whitespace().next().unwrap().parse().unwrap()
}

/// One MIT ticket's PAC with what verifying it needs.
struct Fixture {
    name: String,
    pac: Vec<u8>,
    service_key: Key,
    client: Principal,
    authtime: i64,
}

/// Every AP-REQ fixture's ticket, decrypted with the keytab as the acceptor does.
fn fixtures() -> Vec<Fixture> {
    fixtures_in(MIT)
}

fn fixtures_in(dir: &str) -> Vec<Fixture> {
    let keytab = Keytab::parse(&std::fs::read(data_dir(dir).join("service.keytab")).unwrap()).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(data_dir(dir))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with("ap-req-") && name.ends_with(".bin"))
        .collect();
    names.sort();
    assert!(names.len() >= 3, "the AP-REQ fixtures are missing: {names:?}");
    names
        .into_iter()
        .map(|name| {
            let token = std::fs::read(data_dir(dir).join(&name)).unwrap();
            let (_, ap_req) = ApReq::decode_gss(&token).unwrap();
            let enc_part = &ap_req.ticket.enc_part;
            let service_key =
                keytab.find(&ap_req.ticket.server(), enc_part.enctype().unwrap(), enc_part.kvno).unwrap().key.clone();
            let ticket = ap_req.ticket.decrypt(&service_key).unwrap();
            let pac = ticket.pac().unwrap().unwrap_or_else(|| panic!("{name}: no PAC")).to_vec();
            Fixture { pac, service_key, client: ticket.client(), authtime: ticket.authtime, name }
        })
        .collect()
}

fn verify_fixture(fixture: &Fixture, pac: &[u8]) -> Result<Pac, PacError> {
    verify(pac, &fixture.service_key, &fixture.client, fixture.authtime)
}

#[test]
fn every_mit_pac_verifies_with_the_service_key_and_names_alice_at_the_tickets_authtime() {
    for fixture in fixtures() {
        let name = &fixture.name;
        assert_eq!(fixture.pac.len() as i64, recorded_number(MIT, name, "ticket_pac_bytes"), "{name}");
        assert_eq!(fixture.authtime, recorded_number(MIT, name, "authtime"), "{name}");
        let pac = verify_fixture(&fixture, &fixture.pac).unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(pac.client_info.name, "alice", "{name}");
        assert_eq!(pac.user_name(), "alice", "{name}");
        assert_eq!(Some(pac.client_info.client_id), unix_to_filetime(fixture.authtime), "{name}");
        assert_eq!(pac.server_signature.signature_type, fixture.service_key.enctype().checksum_type().number());
        // MIT has no logon info: no SIDs, the caller maps the principal.
        assert!(pac.logon_info.is_none(), "{name}");
        assert_eq!(pac.user_sid(), None, "{name}");
        assert!(pac.group_sids().is_empty(), "{name}");
    }
}

/// The bytes of the KDC signature's Signature field: zeroed for the server signature, and keyed
/// with the krbtgt key, so changes there cannot be detected by a service.
fn kdc_signature_field(pac: &[u8]) -> std::ops::Range<usize> {
    let parsed = PacType::decode(pac).unwrap();
    let (info, bytes) = parsed.buffer(buffer_type::KDC_CHECKSUM).unwrap();
    let signature = Signature::decode(info, bytes).unwrap();
    signature.offset..signature.offset + signature.signature.len()
}

#[test]
fn a_flipped_byte_anywhere_but_in_the_kdc_signature_fails_verification() {
    for fixture in fixtures() {
        let undetectable = kdc_signature_field(&fixture.pac);
        for index in 0..fixture.pac.len() {
            for flip in [0x01, 0x80] {
                let mut pac = fixture.pac.clone();
                pac[index] ^= flip;
                let result = verify_fixture(&fixture, &pac);
                if undetectable.contains(&index) {
                    assert!(result.is_ok(), "{}: byte {index}", fixture.name);
                } else {
                    assert!(result.is_err(), "{}: byte {index} flipped by {flip:#x} verified", fixture.name);
                }
            }
        }
    }
}

#[test]
fn a_pac_verified_with_the_wrong_key_fails() {
    for fixture in fixtures() {
        let enctype = fixture.service_key.enctype();
        let other = Key::new(enctype, &vec![0x42; enctype.key_len()]).unwrap();
        assert_eq!(
            verify(&fixture.pac, &other, &fixture.client, fixture.authtime),
            Err(PacError::Signature(CryptoError::Integrity)),
            "{}",
            fixture.name
        );
        // A key of another enctype cannot check this signature type: refused, not computed.
        let other_enctype =
            if enctype == Enctype::Aes256CtsHmacSha1 { Enctype::Aes128CtsHmacSha1 } else { Enctype::Aes256CtsHmacSha1 };
        let other = Key::new(other_enctype, &vec![0x42; other_enctype.key_len()]).unwrap();
        assert!(
            matches!(verify(&fixture.pac, &other, &fixture.client, fixture.authtime), Err(PacError::ChecksumType(_))),
            "{}",
            fixture.name
        );
    }
}

#[test]
fn a_pac_for_another_client_or_authtime_is_refused() {
    let fixture = &fixtures()[0];
    let bob = Principal::new("EXAMPLE.COM", &["bob"], name_type::PRINCIPAL);
    assert!(matches!(
        verify(&fixture.pac, &fixture.service_key, &bob, fixture.authtime),
        Err(PacError::ClientMismatch(_))
    ));
    assert!(matches!(
        verify(&fixture.pac, &fixture.service_key, &fixture.client, fixture.authtime + 1),
        Err(PacError::ClientMismatch(_))
    ));
}

#[test]
fn every_truncation_of_a_pac_is_refused() {
    for fixture in fixtures() {
        for length in 0..fixture.pac.len() {
            assert!(verify_fixture(&fixture, &fixture.pac[..length]).is_err(), "{}: {length}", fixture.name);
        }
    }
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let key = Key::new(Enctype::Aes256CtsHmacSha1, &[7; 32]).unwrap();
        let alice = Principal::new("EXAMPLE.COM", &["alice"], name_type::PRINCIPAL);
        let _ = verify(&bytes, &key, &alice, 0);
        let _ = ValidationInfo::decode(&bytes);
        let _ = UpnDnsInfo::decode(&bytes);
        let _ = ClientInfo::decode(&bytes);
    }

    #[test]
    fn random_changes_to_a_built_pac_never_panic(
        changes in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let (mut pac, key) = built_pac(&sample_validation_info());
        for (index, byte) in changes {
            let index = index.index(pac.len());
            pac[index] = byte;
        }
        let _ = verify(&pac, &key, &bob(), AUTHTIME);
        let _ = ValidationInfo::decode(&pac);
    }
}

// A KERB_VALIDATION_INFO, and a PAC around it, built here.

const AUTHTIME: i64 = 1_796_616_255;

fn bob() -> Principal {
    Principal::new("EXAMPLE.COM", &["bob"], name_type::PRINCIPAL)
}

fn domain_sid() -> Sid {
    Sid::new(5, &[21, 1_111, 2_222, 3_333])
}

fn sample_validation_info() -> ValidationInfo {
    ValidationInfo {
        logon_time: unix_to_filetime(AUTHTIME).unwrap(),
        logoff_time: i64::MAX as u64,
        kick_off_time: i64::MAX as u64,
        password_last_set: unix_to_filetime(AUTHTIME - 86_400).unwrap(),
        effective_name: "bob".into(),
        full_name: "Bob Builder".into(),
        logon_server: "DC1".into(),
        logon_domain_name: "EXAMPLE".into(),
        user_id: 1_104,
        primary_group_id: 513,
        group_ids: vec![GroupMembership { rid: 513, attributes: 7 }, GroupMembership { rid: 1_105, attributes: 7 }],
        user_flags: user_flags::EXTRA_SIDS | user_flags::RESOURCE_GROUPS,
        logon_domain_id: Some(domain_sid()),
        user_account_control: 0x10,
        extra_sids: vec![SidAndAttributes { sid: Sid::new(18, &[1]), attributes: 7 }],
        resource_group_domain_sid: Some(Sid::new(5, &[21, 4, 5, 6])),
        resource_group_ids: vec![GroupMembership { rid: 1_000, attributes: group_attributes::RESOURCE | 7 }],
    }
}

fn filetime_ndr(writer: &mut NdrWriter, time: u64) {
    writer.u32(time as u32).u32((time >> 32) as u32);
}

fn unicode_fixed(writer: &mut NdrWriter, text: &str) {
    let bytes = utf16::encode(text).len() as u16;
    // Windows points at a buffer even for an empty string; leave the empty ones null here.
    writer.u16(bytes).u16(bytes).pointer(!text.is_empty());
}

fn unicode_pointee(writer: &mut NdrWriter, text: &str) {
    if !text.is_empty() {
        let units = utf16::encode(text);
        writer.size(units.len() / 2).size(0).size(units.len() / 2).bytes(&units);
    }
}

fn groups_pointee(writer: &mut NdrWriter, groups: &[GroupMembership]) {
    writer.size(groups.len());
    for group in groups {
        writer.u32(group.rid).u32(group.attributes);
    }
}

/// The MS-PAC 2.5 buffer: MS-RPCE 2.2.6 headers, then the NDR 2.0 of a unique pointer to it.
fn encode_validation_info(info: &ValidationInfo) -> Vec<u8> {
    let mut ndr = NdrWriter::new(Syntax::Ndr20);
    ndr.pointer(true);
    for time in [info.logon_time, info.logoff_time, info.kick_off_time, info.password_last_set, 0, 0] {
        filetime_ndr(&mut ndr, time);
    }
    for text in [&info.effective_name, &info.full_name, "", "", "", ""] {
        unicode_fixed(&mut ndr, text);
    }
    ndr.u16(3).u16(0); // LogonCount, BadPasswordCount
    ndr.u32(info.user_id).u32(info.primary_group_id).u32(info.group_ids.len() as u32).pointer(true);
    ndr.u32(info.user_flags).bytes(&[0; 16]);
    unicode_fixed(&mut ndr, &info.logon_server);
    unicode_fixed(&mut ndr, &info.logon_domain_name);
    ndr.pointer(info.logon_domain_id.is_some());
    ndr.u32(0).u32(0).u32(info.user_account_control).u32(0);
    filetime_ndr(&mut ndr, 0);
    filetime_ndr(&mut ndr, 0);
    ndr.u32(0).u32(0);
    ndr.u32(info.extra_sids.len() as u32).pointer(!info.extra_sids.is_empty());
    ndr.pointer(info.resource_group_domain_sid.is_some());
    ndr.u32(info.resource_group_ids.len() as u32).pointer(!info.resource_group_ids.is_empty());

    unicode_pointee(&mut ndr, &info.effective_name);
    unicode_pointee(&mut ndr, &info.full_name);
    groups_pointee(&mut ndr, &info.group_ids);
    unicode_pointee(&mut ndr, &info.logon_server);
    unicode_pointee(&mut ndr, &info.logon_domain_name);
    if let Some(sid) = &info.logon_domain_id {
        ndr.sid(sid);
    }
    if !info.extra_sids.is_empty() {
        ndr.size(info.extra_sids.len());
        for extra in &info.extra_sids {
            ndr.pointer(true).u32(extra.attributes);
        }
        for extra in &info.extra_sids {
            ndr.sid(&extra.sid);
        }
    }
    if let Some(sid) = &info.resource_group_domain_sid {
        ndr.sid(sid);
    }
    if !info.resource_group_ids.is_empty() {
        groups_pointee(&mut ndr, &info.resource_group_ids);
    }
    ndr.align(8);
    let body = ndr.into_vec();

    let mut out = Writer::new();
    out.u8(1).u8(0x10).u16(8).u32(0xcccc_cccc).u32(body.len() as u32).u32(0).bytes(&body);
    out.into_vec()
}

fn client_info(name: &str, authtime: i64) -> Vec<u8> {
    let name = utf16::encode(name);
    let mut out = Writer::new();
    out.u64(unix_to_filetime(authtime).unwrap()).u16(name.len() as u16).bytes(&name);
    out.into_vec()
}

fn upn_dns_info(upn: &str, dns: &str, sam: &str, sid: &Sid) -> Vec<u8> {
    let (upn, dns, sam) = (utf16::encode(upn), utf16::encode(dns), utf16::encode(sam));
    let mut sid_bytes = Writer::new();
    sid.encode(&mut sid_bytes);
    let sid_bytes = sid_bytes.into_vec();
    let mut offset = 24_u16;
    let mut out = Writer::new();
    let mut place = |out: &mut Writer, field: &[u8]| {
        out.u16(field.len() as u16).u16(offset);
        offset += field.len().next_multiple_of(8) as u16;
    };
    place(&mut out, &upn);
    place(&mut out, &dns);
    out.u32(UpnDnsInfo::FLAG_EXTENDED);
    place(&mut out, &sam);
    place(&mut out, &sid_bytes);
    out.align(8);
    for field in [&upn, &dns, &sam, &sid_bytes] {
        out.bytes(field).align(8);
    }
    out.into_vec()
}

/// A PACTYPE of `buffers`, each at an 8-byte aligned offset.
fn pactype(buffers: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut offset = 8 + 16 * buffers.len();
    let mut out = Writer::new();
    out.u32(buffers.len() as u32).u32(0);
    for (buffer_type, bytes) in buffers {
        out.u32(*buffer_type).u32(bytes.len() as u32).u64(offset as u64);
        offset += bytes.len().next_multiple_of(8);
    }
    for (_, bytes) in buffers {
        out.bytes(bytes).align(8);
    }
    out.into_vec()
}

fn signature_buffer(checksum_type: ChecksumType) -> Vec<u8> {
    let mut out = Writer::new();
    out.u32(checksum_type.number() as u32).zeros(checksum_type.len());
    out.into_vec()
}

/// A PAC as a Windows KDC lays it out, signed with an aes256 service key; the KDC signature is
/// filler (it is keyed with the krbtgt key, which the service never checks).
fn built_pac(info: &ValidationInfo) -> (Vec<u8>, Key) {
    let key = Key::new(Enctype::Aes256CtsHmacSha1, &[0x5a; 32]).unwrap();
    let mut pac = pactype(&[
        (buffer_type::LOGON_INFO, encode_validation_info(info)),
        (buffer_type::CLIENT_INFO, client_info("bob", AUTHTIME)),
        (
            buffer_type::UPN_DNS_INFO,
            upn_dns_info("bob@example.com", "EXAMPLE.COM", "bob", &with_rid(&domain_sid(), 1_104)),
        ),
        (buffer_type::SERVER_CHECKSUM, signature_buffer(ChecksumType::HmacSha1Aes256)),
        (buffer_type::KDC_CHECKSUM, signature_buffer(ChecksumType::HmacSha1Aes256)),
    ]);
    let parsed = PacType::decode(&pac).unwrap();
    let server = parsed.buffer(buffer_type::SERVER_CHECKSUM).unwrap().0.offset + 4;
    let kdc = parsed.buffer(buffer_type::KDC_CHECKSUM).unwrap().0.offset + 4;
    let signature = checksum(&key, KEY_USAGE_PAC_SIGNATURE, &pac);
    pac[server..server + signature.len()].copy_from_slice(&signature);
    pac[kdc..kdc + 12].fill(0xaa);
    (pac, key)
}

#[test]
fn a_hand_encoded_kerb_validation_info_decodes_field_by_field() {
    let info = sample_validation_info();
    assert_eq!(ValidationInfo::decode(&encode_validation_info(&info)).unwrap(), info);
}

#[test]
fn a_validation_info_with_empty_strings_and_no_groups_decodes() {
    let info = ValidationInfo {
        full_name: String::new(),
        group_ids: Vec::new(),
        extra_sids: Vec::new(),
        resource_group_domain_sid: None,
        resource_group_ids: Vec::new(),
        ..sample_validation_info()
    };
    assert_eq!(ValidationInfo::decode(&encode_validation_info(&info)).unwrap(), info);
}

#[test]
fn a_full_pac_yields_the_users_sid_and_groups_in_token_order() {
    let (pac, key) = built_pac(&sample_validation_info());
    let pac = verify(&pac, &key, &bob(), AUTHTIME).unwrap();
    assert_eq!(pac.user_name(), "bob");
    assert_eq!(pac.domain(), Some("EXAMPLE"));
    assert_eq!(pac.upn(), Some("bob@example.com"));
    assert_eq!(pac.dns_domain(), Some("EXAMPLE.COM"));
    let upn = pac.upn_dns_info.as_ref().unwrap();
    assert_eq!(upn.sam_name.as_deref(), Some("bob"));
    assert_eq!(upn.sid.as_ref().map(ToString::to_string).as_deref(), Some("S-1-5-21-1111-2222-3333-1104"));
    assert_eq!(pac.user_sid().unwrap().to_string(), "S-1-5-21-1111-2222-3333-1104");
    let groups: Vec<(String, u32)> =
        pac.group_sids().into_iter().map(|group| (group.sid.to_string(), group.attributes)).collect();
    assert_eq!(
        groups,
        [
            ("S-1-5-21-1111-2222-3333-513".to_owned(), 7),
            ("S-1-5-21-1111-2222-3333-1105".to_owned(), 7),
            ("S-1-18-1".to_owned(), 7),
            ("S-1-5-21-4-5-6-1000".to_owned(), 0x2000_0007),
        ]
    );
}

#[test]
fn every_truncation_of_a_full_pac_and_its_logon_info_is_refused() {
    let info = encode_validation_info(&sample_validation_info());
    for length in 0..info.len() - 7 {
        assert!(ValidationInfo::decode(&info[..length]).is_err(), "{length}");
    }
    let (pac, key) = built_pac(&sample_validation_info());
    for length in 0..pac.len() {
        assert!(verify(&pac[..length], &key, &bob(), AUTHTIME).is_err(), "{length}");
    }
}

#[test]
fn the_primary_group_is_added_when_group_ids_leave_it_out() {
    let info =
        ValidationInfo { group_ids: vec![GroupMembership { rid: 1_105, attributes: 7 }], ..sample_validation_info() };
    let groups = info.group_sids();
    assert_eq!(groups[0].sid.to_string(), "S-1-5-21-1111-2222-3333-513");
    assert_eq!(groups[1].sid.to_string(), "S-1-5-21-1111-2222-3333-1105");
}

#[test]
fn a_second_buffer_of_a_singleton_type_is_refused() {
    let pac = pactype(&[
        (buffer_type::CLIENT_INFO, client_info("bob", AUTHTIME)),
        (buffer_type::CLIENT_INFO, client_info("eve", AUTHTIME)),
    ]);
    assert_eq!(PacType::decode(&pac), Err(PacError::Duplicate(buffer_type::CLIENT_INFO)));
}

#[test]
fn misaligned_overlapping_header_or_too_many_buffers_are_refused() {
    let good = pactype(&[(buffer_type::CLIENT_INFO, client_info("bob", AUTHTIME))]);
    assert!(PacType::decode(&good).is_ok());
    let mut misaligned = good.clone();
    misaligned[16] += 4;
    assert!(PacType::decode(&misaligned).is_err());
    let mut in_header = good.clone();
    in_header[16] = 8;
    assert!(PacType::decode(&in_header).is_err());
    let two = pactype(&[(buffer_type::CLIENT_INFO, client_info("bob", AUTHTIME)), (100, vec![0; 8])]);
    let mut overlapping = two.clone();
    overlapping[32..40].copy_from_slice(&two[16..24]);
    assert!(PacType::decode(&two).is_ok());
    assert!(PacType::decode(&overlapping).is_err());
    let mut version = good.clone();
    version[4] = 1;
    assert!(PacType::decode(&version).is_err());
    let many: Vec<(u32, Vec<u8>)> = (0..=MAX_BUFFERS as u32).map(|index| (100 + index, vec![0; 8])).collect();
    assert!(PacType::decode(&pactype(&many)).is_err());
    let few: Vec<(u32, Vec<u8>)> = (0..MAX_BUFFERS as u32).map(|index| (100 + index, vec![0; 8])).collect();
    assert!(PacType::decode(&pactype(&few)).is_ok());
}

#[test]
fn an_unkeyed_server_signature_is_refused() {
    let (mut pac, key) = built_pac(&sample_validation_info());
    let parsed = PacType::decode(&pac).unwrap();
    let server = parsed.buffer(buffer_type::SERVER_CHECKSUM).unwrap().0.offset;
    // CRC32 (1), and plain SHA-1 (14): unkeyed, anyone could make them.
    for unkeyed in [1_u32, 14] {
        pac[server..server + 4].copy_from_slice(&unkeyed.to_le_bytes());
        assert!(matches!(verify(&pac, &key, &bob(), AUTHTIME), Err(PacError::ChecksumType(_))));
    }
}

// Samba AD DC's PACs: logon info, UPN/DNS info with the SAM name and SID, ticket and full
// checksums, server signatures of aes256 (16) and RC4 (-138).

#[test]
fn every_samba_ad_pac_verifies_and_yields_the_directorys_user_and_group_sids() {
    for fixture in fixtures_in(AD) {
        let name = &fixture.name;
        let value = |key| recorded(AD, name, key);
        assert_eq!(fixture.pac, std::fs::read(data_dir(AD).join(value("ticket_pac_file"))).unwrap(), "{name}");
        let pac = verify_fixture(&fixture, &fixture.pac).unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(pac.client_info.name, value("pac_client_name"), "{name}");
        assert_eq!(pac.client_info.client_id as i64, recorded_number(AD, name, "pac_client_logon_time"), "{name}");
        assert_eq!(pac.user_name(), value("pac_account_name"), "{name}");
        assert_eq!(pac.domain(), Some(value("pac_logon_domain").as_str()), "{name}");
        assert_eq!(pac.upn(), Some(value("pac_upn").as_str()), "{name}");
        assert_eq!(pac.dns_domain(), Some(value("pac_dns_domain_name").as_str()), "{name}");
        assert_eq!(pac.user_sid().unwrap().to_string(), value("pac_user_sid"), "{name}");
        assert_eq!(value("pac_user_sid"), recorded(AD, "directory", "alice"));

        let info = pac.logon_info.as_ref().unwrap();
        assert_eq!(info.full_name, value("pac_full_name"), "{name}");
        assert_eq!(info.logon_server, value("pac_logon_server"), "{name}");
        assert_eq!(info.logon_time as i64, recorded_number(AD, name, "pac_logon_time"), "{name}");
        assert_eq!(i64::from(info.primary_group_id), recorded_number(AD, name, "pac_primary_group_rid"), "{name}");
        assert_eq!(format!("{:#x}", info.user_flags), value("pac_user_flags"), "{name}");
        assert_eq!(format!("{:#x}", info.user_account_control), value("pac_user_account_control"), "{name}");

        let upn = pac.upn_dns_info.as_ref().unwrap();
        assert_eq!(format!("{:#x}", upn.flags), value("pac_upn_dns_flags"), "{name}");
        assert_eq!(upn.sam_name.as_deref(), Some(value("pac_upn_dns_sam_name").as_str()), "{name}");
        assert_eq!(upn.sid.as_ref().unwrap().to_string(), value("pac_upn_dns_sid"), "{name}");

        // Domain groups (RIDs in the domain), then extra SIDs, each with its attributes.
        let domain = value("pac_domain_sid");
        let mut expected: Vec<String> = recorded_all(AD, name, "pac_group")
            .iter()
            .map(|group| {
                let (rid, attributes) = group.split_once(' ').unwrap();
                format!("{domain}-{rid} {attributes}")
            })
            .collect();
        expected.extend(recorded_all(AD, name, "pac_extra_sid"));
        let groups: Vec<String> =
            pac.group_sids().iter().map(|group| format!("{} {:#x}", group.sid, group.attributes)).collect();
        assert_eq!(groups, expected, "{name}");
        // Every directory tokenGroup of the domain (Finance only by nesting) is among them.
        for token_group in recorded_all(AD, "directory", "tokenGroup").iter().filter(|sid| sid.starts_with(&domain)) {
            assert!(groups.iter().any(|group| group.starts_with(&format!("{token_group} "))), "{name}: {token_group}");
        }

        for (signature, key) in [
            (Some(&pac.server_signature), "pac_server_signature"),
            (Some(&pac.kdc_signature), "pac_kdc_signature"),
            (pac.ticket_signature.as_ref(), "pac_ticket_signature"),
            (pac.full_signature.as_ref(), "pac_full_signature"),
        ] {
            let signature = signature.unwrap_or_else(|| panic!("{name}: no {key}"));
            assert_eq!(hex::encode(&signature.signature), value(key), "{name}");
            assert_eq!(i64::from(signature.signature_type), recorded_number(AD, name, &format!("{key}_type")));
        }
    }
}

#[test]
fn a_flipped_byte_in_a_samba_ad_pac_fails_unless_in_the_kdc_signature() {
    for fixture in fixtures_in(AD) {
        let undetectable = kdc_signature_field(&fixture.pac);
        for index in 0..fixture.pac.len() {
            let mut pac = fixture.pac.clone();
            pac[index] ^= 0x01;
            assert_eq!(
                verify_fixture(&fixture, &pac).is_ok(),
                undetectable.contains(&index),
                "{}: byte {index}",
                fixture.name
            );
        }
    }
}

#[test]
fn every_truncation_of_a_samba_ad_pac_is_refused() {
    for fixture in fixtures_in(AD) {
        for length in 0..fixture.pac.len() {
            assert!(verify_fixture(&fixture, &fixture.pac[..length]).is_err(), "{}: {length}", fixture.name);
        }
    }
}

#[test]
fn the_acceptor_hands_out_the_verified_samba_ad_identity() {
    use crate::auth::kerberos::acceptor::{Policy, accept};
    use crate::auth::kerberos::replay::ReplayCache;
    use crate::engine::clock::Now;
    use std::time::{Duration, Instant, UNIX_EPOCH};

    let keytab = Keytab::parse(&std::fs::read(data_dir(AD).join("service.keytab")).unwrap()).unwrap();
    for fixture in fixtures_in(AD) {
        let name = &fixture.name;
        let ctime = recorded_number(AD, name, "authenticator_ctime");
        let now = Now { instant: Instant::now(), system: UNIX_EPOCH + Duration::from_secs(ctime as u64) };
        let token = std::fs::read(data_dir(AD).join(name)).unwrap();
        let mut random = |buffer: &mut [u8]| buffer.fill(7);
        let accepted = accept(&token, &keytab, &[], &Policy::default(), &mut ReplayCache::default(), now, &mut random)
            .unwrap_or_else(|error| panic!("{name}: {error:?}"));
        let pac = accepted.pac.unwrap();
        assert_eq!(pac.user_sid().unwrap().to_string(), recorded(AD, name, "pac_user_sid"), "{name}");
        assert_eq!(accepted.pac_bytes.unwrap(), fixture.pac, "{name}");
    }
}
