//! Shares on local directories: name rules and confinement ([`path`]), and the file operations
//! the engine performs beneath a share's root ([`local`]).

pub mod local;
pub mod path;

pub use local::{OpenMode, ShareRoot};
pub use path::SharePath;
