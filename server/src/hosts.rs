//! The names the console answers to. A browser states the name it connected to in the Host
//! header. A page from another site that points its own name at this server's address (DNS
//! rebinding) reaches the console under that other name, as the browser's same-origin rules see
//! it, and could otherwise read and drive it; such requests are refused.
//!
//! IP addresses always pass: a browser sends one only when it connected to that very address,
//! and no other site's page shares its origin. So does `localhost`, which browsers resolve
//! themselves, to this machine.

use std::net::IpAddr;

use axum::http::uri::Authority;

#[derive(Clone, Debug)]
pub struct AllowedHosts {
    /// Lowercase, without a trailing dot; `*.` covers exactly one more label; `*` alone, anything.
    names: Vec<String>,
}

impl AllowedHosts {
    /// The server name, the DNS names of the console's certificate and the configured names.
    pub fn new<'a>(
        server_name: &str,
        certificate_names: &[String],
        configured: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let mut names: Vec<String> = [normalize("localhost"), normalize(server_name)]
            .into_iter()
            .chain(certificate_names.iter().map(|name| normalize(name)))
            .chain(configured.into_iter().map(normalize))
            .filter(|name| !name.is_empty())
            .collect();
        names.sort();
        names.dedup();
        AllowedHosts { names }
    }

    /// The names, for the log.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Whether a request stating `host` (a Host header or an HTTP/2 `:authority`, with or
    /// without a port) is for this console.
    pub fn allows(&self, host: &str) -> bool {
        let Ok(authority) = host.parse::<Authority>() else { return false };
        if authority.as_str().contains('@') {
            return false;
        }
        let name = authority.host();
        let bare = name.trim_start_matches('[').trim_end_matches(']');
        if bare.parse::<IpAddr>().is_ok() {
            return true;
        }
        let name = normalize(name);
        self.names.iter().any(|allowed| matches(allowed, &name))
    }
}

fn normalize(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

fn matches(allowed: &str, name: &str) -> bool {
    if allowed == "*" {
        return true;
    }
    match allowed.strip_prefix("*.") {
        Some(parent) => name.split_once('.').is_some_and(|(label, rest)| !label.is_empty() && rest == parent),
        None => allowed == name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts() -> AllowedHosts {
        AllowedHosts::new(
            "Files.Example.com",
            &["console.example.com".into(), "*.edge.example.com".into(), "127.0.0.1".into()],
            ["admin.example.net."],
        )
    }

    #[test]
    fn the_consoles_own_names_pass_with_or_without_a_port() {
        let hosts = hosts();
        for host in [
            "files.example.com",
            "FILES.example.com:8443",
            "files.example.com.:8443",
            "console.example.com",
            "a.edge.example.com:443",
            "admin.example.net",
            "localhost:8443",
        ] {
            assert!(hosts.allows(host), "{host}");
        }
    }

    #[test]
    fn ip_addresses_pass() {
        let hosts = hosts();
        for host in ["127.0.0.1:8443", "192.0.2.10", "[::1]:8443", "[2001:db8::1]"] {
            assert!(hosts.allows(host), "{host}");
        }
    }

    #[test]
    fn other_names_are_refused() {
        let hosts = hosts();
        for host in [
            "rebind.attacker.example:8443",
            "files.example.com.attacker.example",
            "edge.example.com",
            "a.b.edge.example.com",
            "user@files.example.com",
            "",
            "files example.com",
        ] {
            assert!(!hosts.allows(host), "{host}");
        }
    }

    #[test]
    fn a_star_allows_every_name() {
        assert!(AllowedHosts::new("a", &[], ["*"]).allows("anything.example"));
    }
}
