//! CREATE (MS-SMB2 3.3.5.9, with MS-FSA 2.1.5.1's open rules): dispositions, options, access
//! and share-permission checks, sharing, delete-on-close, create contexts; pipes on IPC$.

use crate::proto::fscc::{FullEa, valid_ea_name};
use std::os::fd::AsFd;

use crate::engine::connection::{Connection, Output, PendingKind};
use crate::engine::dispatch::{Done, Error, Outcome, Request};
use crate::engine::durable;
use crate::engine::files::{FileKey, SharedOpen, access};
use crate::engine::ids::{AsyncId, Waiter};
use crate::engine::leases::{self, Caching, Intent, LeaseId, oplock_level};
use crate::engine::notify::Change;
use crate::engine::session::{Enumeration, Open, OpenKind, TreeKind};
use crate::engine::shared::{Refusal, lock};
use crate::proto::change_notify::{action, filter};
use crate::proto::create::{
    CreateContext, CreateRequest, CreateResponse, DurableContext, IMPERSONATION_DELEGATE, LeaseContext,
    app_instance_id, context_name, create_action, disposition, lease_flags, maximal_access_response,
    on_disk_id_response, options,
};
use crate::proto::fscc::{FileMeta, attributes};
use crate::proto::header::{Command, HEADER_SIZE, Header};
use crate::proto::negotiate::Dialect;
use crate::proto::{FileId, NtStatus, Writer};
use crate::vfs::local::{self, write_dos};
use crate::vfs::{OpenMode, SharePath, ShareRoot};

/// Option bits no client may send (MS-SMB2 2.2.13: reserved).
const INVALID_OPTIONS: u32 = 0xFF00_0000;
/// Options Windows does not support over SMB2: FILE_CREATE_TREE_CONNECTION, opening by file id,
/// and FILE_RESERVE_OPFILTER.
const UNSUPPORTED_OPTIONS: u32 = 0x0000_0080 | options::OPEN_BY_FILE_ID | options::RESERVE_OPFILTER;
/// Attributes a CREATE may carry (MS-FSCC 2.6; not VOLUME, DEVICE or INTEGRITY_STREAM).
const VALID_ATTRIBUTES: u32 = 0x0000_7FB7;
/// Access bits reserved by MS-DTYP 2.4.3 (and the two unused high bits).
const RESERVED_ACCESS: u32 = 0x0CE0_FE00;

pub(crate) fn handle(conn: &mut Connection, req: &Request<'_>, out: &mut Writer) -> Result<Outcome, Error> {
    // The budget: opens per session, and in the whole server (which also keeps descriptors for
    // the console and the database).
    let per_session = conn.shared.runtime().config.server.limits.max_opens_per_session as usize;
    let session_opens = conn.sessions.get(&req.session_id()).map_or(0, |s| s.opens.len());
    if session_opens >= per_session || !conn.shared.may_open() {
        conn.shared.refuse(Refusal::Opens);
        return Err(NtStatus::TOO_MANY_OPENED_FILES.into());
    }
    match open_or_create(conn, req, out) {
        // Another client created the name between our lookup and our creation: a disposition
        // that also opens existing files opens it now (as one atomic step would have). Also when
        // a durable open waiting for its client was closed for this CREATE and deleted the file.
        Err(error) if error.status == NtStatus::OBJECT_NAME_COLLISION && opens_existing(req.message) => {
            open_or_create(conn, req, out)
        }
        other => other,
    }
}

fn opens_existing(message: &[u8]) -> bool {
    CreateRequest::decode(message).is_ok_and(|r| r.create_disposition != disposition::CREATE)
}

fn open_or_create(conn: &mut Connection, req: &Request<'_>, out: &mut Writer) -> Result<Outcome, Error> {
    let request = CreateRequest::decode(req.message)?;
    let session_id = req.session_id();
    let tree = &conn.sessions[&session_id].trees[&req.tree_id()];
    let durable_context = match tree.kind {
        TreeKind::Disk(_) => DurableContext::of(&request)?,
        TreeKind::Ipc => None,
    };
    // A reconnect names an open that exists: the request's other fields mean nothing
    // (MS-SMB2 3.3.5.9.7 skips the checks of a new open).
    if let (
        Some(context @ (DurableContext::Reconnect { .. } | DurableContext::ReconnectV2 { .. })),
        TreeKind::Disk(share),
    ) = (durable_context, &tree.kind)
    {
        let share = share.clone();
        return durable::reconnect(conn, req, &request, context, &share, out);
    }
    validate(&request)?;
    let share = match &tree.kind {
        TreeKind::Ipc => return open_pipe(conn, req, &request, out),
        TreeKind::Disk(share) => share.clone(),
    };
    let root = share.root.as_ref().map_err(|_| NtStatus::BAD_NETWORK_NAME)?;
    let app_instance = app_instance_id(&request)?;
    if let Some(DurableContext::RequestV2 { create_guid, .. }) = durable_context
        && let Some(outcome) = durable::replay(conn, req, &request, create_guid, &share, out)?
    {
        return Ok(outcome);
    }
    if let (Some(DurableContext::RequestV2 { .. }), Some(app_instance)) = (durable_context, app_instance) {
        durable::close_app_instance(conn, app_instance);
    }
    // Permissions are read afresh: a change an administrator makes applies to the next open.
    let user = conn.sessions[&session_id].user().to_owned();
    let runtime = conn.shared.runtime();
    let share_access = match (runtime.share(&share.config.name), conn.sessions[&session_id].identity()) {
        (Some(share), Some(identity)) => runtime.access(&share.config, identity).mask(),
        _ => 0,
    };
    if request.context(context_name::TIMEWARP_TOKEN).is_some() {
        // No previous versions are kept.
        return Err(NtStatus::OBJECT_NAME_NOT_FOUND.into());
    }
    let eas = match request.context(context_name::EA_BUFFER) {
        Some(context) => {
            let eas = FullEa::decode_all(&context.data).map_err(|_| NtStatus::INVALID_PARAMETER)?;
            if eas.iter().any(|ea| !valid_ea_name(&ea.name)) {
                return Err(NtStatus::INVALID_EA_NAME.into());
            }
            eas
        }
        None => Vec::new(),
    };
    let caching = caching_request(conn, &request);
    let lease_id = match caching {
        leases::Request::Lease { id, .. } => Some(id),
        _ => None,
    };
    let volatile = conn.shared.next_volatile_id();
    let owner = conn.open_ref(req.session_id(), volatile);
    let path = SharePath::parse(&request.name)?;
    let found = root.resolve(&path)?;
    // A trailing separator names a directory only (MS-FSA 2.1.5.1: "file\" is not a file name).
    let trailing_separator = !path.is_root() && (request.name.ends_with('\\') || request.name.ends_with('/'));
    let is_directory =
        found.as_ref().map_or(request.create_options & options::DIRECTORY_FILE != 0, |f| f.meta.is_directory);
    if trailing_separator && !is_directory {
        return Err(NtStatus::OBJECT_NAME_INVALID.into());
    }
    let wants_directory = request.create_options & options::DIRECTORY_FILE != 0;
    let wants_file = request.create_options & options::NON_DIRECTORY_FILE != 0;
    let mut desired = access::map_generic(request.desired_access);
    if desired & access::ACCESS_SYSTEM_SECURITY != 0 {
        return Err(NtStatus::PRIVILEGE_NOT_HELD.into());
    }

    let (path, meta, action_taken, handle) = match found {
        Some(found) => {
            if request.create_disposition == disposition::CREATE {
                return Err(NtStatus::OBJECT_NAME_COLLISION.into());
            }
            if found.meta.is_directory && wants_file {
                return Err(NtStatus::FILE_IS_A_DIRECTORY.into());
            }
            if !found.meta.is_directory && wants_directory {
                return Err(NtStatus::NOT_A_DIRECTORY.into());
            }
            let overwrite = matches!(
                request.create_disposition,
                disposition::OVERWRITE | disposition::OVERWRITE_IF | disposition::SUPERSEDE
            );
            if overwrite && found.meta.is_directory {
                return Err(NtStatus::INVALID_PARAMETER.into());
            }
            let maximal = maximal_access(share_access, &found.meta);
            if desired & access::MAXIMUM_ALLOWED != 0 {
                desired = (desired & !access::MAXIMUM_ALLOWED) | maximal;
            }
            if desired & !maximal != 0 {
                return Err(NtStatus::ACCESS_DENIED.into());
            }
            if overwrite {
                if share_access & access::FILE_WRITE_DATA == 0 {
                    return Err(NtStatus::ACCESS_DENIED.into());
                }
                // Windows refuses to overwrite a hidden or system file unless asked to keep those bits.
                let kept = found.meta.attributes & (attributes::HIDDEN | attributes::SYSTEM);
                if kept & !request.file_attributes != 0 {
                    return Err(NtStatus::ACCESS_DENIED.into());
                }
                if found.meta.attributes & attributes::READONLY != 0 {
                    return Err(NtStatus::ACCESS_DENIED.into());
                }
            }
            if request.create_options & options::DELETE_ON_CLOSE != 0
                && found.meta.attributes & attributes::READONLY != 0
            {
                return Err(NtStatus::CANNOT_DELETE.into());
            }
            let mode = if found.meta.is_directory { OpenMode::Directory } else { data_mode(desired, overwrite) };
            let file = open_fallback(root, &found.path, mode)?;
            let key = local::identity(file.as_fd())?;
            if let Some(id) = &lease_id {
                lock(&conn.shared.files).leases.check_key(id, key)?;
            }
            // Other clients' caching gives way first: the open waits while they flush and close.
            let intent = Intent { owner, lease: lease_id, access: desired, share: request.share_access, overwrite };
            // Durable opens waiting for their client cannot acknowledge a break: those are closed,
            // and the breaks decided again without them.
            let wait = loop {
                let (breaks, wait) = lock(&conn.shared.files).break_for_open(&key, &intent, conn.now.instant);
                let (breaks, closed) = durable::close_unreachable(&conn.shared, breaks, conn.now);
                conn.shared.deliver_breaks(breaks);
                if !closed {
                    break wait;
                }
                if !matches!(root.resolve(&found.path), Ok(Some(_))) {
                    // The closed open deleted the file on close: the CREATE starts again (see
                    // `handle`) and finds no file.
                    return Err(NtStatus::OBJECT_NAME_COLLISION.into());
                }
            };
            if wait {
                return Ok(Outcome::Pending(PendingKind::Create { request: req.message.to_vec(), key, rest: None }));
            }
            lock(&conn.shared.files).check_sharing(&key, desired, request.share_access)?;
            let mut meta = found.meta;
            let action_taken = if overwrite {
                file.set_len(0).map_err(|e| local::status_of(&e))?;
                let attrs = (request.file_attributes & attributes::SETTABLE)
                    | attributes::ARCHIVE
                    | (meta.attributes & (attributes::HIDDEN | attributes::SYSTEM));
                let _ = write_dos(file.as_fd(), attrs, meta.creation_time);
                // Overwriting replaces the file's extended attributes with the request's.
                for old in local::read_eas(file.as_fd()) {
                    local::write_ea(file.as_fd(), &FullEa { value: Vec::new(), ..old })?;
                }
                for ea in &eas {
                    local::write_ea(file.as_fd(), ea)?;
                }
                preallocate(&file, &request);
                meta = local::meta_of(file.as_fd())?;
                conn.shared.changed(Change {
                    share: &share.config.name,
                    path: &found.path,
                    action: action::MODIFIED,
                    filter: filter::SIZE | filter::LAST_WRITE | filter::ATTRIBUTES,
                });
                if request.create_disposition == disposition::SUPERSEDE {
                    create_action::SUPERSEDED
                } else {
                    create_action::OVERWRITTEN
                }
            } else {
                create_action::OPENED
            };
            (found.path, meta, action_taken, (file, key))
        }
        None => {
            if matches!(request.create_disposition, disposition::OPEN | disposition::OVERWRITE) {
                return Err(NtStatus::OBJECT_NAME_NOT_FOUND.into());
            }
            if path.is_root() {
                return Err(NtStatus::ACCESS_DENIED.into());
            }
            let needed = if wants_directory { access::FILE_APPEND_DATA } else { access::FILE_WRITE_DATA };
            if share_access & needed == 0 {
                return Err(NtStatus::ACCESS_DENIED.into());
            }
            if wants_directory && !matches!(request.create_disposition, disposition::CREATE | disposition::OPEN_IF) {
                return Err(NtStatus::INVALID_PARAMETER.into());
            }
            if request.file_attributes & attributes::READONLY != 0
                && request.create_options & options::DELETE_ON_CLOSE != 0
            {
                return Err(NtStatus::CANNOT_DELETE.into());
            }
            // A new file cannot be the file a lease key already names.
            if let Some(id) = &lease_id
                && lock(&conn.shared.files).leases.get(id).is_some()
            {
                return Err(NtStatus::INVALID_PARAMETER.into());
            }
            // The parent's spelling on disk, and the new name as the client wrote it.
            let parent = root.resolve(&path.parent().expect("not root"))?.ok_or(NtStatus::OBJECT_PATH_NOT_FOUND)?;
            if !parent.meta.is_directory {
                return Err(NtStatus::OBJECT_PATH_NOT_FOUND.into());
            }
            let new_path = parent.path.join(path.file_name().expect("not root"));
            let maximal = share_access;
            if desired & access::MAXIMUM_ALLOWED != 0 {
                desired = (desired & !access::MAXIMUM_ALLOWED) | maximal;
            }
            if desired & !maximal != 0 {
                return Err(NtStatus::ACCESS_DENIED.into());
            }
            let file = if wants_directory {
                root.create_dir(&new_path)?;
                root.open_existing(&new_path, OpenMode::Directory)?
            } else {
                root.create_file(&new_path)?
            };
            let now = conn.now.filetime();
            let mut attrs = request.file_attributes & attributes::SETTABLE;
            if !wants_directory {
                attrs |= attributes::ARCHIVE;
            }
            let _ = write_dos(file.as_fd(), attrs, now);
            if let Some(size) = request
                .context(context_name::ALLOCATION_SIZE)
                .and_then(|c| c.data.get(..8))
                .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
                && size > 0
                && !wants_directory
            {
                let _ = rustix::fs::fallocate(&file, rustix::fs::FallocateFlags::KEEP_SIZE, 0, size);
            }
            // A security descriptor in the request (SD_BUFFER) is not kept: shares keep no file
            // ACLs (see `set_info::set_security`), as a volume without persistent ACLs.
            for ea in &eas {
                local::write_ea(file.as_fd(), ea)?;
            }
            let key = local::identity(file.as_fd())?;
            let meta = local::meta_of(file.as_fd())?;
            let change_filter = if wants_directory { filter::DIR_NAME } else { filter::FILE_NAME };
            conn.shared.changed(Change {
                share: &share.config.name,
                path: &new_path,
                action: action::ADDED,
                filter: change_filter,
            });
            (new_path, meta, create_action::CREATED, (file, key))
        }
    };
    let (file, key) = handle;
    let mut delete_on_close = false;
    if request.create_options & options::DELETE_ON_CLOSE != 0 {
        if desired & access::DELETE == 0 {
            return Err(NtStatus::ACCESS_DENIED.into());
        }
        delete_on_close = true;
    }
    let file_id = FileId { persistent: volatile, volatile };
    let shared_open = SharedOpen {
        owner,
        access: desired,
        share: request.share_access,
        session_id,
        user: user.clone(),
        is_directory: meta.is_directory,
        caching: Caching::None,
    };
    let grant = {
        let mut files = lock(&conn.shared.files);
        files.add(key, &share.config.name, &path, shared_open);
        files.grant(&key, owner, caching, meta.is_directory)
    };

    let mut contexts = Vec::new();
    if let Some(lease) = grant.lease {
        let flags = if lease.break_in_progress { lease_flags::BREAK_IN_PROGRESS } else { 0 }
            | if lease.parent.is_some() { lease_flags::PARENT_LEASE_KEY_SET } else { 0 };
        let context = LeaseContext {
            key: lease.key,
            state: lease.state,
            flags,
            parent_key: lease.parent,
            epoch: lease.epoch,
            v2: lease.version >= 2,
        };
        contexts.push(CreateContext::new(context_name::REQUEST_LEASE, context.encode()));
    }
    let durable = durable::terms_for(conn, durable_context, &grant, app_instance, &share).map(|(terms, response)| {
        contexts.push(response);
        terms
    });
    if request.context(context_name::QUERY_MAXIMAL_ACCESS).is_some() {
        contexts.push(maximal_access_response(0, maximal_access(share_access, &meta)));
    }
    if request.context(context_name::QUERY_ON_DISK_ID).is_some() {
        contexts.push(on_disk_id_response(meta.file_id, key.device));
    }
    let response = CreateResponse::of(&meta, grant.oplock_level, action_taken, file_id, contexts);
    response.encode(out);
    let replayable =
        durable::register(conn, durable_context, durable, app_instance, &user, &share, session_id, &response);
    let kind = if meta.is_directory {
        OpenKind::Directory { handle: file, enumeration: Enumeration::default() }
    } else {
        OpenKind::File(file)
    };
    let open = Open {
        file_id,
        tree_id: req.tree_id(),
        kind,
        key: Some(key),
        granted_access: desired,
        delete_on_close,
        position: 0,
        mode: request.create_options
            & (options::WRITE_THROUGH
                | options::SEQUENTIAL_ONLY
                | options::NO_INTERMEDIATE_BUFFERING
                | options::SYNCHRONOUS_IO_ALERT
                | options::SYNCHRONOUS_IO_NONALERT
                | options::DELETE_ON_CLOSE),
        path,
        write_time: Default::default(),
        durable,
        replayable,
        channel_sequence: req.header.channel_sequence(),
        lock_sequences: [crate::engine::session::NO_LOCK_SEQUENCE; 64],
    };
    // A persistent open is in the journal before its client hears of it; one that cannot be
    // written there is not granted.
    if let Err(error) = conn.shared.journal_open(&open, owner, (&user, conn.info.client), &share.config.name) {
        tracing::error!(%error, path = %open.path.to_windows(), "cannot write a persistent open to the journal");
        conn.shared.opened();
        crate::engine::handlers::close::release(&conn.shared, Some(&share), open, owner, conn.now);
        return Err(NtStatus::INSUFFICIENT_RESOURCES.into());
    }
    conn.sessions.get_mut(&session_id).expect("checked").opens.insert(volatile, open);
    conn.shared.opened();
    Ok(Outcome::Done(Done { new_file: Some(file_id), ..Done::default() }))
}

/// The caching a CREATE asks for: a lease (SMB 2.1 and later, version 2 from SMB 3 on) or an
/// oplock. A lease request without a valid lease context asks for nothing (MS-SMB2 3.3.5.9.8).
fn caching_request(conn: &Connection, request: &CreateRequest) -> leases::Request {
    let Some(negotiated) = conn.negotiated.as_ref() else { return leases::Request::None };
    match request.requested_oplock_level {
        oplock_level::LEASE if negotiated.dialect >= Dialect::SMB2_1 => {
            let Some(context) = request.context(context_name::REQUEST_LEASE) else { return leases::Request::None };
            let Ok(lease) = LeaseContext::decode(&context.data) else { return leases::Request::None };
            let v2 = lease.v2 && negotiated.dialect.is_smb3();
            leases::Request::Lease {
                id: LeaseId { client_guid: negotiated.client_guid, key: lease.key },
                state: lease.state,
                version: if v2 { 2 } else { 1 },
                parent: if v2 { lease.parent_key } else { None },
                epoch: if v2 { lease.epoch } else { 0 },
            }
        }
        level @ (oplock_level::II | oplock_level::EXCLUSIVE | oplock_level::BATCH) => leases::Request::Oplock(level),
        _ => leases::Request::None,
    }
}

/// A CREATE waiting for breaks: it is told when they end, and at the latest when they time out.
pub(crate) fn register(conn: &mut Connection, async_id: AsyncId) {
    let Some(pending) = conn.pending.get(&async_id) else { return };
    let PendingKind::Create { key, ref request, .. } = pending.kind else { return };
    // A reconnect waiting for another connection to let go of its open.
    if let Some(persistent) = reclaiming(request) {
        let until = lock(&conn.shared.durable).claim(persistent, Waiter { connection: conn.info.id, async_id });
        match until {
            Some(until) => conn.wake_at(async_id, until),
            None => {
                conn.shared.control(conn.info.id, crate::engine::shared::Control::Wake { async_id });
            }
        }
        return;
    }
    let (waiting, deadline) = {
        let mut files = lock(&conn.shared.files);
        (files.add_break_waiter(&key, Waiter { connection: conn.info.id, async_id }), files.break_deadline(&key))
    };
    match (waiting, deadline) {
        (true, Some(deadline)) => conn.wake_at(async_id, deadline),
        // Nothing to wait for any more: go on at once.
        _ => {
            conn.shared.control(conn.info.id, crate::engine::shared::Control::Wake { async_id });
        }
    }
}

/// The persistent id a waiting CREATE reclaims, if it is a reconnect.
fn reclaiming(request: &[u8]) -> Option<u64> {
    match DurableContext::of(&CreateRequest::decode(request).ok()?).ok()? {
        Some(DurableContext::Reconnect { file_id } | DurableContext::ReconnectV2 { file_id, .. }) => {
            Some(file_id.persistent)
        }
        _ => None,
    }
}

/// Runs a waiting CREATE again; completes it unless it must go on waiting. The rest of its
/// chain, if any, follows it.
pub(crate) fn retry(conn: &mut Connection, async_id: AsyncId) -> Option<Output> {
    let pending = conn.pending.get_mut(&async_id)?;
    let PendingKind::Create { request, key, rest } = &mut pending.kind else { return None };
    let (message, key, rest) = (request.clone(), *key, rest.take());
    // The request as it came (its flags and ChannelSequence count: a replay stays one).
    let original = Header::decode(&mut crate::proto::Reader::new(&message)).unwrap_or_default();
    let header = Header {
        command: Command::CREATE,
        flags: original.flags,
        status: original.status,
        message_id: pending.message_id,
        session_id: pending.session_id.0,
        tree_id: pending.tree_id.0,
        ..Header::default()
    };
    let (encrypted, session_id, tree_id) = (pending.encrypted, pending.session_id, pending.tree_id);
    lock(&conn.shared.files).remove_break_waiter(&key, Waiter { connection: conn.info.id, async_id });
    let still_there = conn.sessions.get(&session_id).is_some_and(|s| s.trees.contains_key(&tree_id));
    // The handler writes its body after a header's room, as in the pipeline (offsets count from it).
    let mut body = Writer::new();
    body.zeros(HEADER_SIZE);
    let result = if still_there {
        let req = Request { header: &header, message: &message, file_id: None, encrypted };
        handle(conn, &req, &mut body)
    } else {
        Err(NtStatus::NETWORK_NAME_DELETED.into())
    };
    let (status, opened, error) = match result {
        Ok(Outcome::Pending(_)) => {
            if let Some(PendingKind::Create { rest: slot, .. }) = conn.pending.get_mut(&async_id).map(|p| &mut p.kind) {
                *slot = rest;
            }
            register(conn, async_id);
            return None;
        }
        Ok(Outcome::Done(done)) => (Ok(done.status), done.new_file, None),
        Ok(Outcome::NoResponse) => (Ok(NtStatus::SUCCESS), None, None),
        Err(error) => {
            let status = error.status;
            (Err(error), None, Some(status))
        }
    };
    let mut output = conn.complete(async_id, status, |out| {
        out.bytes(&body.as_slice()[HEADER_SIZE..]);
    });
    if let Some(rest) = rest {
        conn.continue_chain(*rest, opened, error, &mut output);
    }
    output.close = conn.close;
    Some(output)
}

/// Forgets a waiting CREATE (cancelled, or its connection ends).
pub(crate) fn forget(conn: &Connection, key: &FileKey, async_id: AsyncId) {
    lock(&conn.shared.files).remove_break_waiter(key, Waiter { connection: conn.info.id, async_id });
}

/// MS-SMB2 3.3.5.9's request checks, before anything is looked up, in the order Windows makes
/// them (smbtorture's create.gentest pins it down).
fn validate(request: &CreateRequest) -> Result<(), NtStatus> {
    if request.impersonation_level > IMPERSONATION_DELEGATE {
        return Err(NtStatus::BAD_IMPERSONATION_LEVEL);
    }
    if request.create_options & INVALID_OPTIONS != 0 {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if request.create_options & UNSUPPORTED_OPTIONS != 0 {
        return Err(NtStatus::NOT_SUPPORTED);
    }
    if request.desired_access & RESERVED_ACCESS != 0 {
        return Err(NtStatus::ACCESS_DENIED);
    }
    if request.create_disposition > disposition::OVERWRITE_IF {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if request.create_options & options::DIRECTORY_FILE != 0
        && request.create_options & options::NON_DIRECTORY_FILE != 0
    {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if request.file_attributes & !VALID_ATTRIBUTES != 0 {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if !matches!(request.requested_oplock_level, 0 | 1 | 8 | 9 | 0xFF) {
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if request.contexts.iter().any(|c| c.name.len() < 4) {
        // Context names are four characters or longer (MS-SMB2 2.2.13.2).
        return Err(NtStatus::INVALID_PARAMETER);
    }
    if request.desired_access == 0 {
        return Err(NtStatus::ACCESS_DENIED);
    }
    Ok(())
}

/// The most a user may do with this file: the share permission, less writing a read-only file.
pub(crate) fn maximal_access(share_access: u32, meta: &FileMeta) -> u32 {
    if meta.attributes & attributes::READONLY != 0 && !meta.is_directory {
        share_access & !(access::FILE_WRITE_DATA | access::FILE_APPEND_DATA)
    } else {
        share_access
    }
}

pub(crate) fn data_mode(granted: u32, overwrite: bool) -> OpenMode {
    OpenMode::File {
        read: true,
        write: overwrite || granted & (access::FILE_WRITE_DATA | access::FILE_APPEND_DATA) != 0,
    }
}

/// Opens for data; a file the server itself cannot read is still opened for metadata.
pub(crate) fn open_fallback(root: &ShareRoot, path: &SharePath, mode: OpenMode) -> Result<std::fs::File, NtStatus> {
    match root.open_existing(path, mode) {
        Err(NtStatus::ACCESS_DENIED) if matches!(mode, OpenMode::File { write: false, .. }) => root.open_path(path),
        other => other,
    }
}

/// SMB2_CREATE_ALLOCATION_SIZE (MS-SMB2 2.2.13.2.4): reserve the space, the size stays.
fn preallocate(file: &std::fs::File, request: &CreateRequest) {
    let size = request
        .context(context_name::ALLOCATION_SIZE)
        .and_then(|c| c.data.get(..8))
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
    if let Some(size) = size.filter(|s| *s > 0) {
        let _ = rustix::fs::fallocate(file, rustix::fs::FallocateFlags::KEEP_SIZE, 0, size);
    }
}

/// IPC$: named pipes of the RPC services EdgeShare offers.
fn open_pipe(
    conn: &mut Connection,
    req: &Request<'_>,
    request: &CreateRequest,
    out: &mut Writer,
) -> Result<Outcome, Error> {
    let name = request.name.trim_start_matches('\\');
    let Some(pipe) = crate::rpc::Pipe::open(name) else {
        return Err(NtStatus::OBJECT_NAME_NOT_FOUND.into());
    };
    let volatile = conn.shared.next_volatile_id();
    let file_id = FileId { persistent: volatile, volatile };
    CreateResponse {
        create_action: create_action::OPENED,
        allocation_size: 4096,
        file_attributes: attributes::NORMAL,
        file_id,
        ..CreateResponse::default()
    }
    .encode(out);
    let open = Open {
        file_id,
        tree_id: req.tree_id(),
        kind: OpenKind::Pipe(Box::new(pipe)),
        key: None,
        granted_access: access::map_generic(request.desired_access),
        delete_on_close: false,
        position: 0,
        mode: 0,
        path: SharePath::root(),
        write_time: Default::default(),
        durable: None,
        replayable: false,
        channel_sequence: req.header.channel_sequence(),
        lock_sequences: [crate::engine::session::NO_LOCK_SEQUENCE; 64],
    };
    conn.sessions.get_mut(&req.session_id()).expect("checked").opens.insert(volatile, open);
    conn.shared.opened();
    Ok(Outcome::Done(Done { new_file: Some(file_id), ..Done::default() }))
}
