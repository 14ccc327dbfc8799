//! The one table of what each command needs (after Samba's `smbd_smb2_table`): a session, a
//! tree connect, an open. [`super::connection`] enforces it before any handler runs, so
//! handlers never repeat these checks.

use crate::engine::connection::{Connection, PendingKind};
use crate::engine::handlers;
use crate::engine::ids::{SessionId, TreeId};
use crate::proto::header::{Command, HEADER_SIZE, Header};
use crate::proto::{DecodeError, FileId, NtStatus, Reader, Writer};

/// A request as a handler sees it: checked by the table, related ids substituted.
pub(crate) struct Request<'a> {
    pub header: &'a Header,
    /// The whole message, from its SMB2 header (offsets in bodies count from there).
    pub message: &'a [u8],
    /// The open the request names (related `FileId`s already resolved), when the table asks.
    pub file_id: Option<FileId>,
    pub encrypted: bool,
}

impl Request<'_> {
    /// The session the request's header names (zero for none).
    pub(crate) fn session_id(&self) -> SessionId {
        SessionId(self.header.session_id)
    }

    /// The tree connect the request's header names.
    pub(crate) fn tree_id(&self) -> TreeId {
        TreeId(self.header.tree_id)
    }
}

/// A failure: the status, and the error data a few statuses carry (MS-SMB2 2.2.2).
#[derive(Debug, PartialEq, Eq)]
pub struct Error {
    pub status: NtStatus,
    pub data: Vec<u8>,
}

impl From<NtStatus> for Error {
    fn from(status: NtStatus) -> Self {
        Error { status, data: Vec::new() }
    }
}

impl From<DecodeError> for Error {
    fn from(error: DecodeError) -> Self {
        tracing::debug!(%error, "malformed request");
        Error { status: NtStatus::INVALID_PARAMETER, data: Vec::new() }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Done {
    /// SUCCESS, or a warning/informational status that still carries a body.
    pub status: NtStatus,
    /// The session id the response carries, when it differs from the request's (a new session).
    pub session_id: Option<SessionId>,
    /// The tree id the response carries (TREE_CONNECT).
    pub tree_id: Option<TreeId>,
    /// An open that later related requests in the chain refer to (CREATE).
    pub new_file: Option<FileId>,
    /// The preauthentication hash the final response bytes extend (3.1.1 NEGOTIATE and
    /// SESSION_SETUP legs, MS-SMB2 3.3.5.4 / 3.3.5.5).
    pub preauth: Option<Preauth>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Preauth {
    Connection,
    Session(SessionId),
}

pub(crate) enum Outcome {
    Done(Done),
    /// Goes async: an interim STATUS_PENDING now, the real response later.
    Pending(PendingKind),
    NoResponse,
}

impl Outcome {
    pub(crate) fn ok() -> Result<Outcome, Error> {
        Ok(Outcome::Done(Done::default()))
    }

    pub(crate) fn status(status: NtStatus) -> Result<Outcome, Error> {
        Ok(Outcome::Done(Done { status, ..Done::default() }))
    }
}

pub(crate) type Handler = fn(&mut Connection, &Request<'_>, &mut Writer) -> Result<Outcome, Error>;

/// Whether a command may answer STATUS_PENDING now and its real response later (MS-SMB2 3.3.4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Async {
    Never,
    /// Only as the last request of a compound (a lock wait, a change notification): in the middle
    /// of a chain it fails and the chain goes on, as Windows does (MS-SMB2 3.3.5.2.7).
    LastInChain,
    /// Anywhere in a compound: the rest of the chain waits for it (a CREATE waiting for a lease or
    /// oplock break).
    SplitsChain,
}

/// What a command needs before its handler runs, and where its request keeps its open.
pub(crate) struct Spec {
    /// The command this row is for: the row's index is its code (which a test checks).
    #[cfg_attr(not(test), expect(dead_code, reason = "the table's test reads it"))]
    pub command: Command,
    /// May come before NEGOTIATE has chosen a dialect (only NEGOTIATE itself).
    pub before_negotiate: bool,
    pub needs_session: bool,
    pub needs_tree: bool,
    /// Names an open, whose FileId sits this many bytes after the header.
    pub file_id_at: Option<usize>,
    pub goes_async: Async,
    pub handler: Handler,
}

impl Spec {
    pub(crate) fn needs_file(&self) -> bool {
        self.file_id_at.is_some()
    }
}

/// A row that needs nothing, for `..` in the table.
const NOTHING: Spec = Spec {
    command: Command::NEGOTIATE,
    before_negotiate: false,
    needs_session: false,
    needs_tree: false,
    file_id_at: None,
    goes_async: Async::Never,
    handler: handlers::cancel::unreachable,
};

/// Indexed by command code (MS-SMB2 2.2.1.2); FileId offsets from each request's section in
/// MS-SMB2 2.2.
static TABLE: [Spec; Command::COUNT] = [
    Spec { command: Command::NEGOTIATE, before_negotiate: true, handler: handlers::negotiate::handle, ..NOTHING },
    Spec { command: Command::SESSION_SETUP, handler: handlers::session_setup::handle, ..NOTHING },
    Spec { command: Command::LOGOFF, needs_session: true, handler: handlers::logoff::handle, ..NOTHING },
    Spec { command: Command::TREE_CONNECT, needs_session: true, handler: handlers::tree_connect::handle, ..NOTHING },
    Spec {
        command: Command::TREE_DISCONNECT,
        needs_session: true,
        needs_tree: true,
        handler: handlers::tree_disconnect::handle,
        ..NOTHING
    },
    Spec {
        command: Command::CREATE,
        needs_session: true,
        needs_tree: true,
        goes_async: Async::SplitsChain,
        handler: handlers::create::handle,
        ..NOTHING
    },
    open(Command::CLOSE, 8, handlers::close::handle),
    open(Command::FLUSH, 8, handlers::flush::handle),
    open(Command::READ, 16, handlers::read::handle),
    open(Command::WRITE, 16, handlers::write::handle),
    Spec { goes_async: Async::LastInChain, ..open(Command::LOCK, 8, handlers::lock::handle) },
    open(Command::IOCTL, 8, handlers::ioctl::handle),
    // CANCEL is answered by the request it cancels; the pipeline routes it before the table.
    Spec { command: Command::CANCEL, ..NOTHING },
    Spec { command: Command::ECHO, handler: handlers::echo::handle, ..NOTHING },
    open(Command::QUERY_DIRECTORY, 8, handlers::query_directory::handle),
    Spec { goes_async: Async::LastInChain, ..open(Command::CHANGE_NOTIFY, 8, handlers::change_notify::handle) },
    open(Command::QUERY_INFO, 24, handlers::query_info::handle),
    open(Command::SET_INFO, 16, handlers::set_info::handle),
    // An OPLOCK_BREAK acknowledgment names an open, or a lease key (checked by its handler).
    Spec {
        command: Command::OPLOCK_BREAK,
        needs_session: true,
        needs_tree: true,
        handler: handlers::oplock_break::handle,
        ..NOTHING
    },
];

/// A command on an open: it needs the session, the tree and the open its FileId names.
const fn open(command: Command, file_id_at: usize, handler: Handler) -> Spec {
    Spec {
        command,
        before_negotiate: false,
        needs_session: true,
        needs_tree: true,
        file_id_at: Some(file_id_at),
        goes_async: Async::Never,
        handler,
    }
}

pub(crate) fn spec(command: Command) -> Option<&'static Spec> {
    TABLE.get(usize::from(command.0))
}

/// The FileId a request for an open names, where its command's row says it is.
pub(crate) fn file_id_of(command: Command, message: &[u8]) -> Result<Option<FileId>, DecodeError> {
    let Some(offset) = spec(command).and_then(|spec| spec.file_id_at) else { return Ok(None) };
    let mut reader = Reader::new(message);
    reader.skip(HEADER_SIZE + offset, "request up to FileId")?;
    Ok(Some(FileId { persistent: reader.u64("FileId.Persistent")?, volatile: reader.u64("FileId.Volatile")? }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_sits_at_its_commands_code() {
        assert_eq!(TABLE.len(), 19);
        for (code, row) in TABLE.iter().enumerate() {
            assert_eq!(usize::from(row.command.0), code, "row {code} is for command {:#x}", row.command.0);
        }
        assert!(spec(Command(0x13)).is_none());
    }

    #[test]
    fn only_negotiate_comes_before_negotiate_and_commands_on_opens_need_a_tree_and_a_session() {
        for row in &TABLE {
            assert_eq!(row.before_negotiate, row.command == Command::NEGOTIATE, "{:#x}", row.command.0);
            if row.needs_file() {
                assert!(row.needs_tree && row.needs_session, "{:#x}", row.command.0);
            }
            if row.needs_tree {
                assert!(row.needs_session, "{:#x}", row.command.0);
            }
        }
        assert!(spec(Command::CREATE).unwrap().needs_tree && !spec(Command::CREATE).unwrap().needs_file());
    }

    #[test]
    fn only_create_lock_and_change_notify_go_async_and_only_create_splits_a_chain() {
        for row in &TABLE {
            let expected = match row.command {
                Command::CREATE => Async::SplitsChain,
                Command::LOCK | Command::CHANGE_NOTIFY => Async::LastInChain,
                _ => Async::Never,
            };
            assert_eq!(row.goes_async, expected, "{:#x}", row.command.0);
        }
    }

    #[test]
    fn file_ids_are_found_where_each_command_keeps_them() {
        use crate::proto::header::Header;
        let id = FileId { persistent: 7, volatile: 9 };
        let mut out = Writer::new();
        Header { command: Command::READ, ..Header::default() }.encode(&mut out);
        crate::proto::read::ReadRequest { file_id: id, ..Default::default() }.encode(&mut out);
        assert_eq!(file_id_of(Command::READ, out.as_slice()).unwrap(), Some(id));
        let mut out = Writer::new();
        Header { command: Command::QUERY_INFO, ..Header::default() }.encode(&mut out);
        crate::proto::query_info::QueryInfoRequest { file_id: id, ..Default::default() }.encode(&mut out);
        assert_eq!(file_id_of(Command::QUERY_INFO, out.as_slice()).unwrap(), Some(id));
        let mut out = Writer::new();
        Header { command: Command::SET_INFO, ..Header::default() }.encode(&mut out);
        crate::proto::set_info::SetInfoRequest { file_id: id, ..Default::default() }.encode(&mut out);
        assert_eq!(file_id_of(Command::SET_INFO, out.as_slice()).unwrap(), Some(id));
    }
}
