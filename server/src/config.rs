//! Command line and environment: every setting is a flag with an `EDGESHARE_*` variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "edgeshare",
    version,
    about = "EdgeShare: an SMB file server for the internet edge, with its web console"
)]
pub struct Cli {
    /// Directory holding the configuration database, the console certificate and other state.
    #[arg(long, global = true, env = "EDGESHARE_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: the web console and the SMB engine.
    Serve(ServeConfig),
    /// Manage console accounts (the people who may use the web console).
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Manage SMB users (the accounts clients sign in with).
    #[command(subcommand)]
    User(UserCommand),
    /// Manage shares.
    #[command(subcommand)]
    Share(ShareCommand),
    /// Show or change server settings (dialects, signing, encryption, lockout, workgroup).
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// The certificate store of SMB over QUIC: import, generate, inspect, export, remove.
    #[command(subcommand)]
    Cert(CertCommand),
    /// SMB over QUIC: server-name mappings, enabling, status.
    #[command(subcommand)]
    Quic(QuicCommand),
    /// Kerberos sign-in: realms and their KDCs, service keytabs, principal mappings, domain
    /// names, and the NTLM policy.
    #[command(subcommand)]
    Kerberos(KerberosCommand),
    /// The KDC proxy (MS-KKDCP): Kerberos over HTTPS for clients outside, on its own public
    /// listener (TCP 443 by default).
    #[command(subcommand)]
    KdcProxy(KdcProxyCommand),
}

#[derive(Debug, Subcommand)]
pub enum KdcProxyCommand {
    /// Turn the KDC proxy on (a running server starts listening within a second).
    Enable {
        /// TCP port (default 443).
        #[arg(long)]
        port: Option<u16>,
        /// Local address to listen on (default :: for every address).
        #[arg(long)]
        address: Option<std::net::IpAddr>,
    },
    /// Turn the KDC proxy off.
    Disable,
    /// Whether the KDC proxy is on, where, for which realms, and whether it answers.
    Status,
}

#[derive(Debug, Subcommand)]
pub enum KerberosCommand {
    /// The realms the server belongs to, and their KDCs.
    #[command(subcommand)]
    Realm(RealmCommand),
    /// The service keys clients' tickets are checked with (`cifs/NAME@REALM`).
    #[command(subcommand)]
    Keytab(KeytabCommand),
    /// Kerberos principals that sign in as a local SMB user instead of as themselves.
    #[command(subcommand)]
    Map(MapCommand),
    /// Domain users and groups (DOMAIN\name) with their SIDs, for share permissions.
    #[command(subcommand)]
    Name(NameCommand),
    /// Allow NTLM sign-in, or refuse it (then only Kerberos signs in).
    Ntlm {
        #[arg(value_parser = ["allow", "refuse"])]
        policy: String,
    },
    /// Realms, keys, the names clients use and whether a key covers each, the NTLM policy.
    Status,
}

#[derive(Debug, Subcommand)]
pub enum RealmCommand {
    /// Add a realm, or replace the KDCs of one.
    Add {
        /// The realm, e.g. CORP.EXAMPLE.COM.
        realm: String,
        /// A KDC as host or host:port (88 by default); repeat for several, in order.
        #[arg(long = "kdc", required = true)]
        kdcs: Vec<String>,
    },
    /// Remove a realm (refused while keys of it are stored).
    Remove { realm: String },
    /// Every realm with its KDCs.
    List,
}

#[derive(Debug, Subcommand)]
pub enum KeytabCommand {
    /// Import the keys of a keytab file (from ktpass, samba-tool domain exportkeytab or kadmin
    /// ktadd). They are stored in the database only and never shown or exported.
    Import { file: PathBuf },
    /// Every stored key: principal, key version, encryption type (never the key).
    List,
    /// Remove a principal's keys, of one key version or all.
    Remove {
        principal: String,
        #[arg(long)]
        kvno: Option<u32>,
    },
}

#[derive(Debug, Subcommand)]
pub enum MapCommand {
    /// Sign in PRINCIPAL (user@REALM) as the local SMB user USER.
    Add {
        principal: String,
        user: String,
    },
    Remove {
        principal: String,
    },
    List,
}

#[derive(Debug, Subcommand)]
pub enum NameCommand {
    /// Record the SID of a domain user or group (e.g. 'CORP\Sales' S-1-5-21-...-1104).
    Add {
        name: String,
        sid: String,
    },
    /// Remove a recorded name (refused while a share permission names it).
    Remove {
        name: String,
    },
    List,
}

#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// Import a certificate with its private key: a PEM chain (leaf first) and a PEM key, or a
    /// PKCS#12/PFX file (current or legacy 3DES/RC2 encryption) whose password is read from
    /// standard input.
    Import {
        /// Without --key: a CA certificate that client certificates are validated against.
        #[arg(long, conflicts_with = "pfx")]
        pem: Option<PathBuf>,
        #[arg(long, requires = "pem")]
        key: Option<PathBuf>,
        #[arg(long, required_unless_present = "pem", requires = "password_stdin")]
        pfx: Option<PathBuf>,
        /// Read the PFX password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Generate a server certificate for the given DNS names: self-signed, or issued by a local
    /// CA (made on first use) with --ca.
    Generate {
        /// A DNS name clients use (repeat for several); the first is also the subject.
        #[arg(long = "dns", required = true)]
        dns: Vec<String>,
        /// Issue it from the local CA of this name (created when missing).
        #[arg(long)]
        ca: Option<String>,
        /// ecdsa-p256 (default), ecdsa-p384, rsa-2048, rsa-3072 or rsa-4096.
        #[arg(long, default_value = "ecdsa-p256")]
        key: String,
    },
    /// Every certificate in the store.
    List,
    /// One certificate with the results of the SMB over QUIC checks.
    Show { thumbprint: String },
    /// Write the public certificate (or with --ca its issuing CA): DER when FILE ends in .der or
    /// .cer, PEM otherwise. Private keys are never exported.
    Export {
        thumbprint: String,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        ca: bool,
    },
    /// Remove a certificate (refused while a server name is mapped to it).
    Remove { thumbprint: String },
}

#[derive(Debug, Subcommand)]
pub enum QuicCommand {
    /// Map a server name to a certificate (as New-SmbServerCertificateMapping).
    Map {
        #[arg(long)]
        name: String,
        #[arg(long)]
        thumbprint: String,
        /// Clients must present a certificate (checked against the access lists).
        #[arg(long)]
        require_client_authentication: bool,
        /// Validate client certificates but ignore the access lists.
        #[arg(long)]
        skip_client_certificate_access_check: bool,
        /// Allow named pipes (IPC$) over QUIC for this name.
        #[arg(long)]
        allow_named_pipes: bool,
        /// Also answer clients that send no server name (e.g. connecting by IP address).
        #[arg(long)]
        default: bool,
    },
    /// Remove a server name's mapping.
    Unmap {
        #[arg(long)]
        name: String,
    },
    /// Turn SMB over QUIC on (a running server starts listening within a second).
    Enable {
        /// UDP port (default 443).
        #[arg(long)]
        port: Option<u16>,
        /// Local address to listen on (default :: for every address).
        #[arg(long)]
        address: Option<std::net::IpAddr>,
    },
    /// Turn SMB over QUIC off.
    Disable,
    /// Whether SMB over QUIC is on, where, and its mappings with their certificates' state.
    Status,
    /// Client access control for mappings that require client certificates (as Windows Server
    /// 2025's Grant-/Block-SmbClientAccessToServer).
    #[command(subcommand)]
    Access(AccessCommand),
    /// Carry plain SMB-over-TCP connections over SMB over QUIC, so that TCP-only tools (Samba's
    /// smbclient, smbtorture) can reach a QUIC listener. For testing and measuring.
    Bridge {
        /// Local TCP address to accept on.
        #[arg(long)]
        listen: SocketAddr,
        /// The QUIC listener's UDP address.
        #[arg(long)]
        connect: SocketAddr,
        /// The server name to present (SNI).
        #[arg(long)]
        name: String,
        /// The CA (or self-signed certificate) to trust, DER or PEM.
        #[arg(long)]
        ca: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccessCommand {
    /// Allow client certificates that match (any certificate of the client's chain).
    Grant(AccessEntryArgs),
    /// Block client certificates that match; a block anywhere in the chain wins.
    Block(AccessEntryArgs),
    /// Remove an allow entry.
    Revoke(AccessEntryArgs),
    /// Remove a block entry.
    Unblock(AccessEntryArgs),
    /// Every entry, by server name.
    List,
}

#[derive(Debug, Args)]
pub struct AccessEntryArgs {
    /// The mapped server name.
    #[arg(long)]
    pub name: String,
    /// SHA-256 of a certificate (64 hex digits).
    #[arg(long, conflicts_with = "issuer", required_unless_present = "issuer")]
    pub sha256: Option<String>,
    /// An issuer's distinguished name, as `edgeshare cert show` prints it.
    #[arg(long)]
    pub issuer: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Every setting with its value in force, its default and what it does.
    List,
    /// Change one setting; a running server applies it within a second.
    Set { key: String, value: String },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an SMB user.
    Add {
        name: String,
        /// Read the password from the first line of standard input.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List SMB users.
    List,
    /// Set a new password.
    SetPassword {
        name: String,
        /// Read the password from the first line of standard input.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Remove an SMB user (and its share permissions).
    Remove { name: String },
    /// Allow a disabled user to sign in again.
    Enable { name: String },
    /// Refuse a user's sign-ins without removing it.
    Disable { name: String },
    /// End a user's lockout now.
    Unlock { name: String },
}

/// A share's permission entries, by access: `share add` and `share set` take the same options
/// (a user named in several gets the last of full, change, read, deny; `set` replaces what a
/// user had).
#[derive(Debug, Args)]
pub struct Grants {
    /// Users (or Everyone) with full control.
    #[arg(long, value_name = "USER")]
    pub full: Vec<String>,
    /// Users (or Everyone) who may read, write and delete.
    #[arg(long, value_name = "USER")]
    pub change: Vec<String>,
    /// Users (or Everyone) who may read.
    #[arg(long, value_name = "USER")]
    pub read: Vec<String>,
    /// Users (or Everyone) denied access, whatever else applies.
    #[arg(long, value_name = "USER")]
    pub deny: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum ShareCommand {
    /// Share an existing directory.
    Add {
        name: String,
        /// Absolute path of an existing directory.
        path: std::path::PathBuf,
        #[command(flatten)]
        grants: Grants,
        /// Require SMB encryption for this share.
        #[arg(long)]
        encrypt: bool,
        /// List the share only to users who may open it.
        #[arg(long)]
        access_based_enumeration: bool,
        /// Most users connected at once.
        #[arg(long)]
        max_users: Option<u32>,
        /// Continuously available: clients get persistent handles, which survive a restart of
        /// the server; every write goes through to the disk.
        #[arg(long)]
        continuous_availability: bool,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Change some of a share's settings in one step, as the console's edit does; what is not
    /// named stays as it is.
    Set {
        name: String,
        /// A new name for the share.
        #[arg(long, value_name = "NAME")]
        rename: Option<String>,
        /// A new directory: the absolute path of an existing directory.
        #[arg(long)]
        path: Option<std::path::PathBuf>,
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        grants: Grants,
        /// Remove the entries of these users (or of Everyone).
        #[arg(long, value_name = "USER")]
        revoke: Vec<String>,
        /// Require SMB encryption for this share.
        #[arg(long, value_name = "on|off", value_parser = clap::builder::BoolishValueParser::new())]
        encrypt: Option<bool>,
        /// List the share only to users who may open it.
        #[arg(long, value_name = "on|off", value_parser = clap::builder::BoolishValueParser::new())]
        access_based_enumeration: Option<bool>,
        /// Most users connected at once, or `unlimited`.
        #[arg(long, value_name = "N|unlimited")]
        max_users: Option<String>,
        /// Continuously available: persistent handles that survive a restart of the server.
        #[arg(long, value_name = "on|off", value_parser = clap::builder::BoolishValueParser::new())]
        continuous_availability: Option<bool>,
    },
    /// List shares with their permissions.
    List,
    /// Stop sharing a directory (its files stay).
    Remove { name: String },
}

#[derive(Clone, Debug, Args)]
pub struct ServeConfig {
    /// Address and port of the web console.
    #[arg(long, env = "EDGESHARE_CONSOLE_ADDR", default_value = "127.0.0.1:8443")]
    pub console_addr: SocketAddr,

    /// Serve the console over plain HTTP instead of HTTPS. Allowed only on a loopback address.
    #[arg(long, env = "EDGESHARE_CONSOLE_PLAIN_HTTP")]
    pub console_plain_http: bool,

    /// PEM certificate chain for the console. Default: a self-signed certificate generated at first
    /// start and kept in the data directory.
    #[arg(long, env = "EDGESHARE_CONSOLE_CERT", requires = "console_key")]
    pub console_cert: Option<PathBuf>,

    /// PEM private key of --console-cert.
    #[arg(long, env = "EDGESHARE_CONSOLE_KEY", requires = "console_cert")]
    pub console_key: Option<PathBuf>,

    /// Name shown in the console header. Default: this machine's host name.
    #[arg(long, env = "EDGESHARE_SERVER_NAME")]
    pub server_name: Option<String>,

    /// More names the console answers to (comma-separated; `*.example.com` covers one label), for
    /// a name that is neither the server name nor in the console's certificate. Requests naming
    /// any other host are refused (DNS rebinding); IP addresses and `localhost` always pass.
    #[arg(long, env = "EDGESHARE_CONSOLE_HOSTS", value_delimiter = ',')]
    pub console_hosts: Vec<String>,

    /// Most console connections open at once; further ones wait until one closes.
    #[arg(long, env = "EDGESHARE_CONSOLE_MAX_CONNECTIONS", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub console_max_connections: u32,

    /// Directory of the console's browser files (the built site: pkg/, favicon).
    #[arg(long, env = "EDGESHARE_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// Minutes of inactivity after which a console session ends.
    #[arg(long, env = "EDGESHARE_SESSION_IDLE_MINUTES", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=1440))]
    pub session_idle_minutes: u32,

    /// Address and port for SMB over TCP (e.g. 127.0.0.1:4445). Off unless given: at the edge,
    /// clients should reach the server over QUIC only.
    #[arg(long, env = "EDGESHARE_SMB_TCP_ADDR")]
    pub smb_tcp_addr: Option<SocketAddr>,

    /// Seconds to wait for open requests at shutdown before closing them.
    #[arg(long, env = "EDGESHARE_SHUTDOWN_GRACE_SECONDS", default_value_t = 10)]
    pub shutdown_grace_seconds: u64,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a console account.
    Add {
        name: String,
        /// admin (changes settings) or reader (sees everything, changes nothing).
        #[arg(long, default_value = "admin")]
        role: String,
        /// Read the password from the first line of standard input.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List console accounts.
    List,
    /// Remove a console account (never the last administrator).
    Remove { name: String },
    /// Set a new password; the account's console sessions end.
    SetPassword {
        name: String,
        /// Read the password from the first line of standard input.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Change the role of a console account.
    SetRole {
        name: String,
        #[arg(long)]
        role: String,
    },
}

impl ServeConfig {
    /// Refuses settings that cannot work together, before anything starts.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.console_plain_http && !self.console_addr.ip().is_loopback() {
            anyhow::bail!(
                "--console-plain-http is allowed only on a loopback address, not {}: \
                 passwords would cross the network in clear text",
                self.console_addr
            );
        }
        if self.console_plain_http && self.console_cert.is_some() {
            anyhow::bail!("--console-plain-http and --console-cert exclude each other");
        }
        Ok(())
    }

    /// Creating the first administrator from a browser needs the setup token unless only this
    /// machine can reach the console.
    pub fn setup_token_required(&self) -> bool {
        !self.console_addr.ip().is_loopback()
    }

    pub fn console_url(&self) -> String {
        let scheme = if self.console_plain_http { "http" } else { "https" };
        format!("{scheme}://{}/", self.console_addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn plain_http_is_refused_off_loopback() {
        let cli = Cli::try_parse_from(["edgeshare", "serve", "--console-addr", "0.0.0.0:8080", "--console-plain-http"])
            .unwrap();
        let Command::Serve(config) = cli.command else { panic!("not serve") };
        assert!(config.check().is_err());
    }

    #[test]
    fn the_setup_token_is_required_unless_the_console_is_on_loopback() {
        let serve = |address: &str| {
            let Command::Serve(config) =
                Cli::try_parse_from(["edgeshare", "serve", "--console-addr", address]).unwrap().command
            else {
                panic!("not serve")
            };
            config
        };
        assert!(serve("0.0.0.0:8443").setup_token_required());
        assert!(serve("192.0.2.7:8443").setup_token_required());
        assert!(!serve("127.0.0.1:8443").setup_token_required());
        assert!(!serve("[::1]:8443").setup_token_required());
    }

    #[test]
    fn console_hosts_are_a_comma_separated_list() {
        let cli = Cli::try_parse_from(["edgeshare", "serve", "--console-hosts", "a.example,*.b.example"]).unwrap();
        let Command::Serve(config) = cli.command else { panic!("not serve") };
        assert_eq!(config.console_hosts, ["a.example", "*.b.example"]);
        assert_eq!(config.console_max_connections, 256);
    }

    #[test]
    fn plain_http_is_allowed_on_loopback() {
        let cli = Cli::try_parse_from(["edgeshare", "serve", "--console-addr", "[::1]:8080", "--console-plain-http"])
            .unwrap();
        let Command::Serve(config) = cli.command else { panic!("not serve") };
        config.check().unwrap();
        assert_eq!(config.console_url(), "http://[::1]:8080/");
    }
}
