//! SMB users as the console shows them, the lockout policy, and the equivalent command lines.

use serde::{Deserialize, Serialize};

use crate::model::shell_word;

/// As `backend::smb::MIN_SMB_PASSWORD_CHARS`, which the browser cannot see.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// An SMB user as the Users page shows it: never its password or hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub name: String,
    pub enabled: bool,
    /// Locked out now, as the running engine or the database says.
    pub locked_out: bool,
    /// RFC 3339, UTC, when the lockout is known to end.
    pub locked_until: Option<String>,
    pub created_at: String,
    pub password_changed_at: String,
}

/// The account lockout policy (settings `lockout_threshold`, `lockout_window_seconds`,
/// `lockout_duration_seconds`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockoutPolicyView {
    /// Failed sign-ins that lock an account; 0: never.
    pub threshold: String,
    pub window_seconds: String,
    pub duration_seconds: String,
}

/// The policy's form fields with the setting each one stores.
pub const POLICY_FIELDS: [(&str, &str); 3] = [
    ("threshold", "lockout_threshold"),
    ("window_seconds", "lockout_window_seconds"),
    ("duration_seconds", "lockout_duration_seconds"),
];

pub fn user_command(action: &str, name: &str) -> String {
    format!("edgeshare user {action} {}", shell_word(name))
}

/// Passwords go through standard input so that they stay out of shell history and `ps`.
pub fn password_command(action: &str, name: &str) -> String {
    format!("edgeshare user {action} {} --password-stdin", shell_word(name))
}

pub fn setting_command(key: &str, value: &str) -> String {
    format!("edgeshare settings set {key} {}", shell_word(value.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_quote_names_and_keep_passwords_off_the_command_line() {
        assert_eq!(user_command("unlock", "bob"), "edgeshare user unlock bob");
        assert_eq!(user_command("remove", "Sales Bot"), "edgeshare user remove 'Sales Bot'");
        assert_eq!(password_command("add", "alice"), "edgeshare user add alice --password-stdin");
        assert_eq!(setting_command("lockout_threshold", " 3 "), "edgeshare settings set lockout_threshold 3");
    }
}
