//! The setup token: on a console that other machines can reach, whoever creates the first
//! administrator must show that they can read the server's log (where the token is printed at
//! start), not merely that they reached the console first.
//!
//! Only a SHA-256 digest stays in memory; the token itself is printed once and never stored.

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::digest::{SHA256, digest};

/// Letters and digits that cannot be mistaken for one another when copied by hand (no 0/O, 1/I).
const ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
/// Five groups of five: 125 random bits.
const GROUPS: usize = 5;
const GROUP_LENGTH: usize = 5;

#[derive(Debug)]
pub struct SetupToken {
    digest: Vec<u8>,
}

impl SetupToken {
    /// A fresh token, and its text to print.
    pub fn generate() -> (SetupToken, String) {
        let groups: Vec<String> = (0..GROUPS)
            .map(|_| (0..GROUP_LENGTH).map(|_| char::from(ALPHABET[usize::from(rand::random::<u8>() % 32)])).collect())
            .collect();
        let text = groups.join("-");
        (SetupToken::from_text(&text), text)
    }

    /// The token with this text (tests).
    pub fn from_text(text: &str) -> SetupToken {
        SetupToken { digest: digest(&SHA256, normalize(text).as_bytes()).as_ref().to_vec() }
    }

    /// Whether `typed` is this token, ignoring case, spaces and dashes.
    pub fn matches(&self, typed: &str) -> bool {
        verify_slices_are_equal(digest(&SHA256, normalize(typed).as_bytes()).as_ref(), &self.digest).is_ok()
    }
}

fn normalize(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_matches_its_text_however_it_is_copied() {
        let (token, text) = SetupToken::generate();
        assert_eq!(text.len(), GROUPS * GROUP_LENGTH + GROUPS - 1);
        assert!(token.matches(&text));
        assert!(token.matches(&format!("  {}\n", text.to_lowercase().replace('-', " "))));
        assert!(!token.matches(""));
        assert!(!token.matches(&text[..text.len() - 1]));
    }

    #[test]
    fn each_start_makes_a_different_token() {
        assert_ne!(SetupToken::generate().1, SetupToken::generate().1);
    }
}
