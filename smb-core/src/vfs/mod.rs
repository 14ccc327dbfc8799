//! Shares on local directories: name rules and confinement ([`path`]), and the file operations
//! the engine performs beneath a share's root ([`local`]).

pub(crate) mod local;
pub(crate) mod path;

pub(crate) use local::{OpenMode, ShareRoot};
pub(crate) use path::SharePath;
