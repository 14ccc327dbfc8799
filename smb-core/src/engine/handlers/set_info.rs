//! SET_INFO (MS-SMB2 3.3.5.21, MS-FSA 2.1.5.14): times and attributes, rename, delete
//! disposition, end of file and allocation, security descriptors.

use std::os::fd::AsFd;

use crate::engine::connection::Connection;
use crate::engine::dispatch::{Error, Outcome, Request};
use crate::engine::files::access;
use crate::engine::handlers::{open_of, share_of};
use crate::engine::notify::Change;
use crate::engine::session::OpenKind;
use crate::engine::shared::lock;
use crate::proto::change_notify::{action, filter};
use crate::proto::create::share_access;
use crate::proto::dtyp::{SecurityDescriptor, security_information};
use crate::proto::fscc::{
    BasicInformation, FullEa, RenameInformation, attributes, disposition_ex, file_class, valid_ea_name,
};
use crate::proto::query_info::info_type;
use crate::proto::set_info::{SetInfoRequest, SetInfoResponse};
use crate::proto::{NtStatus, Writer};
use crate::vfs::SharePath;
use crate::vfs::local::{self, status_of};

pub(crate) fn handle(conn: &mut Connection, req: &Request<'_>, out: &mut Writer) -> Result<Outcome, Error> {
    let request = SetInfoRequest::decode(req.message)?;
    let max = conn.negotiated.as_ref().map_or(65536, |n| n.max_io) as usize;
    if request.buffer.len() > max {
        return Err(NtStatus::INVALID_PARAMETER.into());
    }
    match request.info_type {
        info_type::FILE => {
            file_info(conn, req, &request)?;
            // A new name or delete-on-close of a persistent open is journaled (the other classes
            // change nothing the journal keeps).
            if matches!(
                request.file_info_class,
                file_class::RENAME | file_class::DISPOSITION | file_class::DISPOSITION_EX
            ) {
                let volatile = req.file_id.map_or(0, |f| f.volatile);
                crate::engine::persistent::journal_change(conn, req.session_id(), volatile);
            }
        }
        info_type::SECURITY => set_security(conn, req, &request)?,
        info_type::FILESYSTEM => return Err(NtStatus::NOT_SUPPORTED.into()),
        info_type::QUOTA => return Err(NtStatus::NOT_SUPPORTED.into()),
        _ => return Err(NtStatus::INVALID_PARAMETER.into()),
    }
    SetInfoResponse::default().encode(out);
    Outcome::ok()
}

fn needs(granted: u32, right: u32) -> Result<(), NtStatus> {
    if granted & right == 0 { Err(NtStatus::ACCESS_DENIED) } else { Ok(()) }
}

fn file_info(conn: &mut Connection, req: &Request<'_>, request: &SetInfoRequest) -> Result<(), NtStatus> {
    let buffer = &request.buffer;
    let minimum = match request.file_info_class {
        file_class::BASIC => 36,
        file_class::RENAME | file_class::LINK => 20,
        file_class::DISPOSITION => 1,
        file_class::POSITION | file_class::ALLOCATION | file_class::END_OF_FILE => 8,
        file_class::MODE | file_class::DISPOSITION_EX => 4,
        file_class::VALID_DATA_LENGTH | file_class::SHORT_NAME | file_class::FULL_EA => {
            return Err(NtStatus::NOT_SUPPORTED);
        }
        _ => return Err(NtStatus::INVALID_INFO_CLASS),
    };
    if buffer.len() < minimum {
        return Err(NtStatus::INFO_LENGTH_MISMATCH);
    }
    let share = share_of(conn, req);
    let open = open_of(conn, req)?;
    let granted = open.granted_access;
    if matches!(open.kind, OpenKind::Pipe(_)) {
        return Err(NtStatus::NOT_SUPPORTED);
    }
    let share = share.ok_or(NtStatus::INVALID_PARAMETER)?;
    match request.file_info_class {
        file_class::BASIC => {
            needs(granted, access::FILE_WRITE_ATTRIBUTES)?;
            let info = BasicInformation::decode(buffer).map_err(|_| NtStatus::INVALID_PARAMETER)?;
            set_basic(conn, req, &info)?;
            notify(conn, req, &share.config.name, filter::ATTRIBUTES | filter::LAST_WRITE | filter::CREATION);
        }
        file_class::POSITION => {
            let position = u64::from_le_bytes(buffer[..8].try_into().expect("8 bytes"));
            if position > i64::MAX as u64 {
                return Err(NtStatus::INVALID_PARAMETER);
            }
            open.position = position;
        }
        file_class::MODE => {
            let mode = u32::from_le_bytes(buffer[..4].try_into().expect("4 bytes"));
            // MS-FSCC 2.4.26: only these bits, and not both synchronous modes.
            const ALLOWED: u32 = 0x0000_0002 | 0x0000_0004 | 0x0000_0008 | 0x0000_0010 | 0x0000_0020 | 0x0000_1000;
            if mode & !ALLOWED != 0 || mode & 0x30 == 0x30 {
                return Err(NtStatus::INVALID_PARAMETER);
            }
            open.mode = (open.mode & 0x1000) | (mode & !0x1000);
        }
        file_class::END_OF_FILE | file_class::ALLOCATION => {
            needs(granted, access::FILE_WRITE_DATA)?;
            let value = u64::from_le_bytes(buffer[..8].try_into().expect("8 bytes"));
            if value > i64::MAX as u64 {
                return Err(NtStatus::INVALID_PARAMETER);
            }
            let OpenKind::File(file) = &open.kind else { return Err(NtStatus::INVALID_PARAMETER) };
            let size = file.metadata().map_err(|e| status_of(&e))?.len();
            if request.file_info_class == file_class::END_OF_FILE {
                file.set_len(value).map_err(|e| status_of(&e))?;
            } else {
                // MS-FSA 2.1.5.14.1: a smaller allocation cuts the file and frees what lies
                // beyond; a larger one reserves space, the size staying.
                if value < size {
                    file.set_len(value).map_err(|e| status_of(&e))?;
                }
                let allocated = local::meta_of(file.as_fd())?.allocation_size;
                if value < allocated {
                    let from = value.div_ceil(4096) * 4096;
                    if allocated > from {
                        let flags = rustix::fs::FallocateFlags::PUNCH_HOLE | rustix::fs::FallocateFlags::KEEP_SIZE;
                        let _ = rustix::fs::fallocate(file, flags, from, allocated - from);
                    }
                } else if value > allocated {
                    let _ = rustix::fs::fallocate(file, rustix::fs::FallocateFlags::KEEP_SIZE, 0, value);
                }
            }
            crate::engine::handlers::written(open);
            if let Some(key) = open.key {
                let owner = conn.open_ref(req.session_id(), req.file_id.map_or(0, |f| f.volatile));
                crate::engine::handlers::break_readers(&conn.shared, &key, owner, conn.now);
            }
            notify(conn, req, &share.config.name, filter::SIZE | filter::LAST_WRITE);
        }
        file_class::DISPOSITION | file_class::DISPOSITION_EX => {
            let flags = if request.file_info_class == file_class::DISPOSITION {
                if buffer[0] != 0 { disposition_ex::DELETE } else { 0 }
            } else {
                u32::from_le_bytes(buffer[..4].try_into().expect("4 bytes"))
            };
            set_disposition(conn, req, flags)?;
        }
        file_class::RENAME => {
            needs(granted, access::DELETE)?;
            let info = RenameInformation::decode(buffer).map_err(|_| NtStatus::INVALID_PARAMETER)?;
            rename(conn, req, &info)?;
        }
        file_class::LINK => {
            let info = RenameInformation::decode(buffer).map_err(|_| NtStatus::INVALID_PARAMETER)?;
            link(conn, req, &info)?;
        }
        file_class::FULL_EA => {
            needs(granted, access::FILE_WRITE_EA)?;
            let eas = FullEa::decode_all(buffer).map_err(|_| NtStatus::EA_LIST_INCONSISTENT)?;
            if eas.iter().any(|ea| !valid_ea_name(&ea.name)) {
                return Err(NtStatus::INVALID_EA_NAME);
            }
            let file = open.file().ok_or(NtStatus::INVALID_PARAMETER)?;
            for ea in &eas {
                local::write_ea(file.as_fd(), ea)?;
            }
            notify(conn, req, &share.config.name, filter::EA);
        }
        _ => return Err(NtStatus::INVALID_INFO_CLASS),
    }
    Ok(())
}

fn notify(conn: &Connection, req: &Request<'_>, share: &str, change_filter: u32) {
    let Some(path) =
        req.file_id.and_then(|f| conn.sessions.get(&req.session_id())?.opens.get(&f.volatile)).map(|o| o.path.clone())
    else {
        return;
    };
    conn.shared.changed(Change { share, path: &path, action: action::MODIFIED, filter: change_filter });
}

/// MS-FSA 2.1.5.14.2 FileBasicInformation: 0 keeps a time, -1 freezes it, -2 unfreezes it.
fn set_basic(conn: &mut Connection, req: &Request<'_>, info: &BasicInformation) -> Result<(), NtStatus> {
    let open = open_of(conn, req)?;
    let is_directory = open.is_directory();
    if info.attributes & attributes::DIRECTORY != 0 && !is_directory {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if info.attributes & attributes::TEMPORARY != 0 && is_directory {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    for time in [info.creation_time, info.last_access_time, info.last_write_time, info.change_time] {
        if time < -2 {
            return Err(NtStatus::INVALID_PARAMETER);
        }
    }
    let file = open.file().ok_or(NtStatus::INVALID_PARAMETER)?.try_clone().map_err(|e| status_of(&e))?;
    let meta = local::meta_of(file.as_fd())?;
    let time = |value: i64| (value > 0).then_some(value as u64);
    use crate::engine::session::WriteTime;
    match info.last_write_time {
        -1 => open.write_time = WriteTime::Fixed(meta.last_write_time),
        -2 => open.write_time = WriteTime::Automatic,
        value if value > 0 => open.write_time = WriteTime::Fixed(value as u64),
        _ => {}
    }
    let access_time = time(info.last_access_time);
    let write_time = time(info.last_write_time);
    if access_time.is_some() || write_time.is_some() {
        local::set_times(file.as_fd(), access_time, write_time)?;
    }
    let creation = time(info.creation_time).unwrap_or(meta.creation_time);
    // SetInfo cannot make a file sparse (FSCTL_SET_SPARSE does), nor take that away.
    let sparse = meta.attributes & attributes::SPARSE_FILE;
    let new_attributes = if info.attributes == 0 {
        meta.attributes
    } else if info.attributes == attributes::NORMAL {
        sparse
    } else {
        (info.attributes & attributes::SETTABLE) | sparse
    };
    if info.attributes != 0 || info.creation_time > 0 {
        local::write_dos(file.as_fd(), new_attributes, creation).map_err(|e| status_of(&e))?;
    }
    if info.change_time > 0 {
        local::set_change_time(file.as_fd(), info.change_time as u64)?;
    }
    Ok(())
}

fn set_disposition(conn: &mut Connection, req: &Request<'_>, flags: u32) -> Result<(), NtStatus> {
    let open = open_of(conn, req)?;
    needs(open.granted_access, access::DELETE)?;
    let key = open.key.ok_or(NtStatus::INVALID_PARAMETER)?;
    let delete = flags & disposition_ex::DELETE != 0;
    if delete {
        let meta = local::meta_of(open.file().ok_or(NtStatus::INVALID_PARAMETER)?.as_fd())?;
        if meta.attributes & attributes::READONLY != 0 && flags & disposition_ex::IGNORE_READONLY_ATTRIBUTE == 0 {
            return Err(NtStatus::CANNOT_DELETE);
        }
        if meta.is_directory {
            let share = share_of(conn, req).ok_or(NtStatus::INVALID_PARAMETER)?;
            let path = lock(&conn.shared.files).get(&key).map(|s| s.path.clone()).ok_or(NtStatus::FILE_CLOSED)?;
            if path.is_root() {
                return Err(NtStatus::CANNOT_DELETE);
            }
            let root = share.root.as_ref().map_err(|_| NtStatus::BAD_NETWORK_NAME)?;
            if !root.names(&path)?.is_empty() {
                return Err(NtStatus::DIRECTORY_NOT_EMPTY);
            }
        }
    }
    if flags & disposition_ex::ON_CLOSE != 0 {
        open_of(conn, req)?.delete_on_close = delete;
        return Ok(());
    }
    if let Some(state) = lock(&conn.shared.files).get_mut(&key) {
        state.delete_pending = delete;
    }
    if !delete {
        // Clearing the disposition also clears a delete-on-close this open asked for.
        open_of(conn, req)?.delete_on_close = false;
    }
    Ok(())
}

/// The target of a rename or link: a path from the share root (MS-SMB2 2.2.39: RootDirectory 0).
fn target(info: &RenameInformation) -> Result<SharePath, NtStatus> {
    if info.root_directory != 0 {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    let name = info.name.strip_prefix('\\').unwrap_or(&info.name);
    let path = SharePath::parse(name)?;
    if path.is_root() {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    Ok(path)
}

fn rename(conn: &mut Connection, req: &Request<'_>, info: &RenameInformation) -> Result<(), NtStatus> {
    let share = share_of(conn, req).ok_or(NtStatus::INVALID_PARAMETER)?;
    let root = share.root.as_ref().map_err(|_| NtStatus::BAD_NETWORK_NAME)?;
    let open = open_of(conn, req)?;
    let key = open.key.ok_or(NtStatus::INVALID_PARAMETER)?;
    let is_directory = open.is_directory();
    let from = lock(&conn.shared.files).get(&key).map(|s| s.path.clone()).ok_or(NtStatus::FILE_CLOSED)?;
    if from.is_root() {
        return Err(NtStatus::ACCESS_DENIED);
    }
    let requested = target(info)?;
    let parent = root.resolve(&requested.parent().expect("not root"))?.ok_or(NtStatus::OBJECT_PATH_NOT_FOUND)?;
    if !parent.meta.is_directory {
        return Err(NtStatus::OBJECT_PATH_NOT_FOUND);
    }
    let to = parent.path.join(requested.file_name().expect("not root"));
    if to.starts_with(&from) && to.components().len() > from.components().len() {
        // A directory into itself.
        return Err(NtStatus::INVALID_PARAMETER);
    }
    let same_file =
        to.components().iter().map(|c| c.to_lowercase()).eq(from.components().iter().map(|c| c.to_lowercase()));
    let existing = if same_file { None } else { root.resolve(&to)? };
    let mut replace = false;
    if let Some(existing) = &existing {
        if !info.replace_if_exists {
            return Err(NtStatus::OBJECT_NAME_COLLISION);
        }
        if existing.meta.is_directory {
            return Err(NtStatus::ACCESS_DENIED);
        }
        // A target someone has open cannot be replaced (MS-FSA 2.1.5.14.11).
        let target_file = root.open_path(&existing.path)?;
        let target_key = local::identity(target_file.as_fd())?;
        if lock(&conn.shared.files).get(&target_key).is_some() {
            return Err(NtStatus::ACCESS_DENIED);
        }
        replace = true;
    }
    if is_directory && lock(&conn.shared.files).open_below(&share.config.name, &from) {
        return Err(NtStatus::ACCESS_DENIED);
    }
    // Renaming removes a name from the parent directory: others' opens of that directory must
    // share delete and not hold delete access themselves (as if the rename opened the parent for
    // DELETE, sharing read and write).
    if let Some(parent) = from.parent() {
        let parent_key = local::identity(root.open_path(&parent)?.as_fd())?;
        lock(&conn.shared.files).check_sharing(
            &parent_key,
            access::DELETE,
            share_access::READ | share_access::WRITE,
        )?;
    }
    root.rename(&from, &to, replace || same_file)?;
    lock(&conn.shared.files).renamed(&share.config.name, &from, &to);
    if let Some(open) =
        conn.sessions.get_mut(&req.session_id()).and_then(|s| s.opens.get_mut(&req.file_id.expect("file").volatile))
    {
        open.path = to.clone();
    }
    let change_filter = if is_directory { filter::DIR_NAME } else { filter::FILE_NAME };
    if from.parent() == to.parent() {
        conn.shared.changed(Change {
            share: &share.config.name,
            path: &from,
            action: action::RENAMED_OLD_NAME,
            filter: change_filter,
        });
        conn.shared.changed(Change {
            share: &share.config.name,
            path: &to,
            action: action::RENAMED_NEW_NAME,
            filter: change_filter,
        });
    } else {
        conn.shared.changed(Change {
            share: &share.config.name,
            path: &from,
            action: action::REMOVED,
            filter: change_filter,
        });
        conn.shared.changed(Change {
            share: &share.config.name,
            path: &to,
            action: action::ADDED,
            filter: change_filter,
        });
    }
    Ok(())
}

fn link(conn: &mut Connection, req: &Request<'_>, info: &RenameInformation) -> Result<(), NtStatus> {
    let share = share_of(conn, req).ok_or(NtStatus::INVALID_PARAMETER)?;
    let root = share.root.as_ref().map_err(|_| NtStatus::BAD_NETWORK_NAME)?;
    let open = open_of(conn, req)?;
    if open.is_directory() {
        return Err(NtStatus::FILE_IS_A_DIRECTORY);
    }
    let key = open.key.ok_or(NtStatus::INVALID_PARAMETER)?;
    let from = lock(&conn.shared.files).get(&key).map(|s| s.path.clone()).ok_or(NtStatus::FILE_CLOSED)?;
    let requested = target(info)?;
    let parent = root.resolve(&requested.parent().expect("not root"))?.ok_or(NtStatus::OBJECT_PATH_NOT_FOUND)?;
    let to = parent.path.join(requested.file_name().expect("not root"));
    if let Some(existing) = root.resolve(&to)? {
        if !info.replace_if_exists || existing.meta.is_directory {
            return Err(NtStatus::OBJECT_NAME_COLLISION);
        }
        root.remove(&existing.path, false)?;
    }
    root.link(&from, &to)?;
    conn.shared.changed(Change {
        share: &share.config.name,
        path: &to,
        action: action::ADDED,
        filter: filter::FILE_NAME,
    });
    Ok(())
}

/// MS-SMB2 3.3.5.21.3, and a choice: shares keep no file ACLs. Access is decided by the share's
/// permissions; the volume does not state FILE_PERSISTENT_ACLS (so Windows shows no Security
/// tab), and a request to change a file's owner, group, DACL or SACL is refused with
/// STATUS_NOT_SUPPORTED once the handle's rights and the descriptor are checked, instead of being
/// stored and then not enforced.
fn set_security(conn: &mut Connection, req: &Request<'_>, request: &SetInfoRequest) -> Result<(), NtStatus> {
    let open = open_of(conn, req)?;
    let information = request.additional_information;
    if information & (security_information::OWNER | security_information::GROUP) != 0 {
        needs(open.granted_access, access::WRITE_OWNER)?;
    }
    if information & security_information::DACL != 0 {
        needs(open.granted_access, access::WRITE_DAC)?;
    }
    if information & security_information::SACL != 0 {
        needs(open.granted_access, access::ACCESS_SYSTEM_SECURITY)?;
    }
    SecurityDescriptor::decode(&request.buffer).map_err(|_| NtStatus::INVALID_SECURITY_DESCR)?;
    Err(NtStatus::NOT_SUPPORTED)
}
