//! Shares as the console and the command line see them: the list, the form that creates or
//! changes one, a change to some of a share's settings (`edgeshare share set`), and the command
//! lines that do what the form does.

use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use crate::model::shell_word;

/// The pseudo-user that covers every SMB user (smb_core's `EVERYONE`, which the browser lacks).
pub const EVERYONE: &str = "Everyone";
/// Windows shows share remarks in one line; longer ones are cut off by clients anyway.
pub const MAX_DESCRIPTION_CHARS: usize = 256;

/// A share permission, as the console and the database spell it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessLevel {
    Full,
    Change,
    Read,
    /// No access: wins over every other entry, as a Windows share's Deny does.
    Deny,
}

impl AccessLevel {
    pub const ALL: [AccessLevel; 4] = [AccessLevel::Full, AccessLevel::Change, AccessLevel::Read, AccessLevel::Deny];

    pub fn as_str(self) -> &'static str {
        match self {
            AccessLevel::Full => "full",
            AccessLevel::Change => "change",
            AccessLevel::Read => "read",
            AccessLevel::Deny => "deny",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AccessLevel::Full => "Full",
            AccessLevel::Change => "Change",
            AccessLevel::Read => "Read",
            AccessLevel::Deny => "No access",
        }
    }

    pub fn parse(text: &str) -> Option<AccessLevel> {
        AccessLevel::ALL.into_iter().find(|level| level.as_str() == text)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permission {
    /// An SMB user's name, or `Everyone`.
    pub principal: String,
    pub access: AccessLevel,
}

/// A share as the Shares page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareSummary {
    pub name: String,
    pub path: String,
    pub description: String,
    pub permissions: Vec<Permission>,
    pub encrypt_data: bool,
    pub access_based_enumeration: bool,
    pub max_users: Option<u32>,
    /// Continuously available: persistent handles that survive a restart of the server.
    #[serde(default)]
    pub continuous_availability: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
}

/// What the share form sends: the same for a new share and a changed one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ShareForm {
    pub name: String,
    pub path: String,
    pub description: String,
    pub permissions: Vec<Permission>,
    pub encrypt_data: bool,
    pub access_based_enumeration: bool,
    /// Empty for no limit.
    pub max_users: String,
    pub continuous_availability: bool,
}

impl ShareForm {
    pub fn from_summary(share: &ShareSummary) -> ShareForm {
        ShareForm {
            name: share.name.clone(),
            path: share.path.clone(),
            description: share.description.clone(),
            permissions: share.permissions.clone(),
            encrypt_data: share.encrypt_data,
            access_based_enumeration: share.access_based_enumeration,
            max_users: share.max_users.map(|n| n.to_string()).unwrap_or_default(),
            continuous_availability: share.continuous_availability,
        }
    }

    /// The share's settings in one line, for the audit log and the command line.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> =
            self.permissions.iter().map(|p| format!("{}: {}", p.principal, p.access.as_str())).collect();
        if self.encrypt_data {
            parts.push("encrypted".into());
        }
        if self.access_based_enumeration {
            parts.push("access-based enumeration".into());
        }
        if !self.max_users.trim().is_empty() {
            parts.push(format!("at most {} users", self.max_users.trim()));
        }
        if self.continuous_availability {
            parts.push("continuously available".into());
        }
        format!("{}; {}", self.path.trim(), parts.join(", "))
    }
}

/// A change to some of a share's settings; what is `None` (or empty) stays as it is. The
/// command line's `edgeshare share set`, applied as one transaction like the console's edit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareEdit {
    pub rename: Option<String>,
    pub path: Option<String>,
    pub description: Option<String>,
    /// Entries to add, or to change for a principal already listed.
    pub grant: Vec<Permission>,
    /// Principals whose entries go.
    pub revoke: Vec<String>,
    pub encrypt_data: Option<bool>,
    pub access_based_enumeration: Option<bool>,
    /// `Some("")`: no limit.
    pub max_users: Option<String>,
    #[serde(default)]
    pub continuous_availability: Option<bool>,
}

impl ShareEdit {
    /// Whether the edit changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == ShareEdit::default()
    }

    /// The edit that turns `before` into `after` (principals compared as written: both come from
    /// the stored list).
    pub fn between(before: &ShareForm, after: &ShareForm) -> ShareEdit {
        let changed = |a: &str, b: &str| (a.trim() != b.trim()).then(|| b.trim().to_owned());
        ShareEdit {
            rename: changed(&before.name, &after.name),
            path: changed(&before.path, &after.path),
            description: changed(&before.description, &after.description),
            grant: after.permissions.iter().filter(|p| !before.permissions.contains(p)).cloned().collect(),
            revoke: before
                .permissions
                .iter()
                .filter(|p| !after.permissions.iter().any(|q| q.principal == p.principal))
                .map(|p| p.principal.clone())
                .collect(),
            encrypt_data: (before.encrypt_data != after.encrypt_data).then_some(after.encrypt_data),
            access_based_enumeration: (before.access_based_enumeration != after.access_based_enumeration)
                .then_some(after.access_based_enumeration),
            max_users: changed(&before.max_users, &after.max_users),
            continuous_availability: (before.continuous_availability != after.continuous_availability)
                .then_some(after.continuous_availability),
        }
    }

    /// `form` with this edit made; `same` tells whether two principals are one (the server's
    /// folding rule). An entry revoked and granted in one edit is granted.
    pub fn apply(&self, form: &ShareForm, same: impl Fn(&str, &str) -> bool) -> ShareForm {
        let mut form = form.clone();
        let set = |field: &mut String, value: &Option<String>| {
            if let Some(value) = value {
                *field = value.clone();
            }
        };
        set(&mut form.name, &self.rename);
        set(&mut form.path, &self.path);
        set(&mut form.description, &self.description);
        set(&mut form.max_users, &self.max_users);
        form.permissions.retain(|p| !self.revoke.iter().any(|r| same(r.trim(), &p.principal)));
        for grant in &self.grant {
            match form.permissions.iter_mut().find(|p| same(&p.principal, grant.principal.trim())) {
                Some(entry) => entry.access = grant.access,
                None => form.permissions.push(Permission { principal: grant.principal.trim().to_owned(), ..*grant }),
            }
        }
        form.encrypt_data = self.encrypt_data.unwrap_or(form.encrypt_data);
        form.access_based_enumeration = self.access_based_enumeration.unwrap_or(form.access_based_enumeration);
        form.continuous_availability = self.continuous_availability.unwrap_or(form.continuous_availability);
        form
    }
}

/// The concurrent user limit: empty for none, otherwise a whole number of at least one.
pub fn check_max_users(text: &str) -> AppResult<Option<u32>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<u32>() {
        Ok(n) if n >= 1 => Ok(Some(n)),
        _ => Err(AppError::invalid(
            "max_users",
            format!("Enter a whole number from 1 to {}, or leave it empty for no limit.", u32::MAX),
        )),
    }
}

pub fn check_description(text: &str) -> AppResult<&str> {
    let text = text.trim();
    if text.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(AppError::invalid("description", format!("Use at most {MAX_DESCRIPTION_CHARS} characters.")));
    }
    if text.chars().any(char::is_control) {
        return Err(AppError::invalid("description", "Use one line of text."));
    }
    Ok(text)
}

fn on_off(value: bool) -> &'static str {
    if value { "on" } else { "off" }
}

/// The `edgeshare share add` command that creates `share` as the form describes it.
pub fn add_command(share: &ShareForm) -> String {
    let mut words = vec![
        "edgeshare".to_owned(),
        "share".into(),
        "add".into(),
        shell_word(share.name.trim()),
        shell_word(share.path.trim()),
    ];
    for permission in &share.permissions {
        words.push(format!("--{}", permission.access.as_str()));
        words.push(shell_word(&permission.principal));
    }
    if share.encrypt_data {
        words.push("--encrypt".into());
    }
    if share.access_based_enumeration {
        words.push("--access-based-enumeration".into());
    }
    if share.continuous_availability {
        words.push("--continuous-availability".into());
    }
    if !share.max_users.trim().is_empty() {
        words.push("--max-users".into());
        words.push(shell_word(share.max_users.trim()));
    }
    if !share.description.trim().is_empty() {
        words.push("--description".into());
        words.push(shell_word(share.description.trim()));
    }
    words.join(" ")
}

/// The `edgeshare share set` command that makes `edit` to the share named `name`.
pub fn set_command(name: &str, edit: &ShareEdit) -> String {
    let mut words = vec!["edgeshare".to_owned(), "share".into(), "set".into(), shell_word(name.trim())];
    let mut option = |flag: &str, value: &str| {
        words.push(format!("--{flag}"));
        words.push(shell_word(value));
    };
    if let Some(name) = &edit.rename {
        option("rename", name);
    }
    if let Some(path) = &edit.path {
        option("path", path);
    }
    if let Some(description) = &edit.description {
        option("description", description);
    }
    for principal in &edit.revoke {
        option("revoke", principal);
    }
    for permission in &edit.grant {
        option(permission.access.as_str(), &permission.principal);
    }
    if let Some(encrypt) = edit.encrypt_data {
        option("encrypt", on_off(encrypt));
    }
    if let Some(abe) = edit.access_based_enumeration {
        option("access-based-enumeration", on_off(abe));
    }
    if let Some(ca) = edit.continuous_availability {
        option("continuous-availability", on_off(ca));
    }
    if let Some(max) = &edit.max_users {
        option("max-users", if max.trim().is_empty() { "unlimited" } else { max.trim() });
    }
    words.join(" ")
}

pub fn remove_command(name: &str) -> String {
    format!("edgeshare share remove {}", shell_word(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn permission(principal: &str, access: AccessLevel) -> Permission {
        Permission { principal: principal.into(), access }
    }

    fn projects() -> ShareForm {
        ShareForm {
            name: "projects".into(),
            path: "/srv/projects".into(),
            description: "Project files".into(),
            permissions: vec![
                permission("alice", AccessLevel::Full),
                permission("carol", AccessLevel::Change),
                permission(EVERYONE, AccessLevel::Read),
            ],
            encrypt_data: false,
            access_based_enumeration: true,
            max_users: "5".into(),
            continuous_availability: false,
        }
    }

    #[test]
    fn the_add_command_carries_every_choice_of_the_form() {
        let form = ShareForm {
            name: "Sales Team".into(),
            path: "/srv/sales".into(),
            description: "Quarterly numbers".into(),
            permissions: vec![
                permission("alice", AccessLevel::Change),
                permission(EVERYONE, AccessLevel::Read),
                permission("mallory", AccessLevel::Deny),
            ],
            encrypt_data: true,
            access_based_enumeration: true,
            max_users: "5".into(),
            continuous_availability: false,
        };
        assert_eq!(
            add_command(&form),
            "edgeshare share add 'Sales Team' /srv/sales --change alice --read Everyone --deny mallory --encrypt \
             --access-based-enumeration --max-users 5 --description 'Quarterly numbers'"
        );
    }

    #[test]
    fn an_edit_between_two_forms_turns_the_first_into_the_second() {
        let before = projects();
        let mut after = projects();
        after.name = "archive".into();
        after.description = "Read-only archive".into();
        after.permissions = vec![permission("carol", AccessLevel::Read), permission("bob", AccessLevel::Deny)];
        after.encrypt_data = true;
        after.access_based_enumeration = false;
        after.max_users = String::new();
        let edit = ShareEdit::between(&before, &after);
        assert_eq!(edit.path, None);
        assert_eq!(edit.revoke, vec!["alice".to_owned(), EVERYONE.to_owned()]);
        assert_eq!(edit.apply(&before, |a, b| a == b), after);
        assert_eq!(
            set_command("projects", &edit),
            "edgeshare share set projects --rename archive --description 'Read-only archive' --revoke alice \
             --revoke Everyone --read carol --deny bob --encrypt on --access-based-enumeration off --max-users unlimited"
        );
        assert!(ShareEdit::between(&before, &before).is_empty());
    }

    #[test]
    fn a_grant_replaces_the_entry_of_the_same_principal_and_keeps_the_others() {
        let edit = ShareEdit { grant: vec![permission("ALICE", AccessLevel::Read)], ..ShareEdit::default() };
        let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        let changed = edit.apply(&projects(), same);
        assert_eq!(changed.permissions[0], permission("alice", AccessLevel::Read));
        assert_eq!(changed.permissions[1..], projects().permissions[1..]);
    }

    #[test]
    fn the_user_limit_is_empty_or_a_positive_whole_number() {
        assert_eq!(check_max_users(" ").unwrap(), None);
        assert_eq!(check_max_users("12").unwrap(), Some(12));
        for bad in ["0", "-1", "1.5", "many", "99999999999"] {
            assert!(check_max_users(bad).unwrap_err().for_field("max_users").is_some(), "{bad:?}");
        }
    }

    #[test]
    fn descriptions_are_one_line_of_bounded_length() {
        assert_eq!(check_description("  Sales  ").unwrap(), "Sales");
        assert!(check_description("two\nlines").is_err());
        assert!(check_description(&"x".repeat(MAX_DESCRIPTION_CHARS + 1)).is_err());
    }

    #[test]
    fn access_levels_round_trip_through_their_names() {
        for level in AccessLevel::ALL {
            assert_eq!(AccessLevel::parse(level.as_str()), Some(level));
        }
        assert_eq!(AccessLevel::Deny.label(), "No access");
    }
}
