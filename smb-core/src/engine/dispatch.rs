//! The one table of what each command needs (after Samba's `smbd_smb2_table`): a session, a
//! tree connect, an open. [`super::connection`] enforces it before any handler runs, so
//! handlers never repeat these checks.

use crate::engine::connection::{Connection, PendingKind};
use crate::engine::handlers;
use crate::proto::header::{Command, HEADER_SIZE, Header};
use crate::proto::{DecodeError, FileId, NtStatus, Reader, Writer};

/// A request as a handler sees it: checked by the table, related ids substituted.
pub struct Request<'a> {
    pub header: &'a Header,
    /// The whole message, from its SMB2 header (offsets in bodies count from there).
    pub message: &'a [u8],
    /// The open the request names (related `FileId`s already resolved), when the table asks.
    pub file_id: Option<FileId>,
    pub encrypted: bool,
    /// Position in its compound chain.
    pub index: usize,
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
pub struct Done {
    /// SUCCESS, or a warning/informational status that still carries a body.
    pub status: NtStatus,
    /// The session id the response carries, when it differs from the request's (a new session).
    pub session_id: Option<u64>,
    /// The tree id the response carries (TREE_CONNECT).
    pub tree_id: Option<u32>,
    /// An open that later related requests in the chain refer to (CREATE).
    pub new_file: Option<FileId>,
    /// The preauthentication hash the final response bytes extend (3.1.1 NEGOTIATE and
    /// SESSION_SETUP legs, MS-SMB2 3.3.5.4 / 3.3.5.5).
    pub preauth: Option<Preauth>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preauth {
    Connection,
    Session(u64),
}

pub enum Outcome {
    Done(Done),
    /// Goes async: an interim STATUS_PENDING now, the real response later.
    Pending(PendingKind),
    NoResponse,
}

impl Outcome {
    pub fn ok() -> Result<Outcome, Error> {
        Ok(Outcome::Done(Done::default()))
    }

    pub fn status(status: NtStatus) -> Result<Outcome, Error> {
        Ok(Outcome::Done(Done { status, ..Done::default() }))
    }
}

pub type Handler = fn(&mut Connection, &Request<'_>, &mut Writer) -> Result<Outcome, Error>;

pub struct Spec {
    pub needs_session: bool,
    pub needs_tree: bool,
    pub needs_file: bool,
    pub handler: Handler,
}

const fn entry(needs_session: bool, needs_tree: bool, needs_file: bool, handler: Handler) -> Spec {
    Spec { needs_session, needs_tree, needs_file, handler }
}

/// Indexed by command code (MS-SMB2 2.2.1.2).
static TABLE: [Spec; Command::COUNT] = [
    entry(false, false, false, handlers::negotiate::handle),
    entry(false, false, false, handlers::session_setup::handle),
    entry(true, false, false, handlers::logoff::handle),
    entry(true, false, false, handlers::tree_connect::handle),
    entry(true, true, false, handlers::tree_disconnect::handle),
    entry(true, true, false, handlers::create::handle),
    entry(true, true, true, handlers::close::handle),
    entry(true, true, true, handlers::flush::handle),
    entry(true, true, true, handlers::read::handle),
    entry(true, true, true, handlers::write::handle),
    entry(true, true, true, handlers::lock::handle),
    entry(true, true, true, handlers::ioctl::handle),
    // CANCEL is answered by the request it cancels; the pipeline routes it before the table.
    entry(false, false, false, handlers::cancel::unreachable),
    entry(false, false, false, handlers::echo::handle),
    entry(true, true, true, handlers::query_directory::handle),
    entry(true, true, true, handlers::change_notify::handle),
    entry(true, true, true, handlers::query_info::handle),
    entry(true, true, true, handlers::set_info::handle),
    entry(true, true, false, handlers::oplock_break::handle),
];

pub fn spec(command: Command) -> Option<&'static Spec> {
    TABLE.get(usize::from(command.0))
}

/// Where each command that names an open keeps its FileId, in bytes after the header.
pub fn file_id_of(command: Command, message: &[u8]) -> Result<Option<FileId>, DecodeError> {
    let offset = match command {
        Command::CLOSE
        | Command::FLUSH
        | Command::LOCK
        | Command::IOCTL
        | Command::QUERY_DIRECTORY
        | Command::CHANGE_NOTIFY => 8,
        Command::READ | Command::WRITE | Command::SET_INFO => 16,
        Command::QUERY_INFO => 24,
        _ => return Ok(None),
    };
    let mut reader = Reader::new(message);
    reader.skip(HEADER_SIZE + offset, "request up to FileId")?;
    Ok(Some(FileId { persistent: reader.u64("FileId.Persistent")?, volatile: reader.u64("FileId.Volatile")? }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_an_entry_in_order() {
        assert_eq!(TABLE.len(), 19);
        assert!(spec(Command(0x13)).is_none());
        assert!(spec(Command::READ).unwrap().needs_file);
        assert!(!spec(Command::NEGOTIATE).unwrap().needs_session);
        assert!(spec(Command::CREATE).unwrap().needs_tree && !spec(Command::CREATE).unwrap().needs_file);
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
