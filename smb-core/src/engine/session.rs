//! Sessions, tree connects and opens of one connection (MS-SMB2 3.3.1.8 - 3.3.1.10).

use std::collections::HashMap;
use std::fs::File;
use std::sync::Arc;
use std::time::Instant;

use crate::auth::Acceptor;
use crate::crypto::{Encryptor, PreauthHash, Signer};
use crate::engine::files::FileKey;
use crate::engine::ids::{ConnectionId, SessionId, TreeId};
use crate::engine::shared::ShareRuntime;
use crate::proto::FileId;
use crate::proto::negotiate::{Cipher, SigningAlgorithm};
use crate::rpc::Pipe;
use crate::vfs::SharePath;

/// An authenticated user: the proof a session needs before it can serve anything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Identity {
    /// How sessions, open files and the audit log name it: a local account's name as
    /// configured (not as the client typed it), `DOMAIN\user` for a domain user (from the
    /// ticket's PAC), `user@REALM` for a Kerberos principal without one.
    pub user: String,
    /// Other names share permissions may give it by: its Kerberos principal and UPN.
    pub aliases: Vec<String>,
    /// A domain user's SIDs (MS-PAC 2.5): its own, its primary group's, its groups' and the
    /// extra SIDs, as `S-1-5-21-...`.
    pub sids: Vec<String>,
    /// Groups marked SE_GROUP_USE_FOR_DENY_ONLY (MS-PAC 2.2.1): they match Deny entries only.
    pub deny_only_sids: Vec<String>,
}

impl Identity {
    pub(crate) fn local(user: impl Into<String>) -> Identity {
        Identity { user: user.into(), ..Identity::default() }
    }

    /// Whether a share permission entry `name` names this identity: by its name or an alias,
    /// or by a SID, written out or through the domain names the configuration knows. A
    /// deny-only group is named only by a `deny` entry.
    pub(crate) fn is_named(&self, name: &str, deny: bool, sid_of: impl Fn(&str) -> Option<String>) -> bool {
        use crate::engine::config::same_name;
        if same_name(name, &self.user) || self.aliases.iter().any(|alias| same_name(name, alias)) {
            return true;
        }
        if self.sids.is_empty() && self.deny_only_sids.is_empty() {
            return false;
        }
        sid_of(name).is_some_and(|sid| self.sids.contains(&sid) || (deny && self.deny_only_sids.contains(&sid)))
    }
}

/// The keys of an established session.
pub(crate) struct SessionCrypto {
    /// Session.SigningKey (also the key of the channel that established the session).
    pub signer: Arc<Signer>,
    pub signing_algorithm: SigningAlgorithm,
    /// Client-to-server (requests).
    pub decryptor: Option<Encryptor>,
    /// Server-to-client (responses).
    pub encryptor: Option<Encryptor>,
    pub cipher: Option<Cipher>,
}

pub(crate) enum SessionState {
    /// SESSION_SETUP legs still to come.
    InProgress {
        acceptor: Acceptor,
        preauth: PreauthHash,
    },
    Valid {
        identity: Identity,
        crypto: Box<SessionCrypto>,
    },
    /// Re-authenticating an established session (MS-SMB2 3.3.5.5.2): still serving.
    Reauthenticating {
        identity: Identity,
        crypto: Box<SessionCrypto>,
        acceptor: Acceptor,
        preauth: PreauthHash,
    },
}

pub(crate) struct Session {
    pub id: SessionId,
    /// Session.Connection: the channel its opens belong to in the file table (where their
    /// breaks are sent); another channel takes over when it is lost (MS-SMB2 3.3.7.1).
    pub home: ConnectionId,
    pub state: SessionState,
    pub signing_required: bool,
    pub encrypt_data: bool,
    pub trees: HashMap<TreeId, Tree>,
    pub opens: HashMap<u64, Open>,
    pub next_tree_id: TreeId,
    /// CREATEs with a CreateGuid waiting for breaks, on any channel: a replay of one is told
    /// to wait (FILE_NOT_AVAILABLE, MS-SMB2 3.3.5.9.10). One whose channel was lost stays until
    /// the breaks it waited for are over; a replay after that opens anew.
    pub waiting_creates: Vec<WaitingCreate>,
    pub created: Instant,
    pub last_activity: Instant,
}

impl Session {
    pub(crate) fn new(id: SessionId, preauth: PreauthHash, home: ConnectionId, now: Instant) -> Session {
        Session {
            id,
            home,
            state: SessionState::InProgress { acceptor: Acceptor::default(), preauth },
            signing_required: false,
            encrypt_data: false,
            trees: HashMap::new(),
            opens: HashMap::new(),
            next_tree_id: TreeId(1),
            waiting_creates: Vec::new(),
            created: now,
            last_activity: now,
        }
    }

    pub(crate) fn identity(&self) -> Option<&Identity> {
        match &self.state {
            SessionState::Valid { identity, .. } | SessionState::Reauthenticating { identity, .. } => Some(identity),
            SessionState::InProgress { .. } => None,
        }
    }

    pub(crate) fn crypto(&self) -> Option<&SessionCrypto> {
        match &self.state {
            SessionState::Valid { crypto, .. } | SessionState::Reauthenticating { crypto, .. } => Some(crypto),
            SessionState::InProgress { .. } => None,
        }
    }

    /// The hash a session setup in progress extends.
    pub(crate) fn preauth_mut(&mut self) -> Option<&mut PreauthHash> {
        match &mut self.state {
            SessionState::InProgress { preauth, .. } | SessionState::Reauthenticating { preauth, .. } => Some(preauth),
            SessionState::Valid { .. } => None,
        }
    }

    pub(crate) fn user(&self) -> &str {
        self.identity().map_or("", |i| i.user.as_str())
    }
}

/// A CREATE of the session waiting for breaks (see [`Session::waiting_creates`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WaitingCreate {
    pub create_guid: [u8; 16],
    pub key: FileKey,
    pub connection: ConnectionId,
    pub async_id: crate::engine::ids::AsyncId,
}

/// What a tree connect reaches.
pub(crate) enum TreeKind {
    Disk(Arc<ShareRuntime>),
    /// IPC$: named pipes for RPC.
    Ipc,
}

pub(crate) struct Tree {
    pub share_name: String,
    pub kind: TreeKind,
    pub encrypt_data: bool,
}

/// The state of a directory enumeration (MS-SMB2 3.3.5.18): the matching names, `.` and `..`
/// first; each entry's metadata is read when it is returned, so that files deleted meanwhile are
/// skipped and sizes are current.
#[derive(Default)]
pub(crate) struct Enumeration {
    pub names: Vec<String>,
    pub position: usize,
    pub started: bool,
}

pub(crate) enum OpenKind {
    File(File),
    /// A directory handle, its enumeration state, and whether a change watch exists for it.
    Directory {
        handle: File,
        enumeration: Enumeration,
    },
    Pipe(Box<Pipe>),
}

pub(crate) struct Open {
    pub file_id: FileId,
    pub tree_id: TreeId,
    pub kind: OpenKind,
    /// The file's identity in the file table (none for pipes).
    pub key: Option<FileKey>,
    pub granted_access: u32,
    /// Set by DELETE_ON_CLOSE: the file goes when its last open closes.
    pub delete_on_close: bool,
    /// FilePositionInformation / FileModeInformation, kept for the client.
    pub position: u64,
    pub mode: u32,
    /// The path at open time (the file table has the current one).
    pub path: SharePath,
    /// How writes through this open move the file's last-write time.
    pub write_time: WriteTime,
    /// Set when the open is durable: it outlives a lost connection (MS-SMB2 3.3.1.10).
    pub durable: Option<crate::engine::durable::Terms>,
    /// A replay of the CREATE that made it is still answered with it (MS-SMB2 3.3.1.10,
    /// Open.IsReplayEligible): until a request names it.
    pub replayable: bool,
    /// The newest ChannelSequence of a request on it (MS-SMB2 3.3.1.10, Open.ChannelSequence).
    pub channel_sequence: u16,
    /// Open.LockSequenceArray (MS-SMB2 3.3.1.10): per LockSequenceIndex 1-64, the
    /// LockSequenceNumber of the last LOCK that succeeded with it, [`NO_LOCK_SEQUENCE`] if none.
    pub lock_sequences: [u8; 64],
}

/// An entry of [`Open::lock_sequences`] that holds no sequence number (they have 4 bits).
pub(crate) const NO_LOCK_SEQUENCE: u8 = 0xFF;

/// Windows' last-write-time rules for one open (MS-FSA 2.1.5.14.2, and NTFS's delayed update
/// that smbtorture's timestamps tests pin down): the first write sets it, later writes through
/// the same open leave it until the close; a time the client set (or froze with -1) stays.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum WriteTime {
    #[default]
    Automatic,
    /// Set by the first write; `dirty` when written again since.
    Written { time: u64, dirty: bool },
    /// Set (or frozen) by the client.
    Fixed(u64),
}

impl Open {
    pub(crate) fn is_directory(&self) -> bool {
        matches!(self.kind, OpenKind::Directory { .. })
    }

    pub(crate) fn file(&self) -> Option<&File> {
        match &self.kind {
            OpenKind::File(file) => Some(file),
            OpenKind::Directory { handle, .. } => Some(handle),
            OpenKind::Pipe(_) => None,
        }
    }
}
