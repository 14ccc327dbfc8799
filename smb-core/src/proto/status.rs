//! NT status codes (MS-ERREF 2.3), the SMB error channel. A newtype over the wire value: codes
//! this table does not name are kept and printed in hex, never rejected.

use std::fmt;

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct NtStatus(pub u32);

macro_rules! statuses {
    ($($name:ident = $value:literal,)*) => {
        impl NtStatus {
            $(pub const $name: NtStatus = NtStatus($value);)*

            /// The symbolic name, when this table has one.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some(stringify!($name)),)*
                    _ => None,
                }
            }
        }
    };
}

statuses! {
    SUCCESS = 0x0000_0000,
    PENDING = 0x0000_0103,
    NOTIFY_CLEANUP = 0x0000_010B,
    NOTIFY_ENUM_DIR = 0x0000_010C,
    BUFFER_OVERFLOW = 0x8000_0005,
    NO_MORE_FILES = 0x8000_0006,
    STOPPED_ON_SYMLINK = 0x8000_002D,
    UNSUCCESSFUL = 0xC000_0001,
    NOT_IMPLEMENTED = 0xC000_0002,
    INVALID_INFO_CLASS = 0xC000_0003,
    INFO_LENGTH_MISMATCH = 0xC000_0004,
    INVALID_HANDLE = 0xC000_0008,
    INVALID_PARAMETER = 0xC000_000D,
    NO_SUCH_DEVICE = 0xC000_000E,
    NO_SUCH_FILE = 0xC000_000F,
    INVALID_DEVICE_REQUEST = 0xC000_0010,
    END_OF_FILE = 0xC000_0011,
    MORE_PROCESSING_REQUIRED = 0xC000_0016,
    NO_MEMORY = 0xC000_0017,
    ACCESS_DENIED = 0xC000_0022,
    BUFFER_TOO_SMALL = 0xC000_0023,
    OBJECT_NAME_INVALID = 0xC000_0033,
    OBJECT_NAME_NOT_FOUND = 0xC000_0034,
    OBJECT_NAME_COLLISION = 0xC000_0035,
    OBJECT_PATH_INVALID = 0xC000_0039,
    OBJECT_PATH_NOT_FOUND = 0xC000_003A,
    OBJECT_PATH_SYNTAX_BAD = 0xC000_003B,
    SHARING_VIOLATION = 0xC000_0043,
    EAS_NOT_SUPPORTED = 0xC000_004F,
    EA_TOO_LARGE = 0xC000_0050,
    NONEXISTENT_EA_ENTRY = 0xC000_0051,
    NO_EAS_ON_FILE = 0xC000_0052,
    DELETE_PENDING = 0xC000_0056,
    PRIVILEGE_NOT_HELD = 0xC000_0061,
    LOGON_FAILURE = 0xC000_006D,
    TIME_DIFFERENCE_AT_DC = 0xC000_0133,
    ACCOUNT_RESTRICTION = 0xC000_006E,
    PASSWORD_EXPIRED = 0xC000_0071,
    ACCOUNT_DISABLED = 0xC000_0072,
    NONE_MAPPED = 0xC000_0073,
    RANGE_NOT_LOCKED = 0xC000_007E,
    DISK_FULL = 0xC000_007F,
    FILE_LOCK_CONFLICT = 0xC000_0054,
    LOCK_NOT_GRANTED = 0xC000_0055,
    INSUFFICIENT_RESOURCES = 0xC000_009A,
    FILE_IS_A_DIRECTORY = 0xC000_00BA,
    NOT_SUPPORTED = 0xC000_00BB,
    NETWORK_NAME_DELETED = 0xC000_00C9,
    NETWORK_ACCESS_DENIED = 0xC000_00CA,
    BAD_NETWORK_NAME = 0xC000_00CC,
    REQUEST_NOT_ACCEPTED = 0xC000_00D0,
    REQUEST_OUT_OF_SEQUENCE = 0xC000_042A,
    INTERNAL_ERROR = 0xC000_00E5,
    IO_DEVICE_ERROR = 0xC000_0185,
    DIRECTORY_NOT_EMPTY = 0xC000_0101,
    NOT_A_DIRECTORY = 0xC000_0103,
    NAME_TOO_LONG = 0xC000_0106,
    FILES_OPEN = 0xC000_0107,
    CANCELLED = 0xC000_0120,
    CANNOT_DELETE = 0xC000_0121,
    FILE_DELETED = 0xC000_0123,
    FILE_CLOSED = 0xC000_0128,
    INVALID_LEVEL = 0xC000_0148,
    PIPE_BROKEN = 0xC000_014B,
    PIPE_EMPTY = 0xC000_00D9,
    INVALID_VIEW_SIZE = 0xC000_001F,
    USER_SESSION_DELETED = 0xC000_0203,
    CONNECTION_DISCONNECTED = 0xC000_020C,
    CONNECTION_RESET = 0xC000_020D,
    NOT_FOUND = 0xC000_0225,
    ACCOUNT_LOCKED_OUT = 0xC000_0234,
    FS_DRIVER_REQUIRED = 0xC000_019C,
    NETWORK_SESSION_EXPIRED = 0xC000_035C,
    INVALID_DEVICE_STATE = 0xC000_0184,
    NOT_A_REPARSE_POINT = 0xC000_0275,
    DUPLICATE_OBJECTID = 0xC000_022A,
    FILE_NOT_AVAILABLE = 0xC000_0467,
    OBJECTID_NOT_FOUND = 0xC000_02F0,
    BAD_IMPERSONATION_LEVEL = 0xC000_00A5,
    INVALID_NETWORK_RESPONSE = 0xC000_00C3,
    USER_MAPPED_FILE = 0xC000_0243,
    TOO_MANY_OPENED_FILES = 0xC000_011F,
    REQUEST_ABORTED = 0xC000_0240,
    NOT_SAME_DEVICE = 0xC000_00D4,
    SMB_NO_PREAUTH_INTEGRITY_HASH_OVERLAP = 0xC05D_0000,
    SMB_BAD_CLUSTER_DIALECT = 0xC05D_0001,
    INVALID_OPLOCK_PROTOCOL = 0xC000_00E3,
    INVALID_LOCK_RANGE = 0xC000_01A1,
    EA_LIST_INCONSISTENT = 0x8000_0014,
    INVALID_EA_NAME = 0x8000_0013,
    BAD_NETWORK_PATH = 0xC000_00BE,
    INVALID_SID = 0xC000_0078,
    INVALID_ACL = 0xC000_0077,
    INVALID_SECURITY_DESCR = 0xC000_0079,
    SHARING_PAUSED = 0xC000_00CF,
    PIPE_DISCONNECTED = 0xC000_00B0,
    PIPE_NOT_AVAILABLE = 0xC000_00AC,
    IO_TIMEOUT = 0xC000_00B5,
    INVALID_SMB = 0x0001_0002,
}

impl NtStatus {
    /// Severity "error" (top two bits 11): the response carries an error body, not the command's.
    pub fn is_error(self) -> bool {
        self.0 >> 30 == 0b11
    }

    /// Severity "warning" (top two bits 10): the command's body follows, e.g. BUFFER_OVERFLOW.
    pub fn is_warning(self) -> bool {
        self.0 >> 30 == 0b10
    }
}

impl fmt::Debug for NtStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "STATUS_{name}"),
            None => write!(f, "NtStatus({:#010x})", self.0),
        }
    }
}

impl fmt::Display for NtStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_print_their_names_and_unknown_ones_print_hex() {
        assert_eq!(NtStatus::ACCESS_DENIED.to_string(), "STATUS_ACCESS_DENIED");
        assert_eq!(NtStatus(0xC0DE_0001).to_string(), "NtStatus(0xc0de0001)");
    }

    #[test]
    fn severity_is_read_from_the_top_bits() {
        assert!(NtStatus::LOGON_FAILURE.is_error());
        assert!(NtStatus::BUFFER_OVERFLOW.is_warning());
        assert!(!NtStatus::PENDING.is_error());
    }
}
