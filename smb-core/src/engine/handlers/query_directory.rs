//! QUERY_DIRECTORY (MS-SMB2 3.3.5.18): directory entries matching a pattern, as many as fit,
//! resuming where the last call stopped.

use std::os::fd::AsFd;

use crate::engine::connection::Connection;
use crate::engine::dispatch::{Error, Outcome, Request};
use crate::engine::files::access;
use crate::engine::handlers::{check_charge, open_of, share_of};
use crate::engine::session::{Enumeration, OpenKind};
use crate::proto::fscc::{self, file_class};
use crate::proto::query_directory::{QueryDirectoryRequest, QueryDirectoryResponse, query_directory_flags};
use crate::proto::{NtStatus, Writer};
use crate::vfs::local;

pub(crate) fn handle(conn: &mut Connection, req: &Request<'_>, out: &mut Writer) -> Result<Outcome, Error> {
    let request = QueryDirectoryRequest::decode(req.message)?;
    check_charge(conn, req, request.output_buffer_length as usize)?;
    let class = request.file_information_class;
    if !matches!(
        class,
        file_class::DIRECTORY
            | file_class::FULL_DIRECTORY
            | file_class::BOTH_DIRECTORY
            | file_class::NAMES
            | file_class::ID_BOTH_DIRECTORY
            | file_class::ID_FULL_DIRECTORY
    ) {
        return Err(NtStatus::INVALID_INFO_CLASS.into());
    }
    let share = share_of(conn, req).ok_or(NtStatus::INVALID_PARAMETER)?;
    let root = share.root.as_ref().map_err(|_| NtStatus::BAD_NETWORK_NAME)?;
    let key = open_of(conn, req)?.key;
    let current_path =
        key.and_then(|k| crate::engine::shared::lock(&conn.shared.files).get(&k).map(|s| s.path.clone()));
    let open = open_of(conn, req)?;
    if open.granted_access & access::FILE_READ_DATA == 0 {
        return Err(NtStatus::ACCESS_DENIED.into());
    }
    let path = current_path.unwrap_or_else(|| open.path.clone());
    let OpenKind::Directory { handle, enumeration } = &mut open.kind else {
        return Err(NtStatus::INVALID_PARAMETER.into());
    };
    let restart = request.flags & (query_directory_flags::RESTART_SCANS | query_directory_flags::REOPEN) != 0;
    if restart || !enumeration.started {
        let pattern = if request.pattern.is_empty() { "*".to_owned() } else { request.pattern.clone() };
        if pattern.contains(['\\', '/']) || pattern.chars().any(|c| c < ' ') {
            return Err(NtStatus::OBJECT_NAME_INVALID.into());
        }
        let matching: Vec<String> = if is_wildcard(&pattern) || pattern == "." || pattern == ".." {
            let mut names = root.names(&path)?;
            names.sort_by_cached_key(|name| name.to_lowercase());
            names.insert(0, "..".to_owned());
            names.insert(0, ".".to_owned());
            names.into_iter().filter(|name| matches(&pattern, name)).collect()
        } else {
            // One name, no wildcard (what clients send to check a file before deleting or
            // renaming it): looked up directly instead of listing the whole directory.
            let found = match crate::vfs::path::check_component(&pattern) {
                Ok(()) => root.resolve(&path.join(&pattern)).ok().flatten(),
                Err(_) => None,
            };
            found.and_then(|f| f.path.file_name().map(str::to_owned)).into_iter().collect()
        };
        *enumeration = Enumeration { names: matching, position: 0, started: true };
        if enumeration.names.is_empty() {
            return Err(NtStatus::NO_SUCH_FILE.into());
        }
    }
    if enumeration.position >= enumeration.names.len() {
        return Err(NtStatus::NO_MORE_FILES.into());
    }
    let space = request.output_buffer_length as usize;
    let mut buffer = Writer::with_capacity(space.min(1 << 20));
    let mut last_entry = None;
    while enumeration.position < enumeration.names.len() {
        let name = &enumeration.names[enumeration.position];
        let meta = match name.as_str() {
            "." => local::meta_of(handle.as_fd()),
            ".." => path.parent().map_or_else(|| local::meta_of(handle.as_fd()), |parent| root.meta(&parent)),
            _ => root.meta(&path.join(name)),
        };
        let Ok(meta) = meta else {
            // Gone since the enumeration began (or a link leading outside the share).
            enumeration.position += 1;
            continue;
        };
        let meta = &meta;
        let start = buffer.len().next_multiple_of(8);
        if start > space {
            break;
        }
        let mut entry = Writer::new();
        if !fscc::directory_entry(class, name, meta, 0, space - start, &mut entry)? {
            break;
        }
        buffer.align(8);
        if let Some(previous) = last_entry {
            buffer.patch_u32(previous, (start - previous) as u32);
        }
        buffer.bytes(entry.as_slice());
        last_entry = Some(start);
        enumeration.position += 1;
        if request.flags & query_directory_flags::RETURN_SINGLE_ENTRY != 0 {
            break;
        }
    }
    if last_entry.is_none() {
        if enumeration.position >= enumeration.names.len() {
            return Err(NtStatus::NO_MORE_FILES.into());
        }
        // Not even one entry fits the client's buffer.
        return Err(NtStatus::INFO_LENGTH_MISMATCH.into());
    }
    QueryDirectoryResponse { buffer: buffer.into_vec() }.encode(out);
    Outcome::ok()
}

/// Whether a pattern holds any of the wildcards [`matches`] knows.
fn is_wildcard(pattern: &str) -> bool {
    pattern.contains(['*', '?', '<', '>', '"'])
}

/// MS-FSA 2.1.4.4 IsNameInExpression, without regard to case: `*` and `?`, and the DOS
/// wildcards `<` (DOS_STAR), `>` (DOS_QM) and `"` (DOS_DOT) that Windows clients send.
pub(crate) fn matches(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.to_lowercase().chars().collect();
    let name: Vec<char> = name.to_lowercase().chars().collect();
    if pattern == ['*'] || pattern == ['*', '.', '*'] && !name.is_empty() {
        return true;
    }
    matches_at(&pattern, &name)
}

fn matches_at(pattern: &[char], name: &[char]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some(('*', rest)) => (0..=name.len()).any(|i| matches_at(rest, &name[i..])),
        Some(('<', rest)) => {
            // Zero or more characters, but never past the name's last dot.
            let limit = name.iter().rposition(|&c| c == '.').unwrap_or(name.len());
            (0..=limit).any(|i| matches_at(rest, &name[i..]))
        }
        Some(('?', rest)) => !name.is_empty() && matches_at(rest, &name[1..]),
        Some(('>', rest)) => {
            // Any one character, or nothing at a dot or the end.
            (!name.is_empty() && name[0] != '.' && matches_at(rest, &name[1..])) || matches_at(rest, name)
        }
        Some(('"', rest)) => {
            // A dot, or nothing at the end of the name.
            (name.first() == Some(&'.') && matches_at(rest, &name[1..])) || (name.is_empty() && matches_at(rest, name))
        }
        Some((c, rest)) => name.first() == Some(c) && matches_at(rest, &name[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn star_and_question_mark_match_as_on_windows() {
        assert!(matches("*", "anything.txt"));
        assert!(matches("*.txt", "Notes.TXT"));
        assert!(!matches("*.txt", "notes.txt.bak"));
        assert!(matches("file?.log", "file1.log"));
        assert!(!matches("file?.log", "file10.log"));
        assert!(matches("exact-name", "EXACT-NAME"));
        assert!(!matches("exact-name", "exact-name2"));
    }

    #[test]
    fn dos_wildcards_match_what_windows_clients_mean() {
        assert!(matches("<.txt", "a.txt"));
        assert!(matches("a>>>", "a"));
        assert!(matches("a\"txt", "a.txt"));
    }
}
