//! Names clients send, checked once: Windows name rules, and nothing that could leave the share.

use crate::proto::NtStatus;

/// A path inside a share, as validated components (never empty, `.`, `..`, or holding a
/// separator). The empty path is the share's root.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct SharePath {
    components: Vec<String>,
}

/// Longest component NTFS allows, in UTF-16 units.
pub(crate) const MAX_COMPONENT: usize = 255;

/// Characters Windows forbids in file names (MS-FSCC 2.1.5.2): controls and `"*/:<>?\|`.
fn forbidden(c: char) -> bool {
    c < ' ' || matches!(c, '"' | '*' | '/' | ':' | '<' | '>' | '?' | '\\' | '|')
}

/// DOS device names, which Windows never treats as files, with or without an extension.
fn is_device_name(component: &str) -> bool {
    let stem = component.split('.').next().unwrap_or("").trim_end().to_ascii_uppercase();
    matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$")
        || (stem.len() == 4
            && (stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.as_bytes()[3].is_ascii_digit()
            && stem.as_bytes()[3] != b'0')
}

/// Checks one component; the status is what a Windows server answers for the same name.
pub(crate) fn check_component(component: &str) -> Result<(), NtStatus> {
    if component.is_empty() || component == "." || component == ".." {
        return Err(NtStatus::OBJECT_NAME_INVALID);
    }
    if component.encode_utf16().count() > MAX_COMPONENT {
        return Err(NtStatus::OBJECT_NAME_INVALID);
    }
    if component.chars().any(forbidden) || is_device_name(component) {
        return Err(NtStatus::OBJECT_NAME_INVALID);
    }
    Ok(())
}

impl SharePath {
    pub fn root() -> SharePath {
        SharePath::default()
    }

    /// Parses the name of a CREATE (MS-SMB2 2.2.13: relative to the share, `\`-separated).
    /// A trailing `\` is tolerated (some clients send it for directories); the default data
    /// stream suffix `::$DATA` is the file itself; other streams are not offered.
    pub fn parse(name: &str) -> Result<SharePath, NtStatus> {
        if name.starts_with('\\') {
            return Err(NtStatus::INVALID_PARAMETER);
        }
        let name = name.strip_suffix(['\\', '/']).unwrap_or(name);
        if name.is_empty() {
            return Ok(SharePath::root());
        }
        let mut components = Vec::new();
        // Windows servers take '/' for '\\' in SMB2 paths (smbtorture's timestamps tests rely on it).
        let parts: Vec<&str> = name.split(['\\', '/']).collect();
        for (index, part) in parts.iter().enumerate() {
            let last = index + 1 == parts.len();
            let part = match part.split_once(':') {
                Some((file, stream)) if last && stream.eq_ignore_ascii_case(":$DATA") => file,
                Some((file, stream)) if last && !file.is_empty() && !stream.is_empty() => {
                    // Named streams: this server keeps none (like FAT).
                    return Err(NtStatus::OBJECT_NAME_INVALID);
                }
                _ => part,
            };
            if part.is_empty() && !last {
                return Err(NtStatus::OBJECT_NAME_INVALID);
            }
            if part == ".." {
                return Err(NtStatus::OBJECT_PATH_SYNTAX_BAD);
            }
            check_component(part)?;
            components.push(part.to_owned());
        }
        Ok(SharePath { components })
    }

    pub fn from_components(components: Vec<String>) -> SharePath {
        SharePath { components }
    }

    pub fn components(&self) -> &[String] {
        &self.components
    }

    pub fn is_root(&self) -> bool {
        self.components.is_empty()
    }

    pub fn parent(&self) -> Option<SharePath> {
        (!self.is_root()).then(|| SharePath { components: self.components[..self.components.len() - 1].to_vec() })
    }

    pub fn file_name(&self) -> Option<&str> {
        self.components.last().map(String::as_str)
    }

    pub fn join(&self, name: &str) -> SharePath {
        let mut components = self.components.clone();
        components.push(name.to_owned());
        SharePath { components }
    }

    /// Whether `self` is `other` or inside it.
    pub fn starts_with(&self, other: &SharePath) -> bool {
        self.components.len() >= other.components.len()
            && self.components.iter().zip(&other.components).all(|(a, b)| a.eq_ignore_ascii_case(b) || a == b)
    }

    /// The `/`-joined relative path for the operating system.
    pub fn to_relative(&self) -> String {
        if self.is_root() { ".".to_owned() } else { self.components.join("/") }
    }

    /// As Windows shows it: `dir\file`.
    pub fn to_windows(&self) -> String {
        self.components.join("\\")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_names_parse_into_components() {
        let path = SharePath::parse("dir\\sub dir\\file.txt").unwrap();
        assert_eq!(path.components(), ["dir", "sub dir", "file.txt"]);
        assert_eq!(path.to_relative(), "dir/sub dir/file.txt");
        assert!(SharePath::parse("").unwrap().is_root());
    }

    #[test]
    fn rejects_paths_that_would_escape_the_share_root() {
        assert_eq!(SharePath::parse("..\\etc\\passwd"), Err(NtStatus::OBJECT_PATH_SYNTAX_BAD));
        assert_eq!(SharePath::parse("a\\..\\..\\b"), Err(NtStatus::OBJECT_PATH_SYNTAX_BAD));
        assert_eq!(SharePath::parse("\\etc\\passwd"), Err(NtStatus::INVALID_PARAMETER));
        assert_eq!(SharePath::parse("a/../../b"), Err(NtStatus::OBJECT_PATH_SYNTAX_BAD), "'/' separates too");
        assert_eq!(SharePath::parse("dir/file").unwrap().components(), ["dir", "file"]);
        assert!(SharePath::parse("C:\\Windows").is_err());
    }

    #[test]
    fn windows_reserved_characters_are_invalid_names() {
        for name in ["a*b", "a?b", "a<b", "a>b", "a|b", "a\"b", "a\u{1}b", "."] {
            assert_eq!(SharePath::parse(name), Err(NtStatus::OBJECT_NAME_INVALID), "{name:?}");
        }
    }

    #[test]
    fn device_names_are_refused_with_or_without_extension() {
        for name in ["CON", "con.txt", "NUL", "com1", "LPT9.log", "dir\\aux"] {
            assert_eq!(SharePath::parse(name), Err(NtStatus::OBJECT_NAME_INVALID), "{name}");
        }
        for name in ["console", "com0", "lpt", "nully"] {
            assert!(SharePath::parse(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn empty_components_and_overlong_names_are_invalid() {
        assert_eq!(SharePath::parse("a\\\\b"), Err(NtStatus::OBJECT_NAME_INVALID));
        assert_eq!(SharePath::parse(&"x".repeat(256)), Err(NtStatus::OBJECT_NAME_INVALID));
        assert!(SharePath::parse(&"x".repeat(255)).is_ok());
    }

    #[test]
    fn the_default_data_stream_is_the_file_and_named_streams_are_refused() {
        assert_eq!(SharePath::parse("f.txt::$DATA").unwrap().components(), ["f.txt"]);
        assert_eq!(SharePath::parse("f.txt:secret"), Err(NtStatus::OBJECT_NAME_INVALID));
    }
}
