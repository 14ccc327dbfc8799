//! QUERY_INFO (MS-SMB2 3.3.5.20): file, file-system and security information.

use crate::proto::fscc::FullEa;
use crate::proto::negotiate::Dialect;
use std::os::fd::{AsFd, BorrowedFd};

use crate::engine::connection::Connection;
use crate::engine::dispatch::{Error, Outcome, Request};
use crate::engine::files::access;
use crate::engine::handlers::{open_of, share_of};
use crate::engine::session::{Open, OpenKind};
use crate::engine::shared::lock;
use crate::proto::dtyp::{Ace, Acl, SecurityDescriptor, Sid, ace_flags, security_information};
use crate::proto::error::ErrorResponse;
use crate::proto::fscc::{self, AllInformation, FileMeta, file_class, fs_attributes, fs_class};
use crate::proto::query_info::{QueryInfoRequest, QueryInfoResponse, info_type};
use crate::proto::{NtStatus, Writer};
use crate::vfs::local;

pub(crate) fn handle(conn: &mut Connection, req: &Request<'_>, out: &mut Writer) -> Result<Outcome, Error> {
    let request = QueryInfoRequest::decode(req.message)?;
    let max = conn.negotiated.as_ref().map_or(65536, |n| n.max_io) as usize;
    if request.output_buffer_length as usize > max {
        return Err(NtStatus::INVALID_PARAMETER.into());
    }
    let share = share_of(conn, req);
    let dialect = conn.negotiated.as_ref().map_or(Dialect::SMB2_0_2, |n| n.dialect);
    let key = open_of(conn, req)?.key;
    let (delete_pending, current_path) = key
        .and_then(|k| lock(&conn.shared.files).get(&k).map(|s| (s.delete_pending, Some(s.path.clone()))))
        .unwrap_or((false, None));
    let open = open_of(conn, req)?;
    let path = current_path.unwrap_or_else(|| open.path.clone());
    let data = match request.info_type {
        info_type::FILE => {
            file_info(open, request.file_info_class, delete_pending, &path.to_windows(), dialect, &request)?
        }
        info_type::FILESYSTEM => {
            let share = share.ok_or(NtStatus::INVALID_PARAMETER)?;
            let root = share.root.as_ref().map_err(|_| NtStatus::BAD_NETWORK_NAME)?;
            fs_info(root, request.file_info_class, &share.config.name)?
        }
        info_type::SECURITY => {
            let descriptor = security(open, request.additional_information)?.encode();
            if descriptor.len() > request.output_buffer_length as usize {
                // MS-SMB2 3.3.5.20.3: the caller learns the size it needs.
                return Err(Error {
                    status: NtStatus::BUFFER_TOO_SMALL,
                    data: ErrorResponse::buffer_too_small(descriptor.len() as u32).data,
                });
            }
            descriptor
        }
        info_type::QUOTA => return Err(NtStatus::NOT_SUPPORTED.into()),
        _ => return Err(NtStatus::INVALID_PARAMETER.into()),
    };
    let limit = request.output_buffer_length as usize;
    let mut data = data;
    if request.info_type != info_type::SECURITY {
        let fixed = fixed_size(request.info_type, request.file_info_class);
        if limit < fixed {
            return Err(NtStatus::INFO_LENGTH_MISMATCH.into());
        }
        // Answers are never shorter than their structure, as Windows' are not.
        if data.len() < fixed && !data.is_empty() {
            data.resize(fixed, 0);
        }
    }
    if data.len() > limit {
        // The fixed part fits, the variable part does not: as much as fits, and a warning.
        QueryInfoResponse { buffer: data[..limit].to_vec() }.encode(out);
        return Outcome::status(NtStatus::BUFFER_OVERFLOW);
    }
    QueryInfoResponse { buffer: data }.encode(out);
    Outcome::ok()
}

/// The smallest output buffer a class accepts (smaller: INFO_LENGTH_MISMATCH; enough for this
/// but not the whole answer: BUFFER_OVERFLOW). These are the structure sizes Windows checks,
/// rounded as its C structures are (MS-FSCC 2.4, 2.5).
fn fixed_size(info_type: u8, class: u8) -> usize {
    match (info_type, class) {
        (info_type::FILE, file_class::BASIC) => 40,
        (info_type::FILE, file_class::STANDARD) => 24,
        (info_type::FILE, file_class::INTERNAL | file_class::POSITION) => 8,
        (info_type::FILE, file_class::EA | file_class::ACCESS | file_class::MODE | file_class::ALIGNMENT) => 4,
        (info_type::FILE, file_class::ALL) => 104,
        (info_type::FILE, file_class::NAME | file_class::NORMALIZED_NAME | file_class::ALTERNATE_NAME) => 8,
        (info_type::FILE, file_class::STREAM) => 32,
        (info_type::FILE, file_class::COMPRESSION) => 16,
        (info_type::FILE, file_class::NETWORK_OPEN) => 56,
        (info_type::FILE, file_class::ATTRIBUTE_TAG) => 8,
        (info_type::FILE, file_class::FULL_EA) => 12,
        (info_type::FILE, file_class::ID) => 24,
        (info_type::FILESYSTEM, fs_class::VOLUME) => 24,
        (info_type::FILESYSTEM, fs_class::SIZE) => 24,
        (info_type::FILESYSTEM, fs_class::DEVICE) => 8,
        (info_type::FILESYSTEM, fs_class::ATTRIBUTE) => 16,
        (info_type::FILESYSTEM, fs_class::CONTROL) => 48,
        (info_type::FILESYSTEM, fs_class::FULL_SIZE) => 32,
        (info_type::FILESYSTEM, fs_class::OBJECT_ID) => 64,
        (info_type::FILESYSTEM, fs_class::SECTOR_SIZE) => 28,
        _ => 0,
    }
}

fn meta_of(open: &Open) -> Result<FileMeta, NtStatus> {
    match open.file() {
        Some(file) => local::meta_of(file.as_fd()),
        None => Ok(FileMeta {
            attributes: fscc::attributes::NORMAL,
            allocation_size: 4096,
            links: 1,
            ..FileMeta::default()
        }),
    }
}

fn needs(open: &Open, right: u32) -> Result<(), NtStatus> {
    if open.granted_access & right == 0 { Err(NtStatus::ACCESS_DENIED) } else { Ok(()) }
}

fn file_info(
    open: &Open,
    class: u8,
    delete_pending: bool,
    path: &str,
    dialect: Dialect,
    request: &QueryInfoRequest,
) -> Result<Vec<u8>, NtStatus> {
    let mut out = Writer::new();
    let meta = meta_of(open)?;
    match class {
        file_class::BASIC => {
            needs(open, access::FILE_READ_ATTRIBUTES)?;
            fscc::basic(&meta, &mut out);
        }
        file_class::STANDARD => fscc::standard(&meta, delete_pending, &mut out),
        file_class::INTERNAL => {
            out.u64(meta.file_id);
        }
        file_class::EA => {
            let eas = open.file().map(|f| local::read_eas(f.as_fd())).unwrap_or_default();
            out.u32(FullEa::size_of_all(&eas));
        }
        file_class::ACCESS => {
            out.u32(open.granted_access);
        }
        file_class::NAME => fscc::name(&format!("\\{path}"), &mut out),
        file_class::NORMALIZED_NAME => {
            // Windows offers it from SMB 3.1.1 on; the root's name is empty.
            if dialect < Dialect::SMB3_1_1 {
                return Err(NtStatus::NOT_SUPPORTED);
            }
            fscc::name(path, &mut out);
        }
        file_class::POSITION => {
            out.u64(open.position);
        }
        file_class::MODE => {
            out.u32(open.mode);
        }
        file_class::ALIGNMENT => {
            out.u32(0);
        }
        file_class::ALL => {
            needs(open, access::FILE_READ_ATTRIBUTES)?;
            fscc::all(
                &AllInformation {
                    meta: &meta,
                    delete_pending,
                    access: open.granted_access,
                    position: open.position,
                    mode: open.mode,
                    name: &format!("\\{path}"),
                },
                &mut out,
            );
        }
        file_class::ALTERNATE_NAME => {
            let name = path.rsplit('\\').next().unwrap_or_default();
            if name.is_empty() {
                return Err(NtStatus::OBJECT_NAME_NOT_FOUND);
            }
            fscc::name(&fscc::short_name(name), &mut out);
        }
        file_class::STREAM => {
            if !meta.is_directory {
                fscc::data_stream(&meta, &mut out);
            }
        }
        file_class::COMPRESSION => {
            out.u64(meta.end_of_file).u16(0).u8(0).u8(0).u8(0).zeros(3);
        }
        file_class::NETWORK_OPEN => {
            needs(open, access::FILE_READ_ATTRIBUTES)?;
            fscc::network_open(&meta, &mut out);
        }
        file_class::ATTRIBUTE_TAG => {
            needs(open, access::FILE_READ_ATTRIBUTES)?;
            out.u32(meta.attributes).u32(0);
        }
        file_class::ID => {
            out.u64(0).u64(meta.file_id).u64(0);
        }
        file_class::PIPE if matches!(open.kind, OpenKind::Pipe(_)) => {
            // MS-FSCC 2.4.33 FilePipeInformation: message mode reads and writes, waiting.
            out.u32(1).u32(0);
        }
        file_class::FULL_EA => {
            needs(open, access::FILE_READ_EA)?;
            let eas = open.file().map(|f| local::read_eas(f.as_fd())).unwrap_or_default();
            let wanted = if request.input.is_empty() {
                None
            } else {
                Some(fscc::decode_get_ea_names(&request.input).map_err(|_| NtStatus::INVALID_PARAMETER)?)
            };
            let selected: Vec<FullEa> = match wanted {
                Some(names) => names
                    .iter()
                    .map(|name| {
                        eas.iter().find(|ea| ea.name.eq_ignore_ascii_case(name)).cloned().unwrap_or(FullEa {
                            flags: 0,
                            name: name.to_uppercase(),
                            value: Vec::new(),
                        })
                    })
                    .collect(),
                None => eas,
            };
            if selected.is_empty() {
                return Err(NtStatus::NO_EAS_ON_FILE);
            }
            out.bytes(&FullEa::encode_all(&selected));
        }
        _ => return Err(NtStatus::INVALID_INFO_CLASS),
    }
    Ok(out.into_vec())
}

fn fs_info(root: &crate::vfs::ShareRoot, class: u8, share_name: &str) -> Result<Vec<u8>, NtStatus> {
    let mut out = Writer::new();
    let (total, free, block) = root.space()?;
    let sectors_per_unit = (block / 512).max(1) as u32;
    let unit = u64::from(sectors_per_unit) * 512;
    match class {
        fs_class::VOLUME => {
            let meta = root.meta(&crate::vfs::SharePath::root())?;
            fscc::fs_volume(meta.creation_time, volume_serial(share_name), share_name, &mut out);
        }
        fs_class::SIZE => fscc::fs_size(total / unit, free / unit, sectors_per_unit, 512, &mut out),
        fs_class::FULL_SIZE => {
            fscc::fs_full_size(total / unit, free / unit, free / unit, sectors_per_unit, 512, &mut out)
        }
        fs_class::DEVICE => fscc::fs_device(&mut out),
        fs_class::ATTRIBUTE => fscc::fs_attribute(
            fs_attributes::CASE_PRESERVED_NAMES | fs_attributes::UNICODE_ON_DISK | fs_attributes::SUPPORTS_SPARSE_FILES,
            255,
            "NTFS",
            &mut out,
        ),
        fs_class::OBJECT_ID => {
            out.bytes(&volume_serial(share_name).to_le_bytes()).zeros(12).zeros(48);
        }
        fs_class::SECTOR_SIZE => fscc::fs_sector_size(512, &mut out),
        fs_class::CONTROL => {
            // MS-FSCC 2.5.2 FileFsControlInformation: no quotas are kept; no thresholds or limits.
            out.u64(0).u64(0).u64(0).u64(u64::MAX).u64(u64::MAX).u32(0).u32(0);
        }
        _ => return Err(NtStatus::INVALID_INFO_CLASS),
    }
    Ok(out.into_vec())
}

/// A stable serial number for a share's volume (derived from its name).
fn volume_serial(share_name: &str) -> u32 {
    share_name.to_lowercase().bytes().fold(0x811C_9DC5_u32, |hash, b| (hash ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// The file's security descriptor, limited to the parts asked for (MS-SMB2 3.3.5.20.3).
pub(crate) fn security(open: &Open, information: u32) -> Result<SecurityDescriptor, NtStatus> {
    if information & security_information::SACL != 0 && open.granted_access & access::ACCESS_SYSTEM_SECURITY == 0 {
        return Err(NtStatus::ACCESS_DENIED);
    }
    if information & (security_information::OWNER | security_information::GROUP | security_information::DACL) != 0 {
        needs(open, access::READ_CONTROL)?;
    }
    let full = match open.file() {
        Some(file) => descriptor_of(file.as_fd()),
        None => default_descriptor(0, 0),
    };
    Ok(full.select(information))
}

/// The descriptor a file shows: its owner, and full control for Everyone, because access is
/// decided by the share's permissions (shares keep no file ACLs; see `set_info::set_security`).
/// Descriptors that clients stored in earlier versions are not shown: nothing enforces them.
pub(crate) fn descriptor_of(fd: BorrowedFd<'_>) -> SecurityDescriptor {
    let (uid, gid) = rustix::fs::fstat(fd).map(|s| (s.st_uid, s.st_gid)).unwrap_or((0, 0));
    default_descriptor(uid, gid)
}

fn default_descriptor(uid: u32, gid: u32) -> SecurityDescriptor {
    let inherit = ace_flags::OBJECT_INHERIT | ace_flags::CONTAINER_INHERIT;
    SecurityDescriptor {
        control: 0,
        owner: Some(Sid::unix_user(uid)),
        group: Some(Sid::unix_group(gid)),
        sacl: None,
        dacl: Some(Acl {
            revision: 2,
            aces: vec![
                Ace::allow(Sid::unix_user(uid), access::FILE_ALL, inherit),
                Ace::allow(Sid::everyone(), access::FILE_ALL, inherit),
            ],
        }),
    }
}
