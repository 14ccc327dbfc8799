//! The console's data: what pages show and send, what server functions and services take and
//! return, and what the command line prints. Compiled for the server and the browser alike;
//! nothing here does I/O. Imports read top-down: pages -> api -> service -> model.

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod certs;
pub mod health;
pub mod identity;
pub mod overview;
pub mod quic;
pub mod sessions;
pub mod setup;
pub mod shares;
pub mod users;

/// A word for a POSIX shell, quoted only when it needs to be (the command lines the console shows).
pub fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':' | '@' | '%' | '+' | '='));
    if plain { word.to_owned() } else { format!("'{}'", word.replace('\'', r"'\''")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_word("/srv/sales"), "/srv/sales");
        assert_eq!(shell_word("Sales Team"), "'Sales Team'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word("admin$"), "'admin$'");
        assert_eq!(shell_word(""), "''");
    }
}
