//! The one error type of every server function: it crosses the wire as JSON so that the page can
//! put a message next to the field it concerns.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// A form value was refused; `field` names the input it belongs to.
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// Not signed in, or the session expired.
    #[error("Sign in to continue.")]
    Unauthenticated,
    /// Signed in, but the role does not allow this action.
    #[error("Your role ({role}) cannot make changes. Ask an administrator.")]
    Forbidden { role: String },
    /// The request conflicts with the current state (for example, the name is taken).
    #[error("{0}")]
    Conflict(String),
    /// The thing asked for does not exist (any more).
    #[error("{0}")]
    NotFound(String),
    /// Too many attempts: try again after the given number of seconds.
    #[error("Too many failed attempts. Try again in {retry_after_seconds} seconds.")]
    Throttled { retry_after_seconds: u64 },
    /// The server has no room for this work now (password checks are limited to a few at once).
    #[error("The server is busy checking other passwords. Try again in {retry_after_seconds} seconds.")]
    Busy { retry_after_seconds: u64 },
    /// Something failed on the server; the details are in the server log, not here.
    #[error("The server could not complete the request ({0}). Details are in the server log.")]
    Internal(String),
    /// The request never reached the server function (network, encoding).
    #[error("The request failed: {0}")]
    Transport(String),
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid { field: field.to_owned(), message: message.into() }
    }

    /// The message for one form field, when this error is about that field.
    pub fn for_field(&self, name: &str) -> Option<&str> {
        match self {
            Self::Invalid { field, message } if field == name => Some(message),
            _ => None,
        }
    }

    /// The message for the top of a form: everything that is not tied to one field.
    pub fn form_message(&self) -> Option<String> {
        match self {
            Self::Invalid { .. } => None,
            other => Some(other.to_string()),
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        Self::Transport(value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        tracing::error!(%error, "database error");
        Self::Internal("database error".into())
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_are_shown_only_next_to_their_field() {
        let error = AppError::invalid("name", "Name is required.");
        assert_eq!(error.for_field("name"), Some("Name is required."));
        assert_eq!(error.for_field("password"), None);
        assert_eq!(error.form_message(), None);
    }

    #[test]
    fn errors_survive_the_json_round_trip() {
        let error = AppError::Throttled { retry_after_seconds: 30 };
        let json = serde_json::to_string(&error).unwrap();
        assert_eq!(serde_json::from_str::<AppError>(&json).unwrap(), error);
    }
}
