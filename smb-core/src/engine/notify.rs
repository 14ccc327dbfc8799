//! CHANGE_NOTIFY watches (MS-SMB2 3.3.5.19, MS-FSA 2.1.5.10): changes the engine makes are
//! recorded for every watch of the directory (or of an ancestor, for tree watches) and handed to
//! the watch's pending request, or kept until the next one.

use crate::engine::config::same_name;
use crate::engine::files::OpenRef;
use crate::engine::ids::{AsyncId, Waiter};
use crate::proto::change_notify::FileNotifyInformation;
use crate::vfs::SharePath;

/// Most changes kept per watch between requests; more and the client is told to re-read the
/// directory (STATUS_NOTIFY_ENUM_DIR).
const MAX_BUFFERED: usize = 1024;

#[derive(Debug)]
pub(crate) struct Watch {
    pub owner: OpenRef,
    pub share: String,
    pub directory: SharePath,
    pub tree: bool,
    pub filter: u32,
    pub changes: Vec<FileNotifyInformation>,
    pub overflowed: bool,
    /// The async id of the request waiting on this watch.
    pub pending: Option<AsyncId>,
}

#[derive(Debug, Default)]
pub(crate) struct Watches {
    watches: Vec<Watch>,
}

/// A change, as the handlers report it.
#[derive(Clone, Debug)]
pub struct Change<'a> {
    pub share: &'a str,
    /// The changed entry's path.
    pub path: &'a SharePath,
    pub action: u32,
    /// The FILE_NOTIFY_CHANGE_* bits it concerns.
    pub filter: u32,
}

impl Watches {
    pub(crate) fn find_mut(&mut self, owner: OpenRef) -> Option<&mut Watch> {
        self.watches.iter_mut().find(|w| w.owner == owner)
    }

    pub(crate) fn add(&mut self, watch: Watch) {
        self.watches.push(watch);
    }

    pub(crate) fn remove(&mut self, owner: OpenRef) -> Option<Watch> {
        let index = self.watches.iter().position(|w| w.owner == owner)?;
        Some(self.watches.swap_remove(index))
    }

    /// Records a change; returns the requests now ready to complete.
    pub(crate) fn record(&mut self, change: &Change<'_>) -> Vec<Waiter> {
        let Some(parent) = change.path.parent() else { return Vec::new() };
        let mut ready = Vec::new();
        for watch in &mut self.watches {
            if !same_name(&watch.share, change.share) || watch.filter & change.filter == 0 {
                continue;
            }
            let relative = if parent == watch.directory {
                change.path.file_name().unwrap_or_default().to_owned()
            } else if watch.tree && parent.starts_with(&watch.directory) {
                change.path.components()[watch.directory.components().len()..].join("\\")
            } else {
                continue;
            };
            if watch.changes.len() >= MAX_BUFFERED {
                watch.overflowed = true;
            } else {
                watch.changes.push(FileNotifyInformation { action: change.action, name: relative });
            }
            if let Some(async_id) = watch.pending {
                ready.push(Waiter { connection: watch.owner.connection, async_id });
            }
        }
        ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ids::ConnectionId;
    use crate::proto::change_notify::{action, filter};

    fn watch(directory: &str, tree: bool) -> Watch {
        Watch {
            owner: OpenRef { connection: ConnectionId(1), volatile: 1 },
            share: "s".into(),
            directory: SharePath::parse(directory).unwrap(),
            tree,
            filter: filter::FILE_NAME,
            changes: Vec::new(),
            overflowed: false,
            pending: Some(AsyncId(9)),
        }
    }

    #[test]
    fn a_watch_sees_changes_in_its_directory_by_relative_name() {
        let mut watches = Watches::default();
        watches.add(watch("dir", false));
        let path = SharePath::parse("dir\\new.txt").unwrap();
        let ready =
            watches.record(&Change { share: "s", path: &path, action: action::ADDED, filter: filter::FILE_NAME });
        assert_eq!(ready, vec![Waiter { connection: ConnectionId(1), async_id: AsyncId(9) }]);
        let owner = OpenRef { connection: ConnectionId(1), volatile: 1 };
        assert_eq!(watches.find_mut(owner).unwrap().changes[0].name, "new.txt");
    }

    #[test]
    fn only_tree_watches_see_changes_below_their_directory() {
        let mut watches = Watches::default();
        watches.add(watch("", false));
        let path = SharePath::parse("dir\\deep.txt").unwrap();
        assert!(
            watches
                .record(&Change { share: "s", path: &path, action: action::ADDED, filter: filter::FILE_NAME })
                .is_empty()
        );
        let mut watches = Watches::default();
        watches.add(watch("", true));
        watches.record(&Change { share: "s", path: &path, action: action::ADDED, filter: filter::FILE_NAME });
        let owner = OpenRef { connection: ConnectionId(1), volatile: 1 };
        assert_eq!(watches.find_mut(owner).unwrap().changes[0].name, "dir\\deep.txt");
    }

    #[test]
    fn changes_outside_the_filter_are_ignored() {
        let mut watches = Watches::default();
        watches.add(watch("", false));
        let path = SharePath::parse("a").unwrap();
        assert!(
            watches
                .record(&Change { share: "s", path: &path, action: action::MODIFIED, filter: filter::SIZE })
                .is_empty()
        );
    }
}
