//! Console accounts: their names, password rules and what the Accounts page lists.

use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use crate::model::auth::Role;

pub const MIN_PASSWORD_CHARS: usize = 10;

pub const MAX_PASSWORD_BYTES: usize = 1024;

pub const MAX_NAME_CHARS: usize = 64;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSummary {
    pub name: String,
    pub role: Role,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub last_sign_in_at: Option<String>,
}

/// Account names: letters, digits, `.`, `_` and `-`, starting with a letter or digit.
/// Compared without regard to case, like Windows account names.
pub fn check_account_name(name: &str) -> AppResult<&str> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::invalid("name", "Enter an account name."));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::invalid("name", format!("Use at most {MAX_NAME_CHARS} characters.")));
    }
    if !name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric()) {
        return Err(AppError::invalid("name", "Start the name with a letter or a digit."));
    }
    if let Some(bad) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))) {
        return Err(AppError::invalid(
            "name",
            format!("'{bad}' is not allowed: use letters, digits, '.', '_' and '-'."),
        ));
    }
    Ok(name)
}

/// Console passwords: at least ten characters, typed the same twice.
pub fn check_new_password(password: &str, confirm: &str) -> AppResult<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AppError::invalid("password", format!("Use at least {MIN_PASSWORD_CHARS} characters.")));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AppError::invalid("password", format!("Use at most {MAX_PASSWORD_BYTES} bytes.")));
    }
    if password.trim().is_empty() {
        return Err(AppError::invalid("password", "The password cannot be only spaces."));
    }
    if password != confirm {
        return Err(AppError::invalid("confirm", "The two passwords differ."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_names_accept_windows_like_names() {
        assert_eq!(check_account_name("  alice.smith-2 ").unwrap(), "alice.smith-2");
    }

    #[test]
    fn account_names_refuse_empty_long_and_odd_characters() {
        for bad in ["", "   ", "-lead", "a b", "x/y", "élan", &"a".repeat(65)] {
            let error = check_account_name(bad).unwrap_err();
            assert!(error.for_field("name").is_some(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn passwords_must_be_long_enough_and_confirmed() {
        assert!(check_new_password("short", "short").unwrap_err().for_field("password").is_some());
        assert!(check_new_password("long enough pw", "other").unwrap_err().for_field("confirm").is_some());
        assert!(check_new_password("          ", "          ").is_err());
        check_new_password("long enough pw", "long enough pw").unwrap();
    }
}
