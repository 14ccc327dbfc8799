//! Who is looking at the console: roles, the signed-in viewer, and what every page needs first.

use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

/// What a console account may do. Readers see everything and change nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Reader,
}

impl Role {
    pub const ALL: [Role; 2] = [Role::Admin, Role::Reader];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Reader => "reader",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::Reader => "Reader",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = AppError;

    fn from_str(text: &str) -> AppResult<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "admin" | "administrator" => Ok(Role::Admin),
            "reader" => Ok(Role::Reader),
            _ => Err(AppError::invalid("role", "Choose a role: admin or reader.")),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The signed-in console user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub name: String,
    pub role: Role,
}

impl Viewer {
    pub fn can_change(&self) -> bool {
        self.role == Role::Admin
    }
}

/// What every page needs before it renders: whether setup is pending and who is signed in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleState {
    pub server_name: String,
    pub setup_needed: bool,
    /// Creating the first administrator needs the setup token printed in the server's log.
    pub setup_token_required: bool,
    pub viewer: Option<Viewer>,
}
