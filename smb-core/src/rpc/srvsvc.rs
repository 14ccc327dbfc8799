//! The server service (MS-SRVS): share listing and server information, the calls `smbclient -L`,
//! `rpcclient netshareenumall` and Windows' Explorer make.

use super::ndr::{NdrReader, NdrWriter, Syntax};
use super::pdu::SyntaxId;
use crate::proto::DecodeError;

/// MS-SRVS 1.9: srvsvc 4B324FC8-1670-01D3-1278-5A47BF6EE188, version 3.0.
pub(crate) const INTERFACE: SyntaxId = SyntaxId::new(0x4b324fc8_1670_01d3_1278_5a47bf6ee188, 3);

pub(crate) mod opnum {
    pub(crate) const NETR_SHARE_ENUM: u16 = 15;
    pub(crate) const NETR_SHARE_GET_INFO: u16 = 16;
    pub(crate) const NETR_SERVER_GET_INFO: u16 = 21;
}

/// MS-SRVS 2.2.2.4 share types.
pub(crate) mod share_type {
    pub(crate) const DISK_TREE: u32 = 0x0000_0000;
    pub(crate) const IPC: u32 = 0x0000_0003;
    pub(crate) const SPECIAL: u32 = 0x8000_0000;
}

/// Win32 error codes (MS-ERREF 2.2) srvsvc answers with.
pub(crate) mod werror {
    pub(crate) const OK: u32 = 0;
    pub(crate) const INVALID_LEVEL: u32 = 124;
    pub(crate) const NET_NAME_NOT_FOUND: u32 = 2310;
    pub(crate) const ACCESS_DENIED: u32 = 5;
}

/// A share as the caller may see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ShareView {
    pub name: String,
    pub kind: u32,
    pub remark: String,
}

/// The server as srvsvc describes it to one caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ServerView {
    pub name: String,
    pub comment: String,
    pub shares: Vec<ShareView>,
}

/// Runs one srvsvc call; returns the response stub, or `None` for an unknown operation.
pub(crate) fn call(
    opnum: u16,
    stub: &[u8],
    syntax: Syntax,
    server: &ServerView,
) -> Result<Option<Vec<u8>>, DecodeError> {
    let mut input = NdrReader::new(stub, syntax);
    let mut out = NdrWriter::new(syntax);
    match opnum {
        opnum::NETR_SHARE_ENUM => {
            input.optional_string()?;
            // InfoStruct is a structure holding pointers: in NDR64 it starts 8-aligned.
            input.align_struct()?;
            let level = input.u32()?;
            share_enum(level, server, &mut out);
        }
        opnum::NETR_SHARE_GET_INFO => {
            input.optional_string()?;
            let name = input.string()?;
            let level = input.u32()?;
            share_get_info(level, &name, server, &mut out);
        }
        opnum::NETR_SERVER_GET_INFO => {
            input.optional_string()?;
            let level = input.u32()?;
            server_get_info(level, server, &mut out);
        }
        _ => return Ok(None),
    }
    Ok(Some(out.into_vec()))
}

/// The start of a non-encapsulated union `[switch_is(level)]` (MS-RPCE 2.2.5.3.4.2 in NDR64:
/// aligned like its widest arm).
fn union_start(out: &mut NdrWriter, level: u32) {
    out.align_struct();
    out.u32(level);
}

fn share_fixed(level: u32, share: &ShareView, out: &mut NdrWriter) {
    out.align_struct();
    out.pointer(true);
    if level == 1 {
        out.u32(share.kind).pointer(true);
    }
}

fn share_deferred(level: u32, share: &ShareView, out: &mut NdrWriter) {
    out.string(&share.name);
    if level == 1 {
        out.string(&share.remark);
    }
}

/// The levels any signed-in user may read: names (0), and types and remarks (1).
const LEVELS: [u32; 2] = [0, 1];

/// Levels 2 and 502 show each share's local path and use count: Windows answers them only to
/// administrators (MS-SRVS 3.1.4.8), and no SMB user of EdgeShare administers the server.
const ADMINISTRATOR_LEVELS: [u32; 2] = [2, 502];

/// The WERROR for a level this caller may not read.
fn level_refusal(level: u32) -> u32 {
    if ADMINISTRATOR_LEVELS.contains(&level) { werror::ACCESS_DENIED } else { werror::INVALID_LEVEL }
}

/// MS-SRVS 3.1.4.8 NetrShareEnum: [out] InfoStruct, TotalEntries, ResumeHandle, and the result.
fn share_enum(level: u32, server: &ServerView, out: &mut NdrWriter) {
    out.u32(level);
    if !LEVELS.contains(&level) {
        union_start(out, level);
        out.pointer(false);
        out.u32(0).pointer(false).u32(level_refusal(level));
        return;
    }
    union_start(out, level);
    out.pointer(true);
    out.align_struct();
    out.u32(server.shares.len() as u32).pointer(!server.shares.is_empty());
    if !server.shares.is_empty() {
        out.size(server.shares.len());
        for share in &server.shares {
            share_fixed(level, share, out);
        }
        for share in &server.shares {
            share_deferred(level, share, out);
        }
    }
    out.u32(server.shares.len() as u32);
    out.pointer(false);
    out.u32(werror::OK);
}

/// MS-SRVS 3.1.4.10 NetrShareGetInfo.
fn share_get_info(level: u32, name: &str, server: &ServerView, out: &mut NdrWriter) {
    let share = server.shares.iter().find(|s| crate::engine::config::same_name(&s.name, name));
    union_start(out, level);
    match share {
        Some(share) if LEVELS.contains(&level) => {
            out.pointer(true);
            share_fixed(level, share, out);
            share_deferred(level, share, out);
            out.u32(werror::OK);
        }
        Some(_) => {
            out.pointer(false);
            out.u32(level_refusal(level));
        }
        None => {
            out.pointer(false);
            out.u32(werror::NET_NAME_NOT_FOUND);
        }
    }
}

/// MS-SRVS 3.1.4.17 NetrServerGetInfo, levels 100, 101 and 102.
fn server_get_info(level: u32, server: &ServerView, out: &mut NdrWriter) {
    const PLATFORM_ID_NT: u32 = 500;
    // SV_TYPE_WORKSTATION | SV_TYPE_SERVER | SV_TYPE_SERVER_NT | SV_TYPE_NT (MS-SRVS 2.2.2.7).
    const SERVER_TYPE: u32 = 0x0000_0001 | 0x0000_0002 | 0x0000_8000 | 0x0000_1000;
    union_start(out, level);
    if !matches!(level, 100..=102) {
        out.pointer(false);
        out.u32(werror::INVALID_LEVEL);
        return;
    }
    out.pointer(true);
    out.align_struct();
    out.u32(PLATFORM_ID_NT).pointer(true);
    if level >= 101 {
        out.u32(10).u32(0).u32(SERVER_TYPE).pointer(true);
    }
    if level == 102 {
        // users, disc, hidden, announce, anndelta, licenses, userpath.
        out.u32(u32::MAX).u32(15).u32(0).u32(240).u32(3000).u32(0).pointer(true);
    }
    out.string(&server.name);
    if level >= 101 {
        out.string(&server.comment);
    }
    if level == 102 {
        out.string("C:\\");
    }
    out.u32(werror::OK);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> ServerView {
        let share = |name: &str, kind: u32, remark: &str| ShareView { name: name.into(), kind, remark: remark.into() };
        ServerView {
            name: "FILES".into(),
            comment: "EdgeShare".into(),
            shares: vec![
                share("IPC$", share_type::IPC | share_type::SPECIAL, "IPC Service"),
                share("sales", 0, "Sales team"),
            ],
        }
    }

    fn enum_request(syntax: Syntax, level: u32) -> Vec<u8> {
        enum_request_for("\\\\localhost", syntax, level)
    }

    fn enum_request_for(server_name: &str, syntax: Syntax, level: u32) -> Vec<u8> {
        let mut out = NdrWriter::new(syntax);
        out.pointer(true).string(server_name).align_struct().u32(level);
        union_start(&mut out, level);
        out.pointer(true).align_struct();
        out.u32(0).pointer(false).u32(u32::MAX).pointer(false);
        out.into_vec()
    }

    #[test]
    fn an_ndr64_share_enum_reads_its_level_after_the_structure_padding() {
        // "127.0.0.1" leaves the string 4 bytes short of an 8-byte boundary: the level of
        // InfoStruct comes after padding (as the `smb` crate sends it).
        for syntax in [Syntax::Ndr20, Syntax::Ndr64] {
            let request = enum_request_for("127.0.0.1", syntax, 1);
            let stub = call(opnum::NETR_SHARE_ENUM, &request, syntax, &server()).unwrap().unwrap();
            assert_eq!(&stub[..4], &[1, 0, 0, 0], "{syntax:?}: the reply must be for level 1");
        }
    }

    #[test]
    fn share_enum_level_1_matches_the_windows_ndr64_layout() {
        // The first bytes of a Windows NetrShareEnum level 1 response (NDR64): level, union
        // discriminant, container pointer, entries, array pointer, array size.
        let stub =
            call(opnum::NETR_SHARE_ENUM, &enum_request(Syntax::Ndr64, 1), Syntax::Ndr64, &server()).unwrap().unwrap();
        assert_eq!(
            hex::encode(&stub[..48]),
            "010000000000000001000000000000000000020000000000020000000000000000000200000000000200000000000000"
        );
        // ... and at the end a null resume handle and WERROR 0.
        assert_eq!(&stub[stub.len() - 12..], &[0; 12]);
    }

    #[test]
    fn share_enum_lists_every_visible_share_in_ndr20() {
        for level in LEVELS {
            let stub = call(opnum::NETR_SHARE_ENUM, &enum_request(Syntax::Ndr20, level), Syntax::Ndr20, &server())
                .unwrap()
                .unwrap();
            let text = String::from_utf16_lossy(
                &stub.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect::<Vec<_>>(),
            );
            assert!(text.contains("sales"), "level {level}");
            assert_eq!(&stub[stub.len() - 4..], &[0, 0, 0, 0], "WERROR OK at level {level}");
        }
    }

    #[test]
    fn levels_with_local_paths_are_refused_as_windows_refuses_non_administrators() {
        for level in ADMINISTRATOR_LEVELS {
            let stub = call(opnum::NETR_SHARE_ENUM, &enum_request(Syntax::Ndr20, level), Syntax::Ndr20, &server())
                .unwrap()
                .unwrap();
            assert_eq!(&stub[stub.len() - 4..], &werror::ACCESS_DENIED.to_le_bytes(), "level {level}");
            let mut request = NdrWriter::new(Syntax::Ndr20);
            request.pointer(false).string("sales").u32(level);
            let stub =
                call(opnum::NETR_SHARE_GET_INFO, &request.into_vec(), Syntax::Ndr20, &server()).unwrap().unwrap();
            assert_eq!(&stub[stub.len() - 4..], &werror::ACCESS_DENIED.to_le_bytes(), "get info, level {level}");
        }
    }

    #[test]
    fn an_unknown_share_is_net_name_not_found() {
        let mut request = NdrWriter::new(Syntax::Ndr20);
        request.pointer(false).string("missing").u32(1);
        let stub = call(opnum::NETR_SHARE_GET_INFO, &request.into_vec(), Syntax::Ndr20, &server()).unwrap().unwrap();
        assert_eq!(&stub[stub.len() - 4..], &werror::NET_NAME_NOT_FOUND.to_le_bytes());
    }

    #[test]
    fn unknown_operations_are_not_answered_here() {
        assert_eq!(call(99, &[], Syntax::Ndr20, &server()).unwrap(), None);
    }
}
