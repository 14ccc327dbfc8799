//! A share on a local directory. Every path is resolved beneath the share's root directory
//! handle with `openat2(RESOLVE_BENEATH)`: neither `..` nor a symbolic link can lead outside, even
//! when the tree changes during the lookup. Names are found without regard to case, as Windows
//! clients expect, on disks that keep case.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, Mode, OFlags, ResolveFlags, StatxFlags};

use super::path::SharePath;
use crate::proto::NtStatus;
use crate::proto::fscc::{self, FileMeta, attributes};

/// Where EdgeShare keeps what POSIX cannot: DOS attributes and the creation time.
const DOS_XATTR: &str = "user.edgeshare.dos";
/// Attributes kept in the xattr: what clients set, and the sparse flag FSCTL_SET_SPARSE sets.
const KEPT: u32 = attributes::SETTABLE | attributes::SPARSE_FILE;

/// The root of one share.
#[derive(Debug)]
pub struct ShareRoot {
    root: OwnedFd,
    path: PathBuf,
}

/// What a lookup found.
#[derive(Debug)]
pub struct Found {
    /// The path with each component as it is spelled on disk.
    pub path: SharePath,
    pub meta: FileMeta,
}

/// An I/O error as the NT status a client understands (the one place this mapping lives).
pub(crate) fn status_of(error: &io::Error) -> NtStatus {
    use rustix::io::Errno;
    match error.raw_os_error().map(Errno::from_raw_os_error) {
        Some(Errno::NOENT) => NtStatus::OBJECT_NAME_NOT_FOUND,
        Some(Errno::EXIST) => NtStatus::OBJECT_NAME_COLLISION,
        Some(Errno::ACCESS | Errno::PERM | Errno::ROFS | Errno::TXTBSY) => NtStatus::ACCESS_DENIED,
        // A symbolic link or `..` that would leave the share.
        Some(Errno::XDEV) => NtStatus::ACCESS_DENIED,
        Some(Errno::LOOP) => NtStatus::STOPPED_ON_SYMLINK,
        Some(Errno::NOTDIR) => NtStatus::OBJECT_PATH_NOT_FOUND,
        Some(Errno::ISDIR) => NtStatus::FILE_IS_A_DIRECTORY,
        Some(Errno::NOTEMPTY) => NtStatus::DIRECTORY_NOT_EMPTY,
        Some(Errno::NOSPC | Errno::DQUOT) => NtStatus::DISK_FULL,
        Some(Errno::NAMETOOLONG) => NtStatus::OBJECT_NAME_INVALID,
        Some(Errno::INVAL) => NtStatus::INVALID_PARAMETER,
        Some(Errno::FBIG) => NtStatus::DISK_FULL,
        Some(Errno::NOMEM) => NtStatus::NO_MEMORY,
        Some(Errno::MFILE | Errno::NFILE) => NtStatus::TOO_MANY_OPENED_FILES,
        _ => NtStatus::IO_DEVICE_ERROR,
    }
}

fn io_err(errno: rustix::io::Errno) -> io::Error {
    io::Error::from_raw_os_error(errno.raw_os_error())
}

/// How to open something found beneath the root.
#[derive(Clone, Copy, Debug)]
pub enum OpenMode {
    /// Read/write data as the access mask allows.
    File {
        read: bool,
        write: bool,
    },
    Directory,
}

impl ShareRoot {
    pub fn open(path: &Path) -> io::Result<ShareRoot> {
        let root = rustix::fs::open(path, OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
            .map_err(io_err)?;
        Ok(ShareRoot { root, path: path.to_owned() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn beneath(&self, relative: &str, flags: OFlags, mode: Mode) -> io::Result<OwnedFd> {
        rustix::fs::openat2(
            &self.root,
            relative,
            // O_PATH admits only a few companion flags (openat2 refuses the rest).
            if flags.contains(OFlags::PATH) {
                flags | OFlags::CLOEXEC
            } else {
                flags | OFlags::CLOEXEC | OFlags::NOCTTY
            },
            mode,
            ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS,
        )
        .map_err(io_err)
    }

    /// The directory `path` (actual spelling), opened for listing and `*at` calls.
    pub fn open_dir(&self, path: &SharePath) -> io::Result<OwnedFd> {
        self.beneath(&path.to_relative(), OFlags::DIRECTORY | OFlags::RDONLY, Mode::empty())
    }

    /// The name in `dir` that matches `wanted` without regard to case, exact spelling first.
    fn find_in(&self, dir: BorrowedFd<'_>, wanted: &str) -> io::Result<Option<String>> {
        match rustix::fs::statat(dir, wanted, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(_) => return Ok(Some(wanted.to_owned())),
            Err(rustix::io::Errno::NOENT) => {}
            Err(error) => return Err(io_err(error)),
        }
        let wanted = wanted.to_lowercase();
        let listing = rustix::fs::openat(dir, ".", OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
            .map_err(io_err)?;
        let mut entries = rustix::fs::Dir::read_from(&listing).map_err(io_err)?;
        while let Some(entry) = entries.read() {
            let entry = entry.map_err(io_err)?;
            let name = entry.file_name().to_bytes();
            if let Ok(name) = std::str::from_utf8(name)
                && name.to_lowercase() == wanted
            {
                return Ok(Some(name.to_owned()));
            }
        }
        Ok(None)
    }

    /// Resolves every component without regard to case. `Ok(None)`: the last component does
    /// not exist (its parent does); a missing parent is OBJECT_PATH_NOT_FOUND.
    pub fn resolve(&self, path: &SharePath) -> Result<Option<Found>, NtStatus> {
        let (parent, name) = match (path.parent(), path.file_name()) {
            (Some(parent), Some(name)) => (parent, name),
            _ => return self.meta(&SharePath::root()).map(|meta| Some(Found { path: SharePath::root(), meta })),
        };
        let mut actual = SharePath::root();
        let mut dir = self.open_dir(&actual).map_err(|e| status_of(&e))?;
        for component in parent.components() {
            let Some(name) = self.find_in(dir.as_fd(), component).map_err(|e| status_of(&e))? else {
                return Err(NtStatus::OBJECT_PATH_NOT_FOUND);
            };
            actual = actual.join(&name);
            dir = match self.open_dir(&actual) {
                Ok(dir) => dir,
                Err(error) if status_of(&error) == NtStatus::OBJECT_PATH_NOT_FOUND => {
                    return Err(NtStatus::OBJECT_PATH_NOT_FOUND);
                }
                Err(error) => {
                    return Err(match status_of(&error) {
                        NtStatus::OBJECT_NAME_NOT_FOUND => NtStatus::OBJECT_PATH_NOT_FOUND,
                        other => other,
                    });
                }
            };
        }
        match self.find_in(dir.as_fd(), name).map_err(|e| status_of(&e))? {
            None => Ok(None),
            Some(name) => {
                let path = actual.join(&name);
                let meta = self.meta(&path)?;
                Ok(Some(Found { path, meta }))
            }
        }
    }

    /// The metadata of `path` (actual spelling), following a link only if it stays beneath.
    pub fn meta(&self, path: &SharePath) -> Result<FileMeta, NtStatus> {
        let fd = self.beneath(&path.to_relative(), OFlags::PATH, Mode::empty()).map_err(|e| status_of(&e))?;
        meta_of(fd.as_fd())
    }

    /// Opens an existing file or directory.
    pub fn open_existing(&self, path: &SharePath, mode: OpenMode) -> Result<File, NtStatus> {
        let flags = match mode {
            OpenMode::Directory => OFlags::DIRECTORY | OFlags::RDONLY,
            OpenMode::File { write: true, .. } => OFlags::RDWR,
            OpenMode::File { .. } => OFlags::RDONLY,
        };
        match self.beneath(&path.to_relative(), flags, Mode::empty()) {
            Ok(fd) => Ok(File::from(fd)),
            // A file the server cannot write may still be opened for attributes and reading.
            Err(error)
                if matches!(mode, OpenMode::File { write: true, .. })
                    && status_of(&error) == NtStatus::ACCESS_DENIED =>
            {
                Err(NtStatus::ACCESS_DENIED)
            }
            Err(error) => Err(status_of(&error)),
        }
    }

    /// Opens with O_PATH: enough for metadata and `*at` calls, whatever the file's permissions.
    pub fn open_path(&self, path: &SharePath) -> Result<File, NtStatus> {
        self.beneath(&path.to_relative(), OFlags::PATH, Mode::empty()).map(File::from).map_err(|e| status_of(&e))
    }

    /// Creates a new regular file (fails if the name exists) and opens it read-write.
    pub fn create_file(&self, path: &SharePath) -> Result<File, NtStatus> {
        self.beneath(&path.to_relative(), OFlags::CREATE | OFlags::EXCL | OFlags::RDWR, Mode::from_raw_mode(0o644))
            .map(File::from)
            .map_err(|e| status_of(&e))
    }

    pub fn create_dir(&self, path: &SharePath) -> Result<(), NtStatus> {
        let (parent, name) = split(path)?;
        let dir = self.open_dir(&parent).map_err(|e| status_of(&e))?;
        rustix::fs::mkdirat(&dir, name, Mode::from_raw_mode(0o755)).map_err(|e| status_of(&io_err(e)))
    }

    pub fn remove(&self, path: &SharePath, directory: bool) -> Result<(), NtStatus> {
        let (parent, name) = split(path)?;
        let dir = self.open_dir(&parent).map_err(|e| status_of(&e))?;
        let flags = if directory { AtFlags::REMOVEDIR } else { AtFlags::empty() };
        rustix::fs::unlinkat(&dir, name, flags).map_err(|e| status_of(&io_err(e)))
    }

    /// Renames `from` to `to`; with `replace`, an existing `to` (a file) is replaced atomically.
    pub fn rename(&self, from: &SharePath, to: &SharePath, replace: bool) -> Result<(), NtStatus> {
        let (from_parent, from_name) = split(from)?;
        let (to_parent, to_name) = split(to)?;
        let from_dir = self.open_dir(&from_parent).map_err(|e| status_of(&e))?;
        let to_dir = self.open_dir(&to_parent).map_err(|e| status_of(&e))?;
        let flags = if replace { rustix::fs::RenameFlags::empty() } else { rustix::fs::RenameFlags::NOREPLACE };
        rustix::fs::renameat_with(&from_dir, from_name, &to_dir, to_name, flags).map_err(|e| status_of(&io_err(e)))
    }

    /// A hard link `to` for the existing `from`.
    pub fn link(&self, from: &SharePath, to: &SharePath) -> Result<(), NtStatus> {
        let (from_parent, from_name) = split(from)?;
        let (to_parent, to_name) = split(to)?;
        let from_dir = self.open_dir(&from_parent).map_err(|e| status_of(&e))?;
        let to_dir = self.open_dir(&to_parent).map_err(|e| status_of(&e))?;
        rustix::fs::linkat(&from_dir, from_name, &to_dir, to_name, AtFlags::empty()).map_err(|e| status_of(&io_err(e)))
    }

    /// The names in a directory (actual spelling), without `.` and `..`. Names that are not
    /// UTF-8 are left out: no client could ask for them.
    pub fn names(&self, path: &SharePath) -> Result<Vec<String>, NtStatus> {
        let dir = self.open_dir(path).map_err(|e| status_of(&e))?;
        let mut entries = rustix::fs::Dir::read_from(&dir).map_err(|e| status_of(&io_err(e)))?;
        let mut names = Vec::new();
        while let Some(entry) = entries.read() {
            let entry = entry.map_err(|e| status_of(&io_err(e)))?;
            let bytes = entry.file_name().to_bytes();
            if bytes == b"." || bytes == b".." {
                continue;
            }
            if let Ok(name) = String::from_utf8(bytes.to_vec()) {
                names.push(name);
            }
        }
        Ok(names)
    }

    /// The names in a directory with their metadata; links leading outside the share are left
    /// out.
    pub fn list(&self, path: &SharePath) -> Result<Vec<(String, FileMeta)>, NtStatus> {
        Ok(self
            .names(path)?
            .into_iter()
            .filter_map(|name| Some((name.clone(), self.meta(&path.join(&name)).ok()?)))
            .collect())
    }

    /// Total and free bytes of the file system holding the share, and its block size.
    pub fn space(&self) -> Result<(u64, u64, u64), NtStatus> {
        let stat = rustix::fs::fstatvfs(&self.root).map_err(|e| status_of(&io_err(e)))?;
        Ok((stat.f_blocks * stat.f_frsize, stat.f_bavail * stat.f_frsize, stat.f_frsize.max(512)))
    }

    pub fn root_fd(&self) -> BorrowedFd<'_> {
        self.root.as_fd()
    }
}

fn split(path: &SharePath) -> Result<(SharePath, &str), NtStatus> {
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => Ok((parent, name)),
        _ => Err(NtStatus::ACCESS_DENIED),
    }
}

/// `fgetxattr`, or for an O_PATH handle (which refuses it) `getxattr` through /proc.
fn get_xattr(fd: BorrowedFd<'_>, name: &str, buffer: &mut [u8]) -> io::Result<usize> {
    match rustix::fs::fgetxattr(fd, name, &mut *buffer) {
        Err(rustix::io::Errno::BADF) => {
            let path = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&fd));
            rustix::fs::getxattr(path.as_str(), name, buffer).map_err(io_err)
        }
        other => other.map_err(io_err),
    }
}

fn set_xattr(fd: BorrowedFd<'_>, name: &str, value: &[u8]) -> io::Result<()> {
    match rustix::fs::fsetxattr(fd, name, value, rustix::fs::XattrFlags::empty()) {
        Err(rustix::io::Errno::BADF) => {
            let path = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&fd));
            rustix::fs::setxattr(path.as_str(), name, value, rustix::fs::XattrFlags::empty()).map_err(io_err)
        }
        other => other.map_err(io_err),
    }
}

/// What EdgeShare keeps beside POSIX metadata (version 2 of its xattr: 33 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Dos {
    attributes: u32,
    creation_time: u64,
    /// A change time a client set, valid while the file's modification time is still the one
    /// recorded with it (a later write means a later change).
    change: Option<(u64, i64, u32)>,
}

fn read_dos(fd: BorrowedFd<'_>) -> Option<Dos> {
    let mut buffer = [0_u8; 64];
    let length = get_xattr(fd, DOS_XATTR, &mut buffer).ok()?;
    let u32_at = |at: usize| u32::from_le_bytes(buffer[at..at + 4].try_into().expect("4 bytes"));
    let u64_at = |at: usize| u64::from_le_bytes(buffer[at..at + 8].try_into().expect("8 bytes"));
    match (buffer[0], length) {
        (1, 13) => Some(Dos { attributes: u32_at(1), creation_time: u64_at(5), change: None }),
        (2, 33) => {
            let change = u64_at(13);
            Some(Dos {
                attributes: u32_at(1),
                creation_time: u64_at(5),
                change: (change != 0).then(|| (change, u64_at(21) as i64, u32_at(29))),
            })
        }
        _ => None,
    }
}

fn store_dos(fd: BorrowedFd<'_>, dos: &Dos) -> io::Result<()> {
    let mut value = [0_u8; 33];
    value[0] = 2;
    value[1..5].copy_from_slice(&(dos.attributes & KEPT).to_le_bytes());
    value[5..13].copy_from_slice(&dos.creation_time.to_le_bytes());
    if let Some((time, seconds, nanos)) = dos.change {
        value[13..21].copy_from_slice(&time.to_le_bytes());
        value[21..29].copy_from_slice(&seconds.to_le_bytes());
        value[29..33].copy_from_slice(&nanos.to_le_bytes());
    }
    set_xattr(fd, DOS_XATTR, &value)
}

/// Stores DOS attributes and the creation time (keeping a change time set earlier). File
/// systems without user xattrs keep only what POSIX can: the result says so.
pub(crate) fn write_dos(fd: BorrowedFd<'_>, attributes: u32, creation_time: u64) -> io::Result<()> {
    let change = read_dos(fd).and_then(|d| d.change);
    store_dos(fd, &Dos { attributes: attributes & KEPT, creation_time, change })
}

/// Records a change time a client set (MS-FSA 2.1.5.14.2), valid until the file is next written.
pub(crate) fn set_change_time(fd: BorrowedFd<'_>, change_time: u64) -> Result<(), NtStatus> {
    let meta = meta_of(fd)?;
    let stat = rustix::fs::statx(fd, "", AtFlags::EMPTY_PATH, StatxFlags::MTIME).map_err(|e| status_of(&io_err(e)))?;
    let dos = Dos {
        attributes: meta.attributes & KEPT,
        creation_time: meta.creation_time,
        change: Some((change_time, stat.stx_mtime.tv_sec, stat.stx_mtime.tv_nsec)),
    };
    store_dos(fd, &dos).map_err(|e| status_of(&e))
}

/// Where each extended attribute a client sets is kept: `user.edgeshare.ea.<NAME>`, one byte of
/// flags before the value.
const EA_PREFIX: &str = "user.edgeshare.ea.";

fn list_xattr(fd: BorrowedFd<'_>) -> io::Result<Vec<String>> {
    let mut buffer = vec![0_u8; 64 * 1024];
    let length = match rustix::fs::flistxattr(fd, &mut buffer) {
        Err(rustix::io::Errno::BADF) => {
            let path = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&fd));
            rustix::fs::listxattr(path.as_str(), &mut buffer).map_err(io_err)?
        }
        other => other.map_err(io_err)?,
    };
    Ok(buffer[..length]
        .split(|b| *b == 0)
        .filter(|n| !n.is_empty())
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect())
}

/// The file's extended attributes, names upper case, in name order.
pub(crate) fn read_eas(fd: BorrowedFd<'_>) -> Vec<crate::proto::fscc::FullEa> {
    let Ok(names) = list_xattr(fd) else { return Vec::new() };
    let mut eas: Vec<_> = names
        .iter()
        .filter_map(|name| name.strip_prefix(EA_PREFIX))
        .filter_map(|ea| {
            let mut buffer = vec![0_u8; 65536 + 1];
            let length = get_xattr(fd, &format!("{EA_PREFIX}{ea}"), &mut buffer).ok()?;
            let (flags, value) = buffer[..length].split_first()?;
            Some(crate::proto::fscc::FullEa { flags: *flags, name: ea.to_owned(), value: value.to_vec() })
        })
        .collect();
    eas.sort_by(|a, b| a.name.cmp(&b.name));
    eas
}

/// Sets (or, with an empty value, removes) one extended attribute.
pub(crate) fn write_ea(fd: BorrowedFd<'_>, ea: &crate::proto::fscc::FullEa) -> Result<(), NtStatus> {
    let name = format!("{EA_PREFIX}{}", ea.name.to_uppercase());
    if ea.value.is_empty() {
        let result = match rustix::fs::fremovexattr(fd, name.as_str()) {
            Err(rustix::io::Errno::BADF) => {
                let path = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&fd));
                rustix::fs::removexattr(path.as_str(), name.as_str())
            }
            other => other,
        };
        return match result {
            Ok(()) | Err(rustix::io::Errno::NODATA) => Ok(()),
            Err(rustix::io::Errno::NOTSUP) => Err(NtStatus::EAS_NOT_SUPPORTED),
            Err(error) => Err(status_of(&io_err(error))),
        };
    }
    let mut value = Vec::with_capacity(ea.value.len() + 1);
    value.push(ea.flags);
    value.extend_from_slice(&ea.value);
    set_xattr(fd, &name, &value).map_err(|e| {
        if e.raw_os_error() == Some(rustix::io::Errno::NOTSUP.raw_os_error()) {
            NtStatus::EAS_NOT_SUPPORTED
        } else {
            status_of(&e)
        }
    })
}

/// A handle's metadata as the SMB information classes describe it.
pub(crate) fn meta_of(fd: BorrowedFd<'_>) -> Result<FileMeta, NtStatus> {
    let stat = rustix::fs::statx(fd, "", AtFlags::EMPTY_PATH, StatxFlags::BASIC_STATS | StatxFlags::BTIME)
        .map_err(|e| status_of(&io_err(e)))?;
    let is_directory = u32::from(stat.stx_mode) & 0o170000 == 0o040000;
    let time = |t: rustix::fs::StatxTimestamp| fscc::filetime(t.tv_sec, t.tv_nsec);
    let birth = if stat.stx_mask & StatxFlags::BTIME.bits() != 0 { time(stat.stx_btime) } else { time(stat.stx_mtime) };
    let dos = read_dos(fd);
    let change_time = match dos.and_then(|d| d.change) {
        Some((time, seconds, nanos)) if seconds == stat.stx_mtime.tv_sec && nanos == stat.stx_mtime.tv_nsec => time,
        _ => time(stat.stx_ctime),
    };
    let (mut attributes, creation_time) = match dos {
        Some(stored) => (stored.attributes & KEPT, stored.creation_time),
        None => {
            let mut attributes = if is_directory { 0 } else { attributes::ARCHIVE };
            if stat.stx_mode & 0o200 == 0 {
                attributes |= attributes::READONLY;
            }
            (attributes, birth)
        }
    };
    if is_directory {
        attributes |= attributes::DIRECTORY;
    }
    if attributes == 0 {
        attributes = attributes::NORMAL;
    }
    let end_of_file = if is_directory { 0 } else { stat.stx_size };
    let allocation_size =
        if is_directory { 0 } else { (stat.stx_blocks * 512).max(end_of_file.next_multiple_of(4096)) };
    Ok(FileMeta {
        creation_time,
        last_access_time: time(stat.stx_atime),
        last_write_time: time(stat.stx_mtime),
        change_time,
        end_of_file,
        allocation_size,
        attributes,
        file_id: stat.stx_ino,
        links: stat.stx_nlink,
        is_directory,
    })
}

/// The device and inode: the identity of a file across opens, links and renames.
/// A file's identity on the server's file systems: device and inode, stable across renames and
/// links (what the engine's file table, leases and locks are keyed by).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileKey {
    pub device: u64,
    pub inode: u64,
}

pub(crate) fn identity(fd: BorrowedFd<'_>) -> Result<FileKey, NtStatus> {
    let stat = rustix::fs::fstat(fd).map_err(|e| status_of(&io_err(e)))?;
    Ok(FileKey { device: stat.st_dev, inode: stat.st_ino })
}

/// Sets access and modification times (`None` leaves one as it is).
pub(crate) fn set_times(fd: BorrowedFd<'_>, access: Option<u64>, write: Option<u64>) -> Result<(), NtStatus> {
    use rustix::fs::{Timespec, Timestamps, UTIME_OMIT};
    let spec = |filetime: Option<u64>| match filetime {
        Some(filetime) => {
            let (tv_sec, tv_nsec) = fscc::from_filetime(filetime);
            Timespec { tv_sec, tv_nsec: i64::from(tv_nsec) }
        }
        None => Timespec { tv_sec: 0, tv_nsec: UTIME_OMIT },
    };
    let times = Timestamps { last_access: spec(access), last_modification: spec(write) };
    rustix::fs::futimens(fd, &times).map_err(|e| status_of(&io_err(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share() -> (tempfile::TempDir, ShareRoot) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("Docs")).unwrap();
        std::fs::write(dir.path().join("Docs/Report.TXT"), b"hello").unwrap();
        let root = ShareRoot::open(dir.path()).unwrap();
        (dir, root)
    }

    #[test]
    fn names_are_found_without_regard_to_case_and_keep_their_spelling() {
        let (_dir, root) = share();
        let found = root.resolve(&SharePath::parse("docs\\report.txt").unwrap()).unwrap().unwrap();
        assert_eq!(found.path.components(), ["Docs", "Report.TXT"]);
        assert_eq!(found.meta.end_of_file, 5);
        assert!(root.resolve(&SharePath::parse("docs\\missing").unwrap()).unwrap().is_none());
        assert_eq!(root.resolve(&SharePath::parse("nodir\\x").unwrap()).unwrap_err(), NtStatus::OBJECT_PATH_NOT_FOUND);
    }

    #[test]
    fn rejects_symlinks_that_escape_the_share_root() {
        let (dir, root) = share();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), b"top secret").unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("escape")).unwrap();
        std::os::unix::fs::symlink("../../etc/passwd", dir.path().join("Docs/passwd")).unwrap();
        let through_dir = SharePath::parse("escape\\secret").unwrap();
        assert!(
            root.resolve(&through_dir).is_err()
                || root.open_existing(&through_dir, OpenMode::File { read: true, write: false }).is_err()
        );
        let link = SharePath::parse("Docs\\passwd").unwrap();
        assert_eq!(
            root.open_existing(&link, OpenMode::File { read: true, write: false }).unwrap_err(),
            NtStatus::ACCESS_DENIED
        );
        assert!(root.list(&SharePath::parse("Docs").unwrap()).unwrap().iter().all(|(name, _)| name != "passwd"));
    }

    #[test]
    fn symlinks_inside_the_share_are_followed() {
        let (dir, root) = share();
        std::os::unix::fs::symlink("Docs/Report.TXT", dir.path().join("shortcut")).unwrap();
        let file =
            root.open_existing(&SharePath::parse("shortcut").unwrap(), OpenMode::File { read: true, write: false });
        assert!(file.is_ok());
    }

    #[test]
    fn dos_attributes_and_creation_time_survive_in_the_file() {
        let (dir, root) = share();
        let path = SharePath::parse("Docs\\Report.TXT").unwrap();
        let file = root.open_existing(&path, OpenMode::File { read: true, write: true }).unwrap();
        if write_dos(file.as_fd(), attributes::HIDDEN | attributes::ARCHIVE, 123_456_789).is_err() {
            return; // a file system without user xattrs: nothing to keep
        }
        let meta = root.meta(&path).unwrap();
        assert_eq!(meta.attributes, attributes::HIDDEN | attributes::ARCHIVE);
        assert_eq!(meta.creation_time, 123_456_789);
        drop(dir);
    }

    #[test]
    fn create_rename_and_remove_work_beneath_the_root() {
        let (_dir, root) = share();
        let new = SharePath::parse("Docs\\new.txt").unwrap();
        root.create_file(&new).unwrap();
        assert_eq!(root.create_file(&new).unwrap_err(), NtStatus::OBJECT_NAME_COLLISION);
        let moved = SharePath::parse("moved.txt").unwrap();
        root.rename(&new, &moved, false).unwrap();
        let existing = SharePath::parse("Docs\\Report.TXT").unwrap();
        assert_eq!(root.rename(&moved, &existing, false).unwrap_err(), NtStatus::OBJECT_NAME_COLLISION);
        root.rename(&moved, &existing, true).unwrap();
        root.create_dir(&SharePath::parse("sub").unwrap()).unwrap();
        assert_eq!(root.remove(&SharePath::parse("Docs").unwrap(), true).unwrap_err(), NtStatus::DIRECTORY_NOT_EMPTY);
        root.remove(&existing, false).unwrap();
        root.remove(&SharePath::parse("Docs").unwrap(), true).unwrap();
    }
}
