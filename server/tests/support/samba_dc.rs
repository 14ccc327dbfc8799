//! A real Active Directory domain for tests: Samba's AD DC provisioned in a temporary directory,
//! listening on 127.0.0.2 only (its KDC on port 88, LDAP, RPC), with users, a group and the file
//! server's service account whose `cifs/HOST` keys are exported the way `samba-tool domain
//! exportkeytab` (or Windows' `ktpass`) does. Its tickets carry full PACs: the user's SID and
//! group SIDs. The DC stops when dropped, and by itself when the test process dies (it ends at
//! EOF on its standard input).

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

pub const AD_REALM: &str = "CORP.EXAMPLE.TEST";
pub const AD_DOMAIN: &str = "CORP";
/// The DC's own loopback address: Samba binds to an interface's address, not to 127.0.0.1's.
/// Tests that run at the same time give their DCs different addresses ([`SambaDc::start_at`]).
const DC_ADDRESS: &str = "127.0.0.2";

pub struct SambaDc {
    pub dir: TempDir,
    pub kdc: SocketAddr,
    child: Child,
    stdin: Option<ChildStdin>,
}

impl SambaDc {
    /// Provisions `CORP.EXAMPLE.TEST`, creates `users` (name, password, groups, created first),
    /// the service account of `cifs/HOST` for each of `hosts` (AES keys, exported to
    /// `HOST.keytab`), and starts the DC.
    pub fn start(users: &[(&str, &str, &[&str])], hosts: &[&str]) -> SambaDc {
        SambaDc::start_at(DC_ADDRESS, users, hosts)
    }

    /// [`SambaDc::start`] with the DC on another loopback `address` (127.0.0.0/8).
    pub fn start_at(address: &str, users: &[(&str, &str, &[&str])], hosts: &[&str]) -> SambaDc {
        for tool in ["samba", "samba-tool", "ldbmodify", "ip"] {
            assert!(
                Command::new("sh")
                    .args(["-c", &format!("command -v {tool}")])
                    .output()
                    .is_ok_and(|o| o.status.success()),
                "{tool} is missing: `make test` installs Samba's AD DC (scripts/setup.sh)"
            );
        }
        loopback_address(address);
        let dir = tempfile::tempdir().unwrap();
        let smb_port = super::kerberos::free_port().to_string();
        let target = dir.path().join("dc");
        tool(
            "samba-tool",
            &[
                "domain",
                "provision",
                &format!("--targetdir={}", target.display()),
                &format!("--realm={AD_REALM}"),
                &format!("--domain={AD_DOMAIN}"),
                "--server-role=dc",
                "--dns-backend=NONE",
                "--adminpass=Admin-password-1",
                "--use-rfc2307",
                &format!("--option=interfaces={address}"),
                "--option=bind interfaces only=yes",
                &format!("--option=smb ports={smb_port}"),
                // Its own pid file: two DCs of tests that run at once would refuse each other's.
                &format!("--option=pid directory={}", dir.path().join("run").display()),
                &format!("--option=winbindd socket directory={}", dir.path().join("winbindd").display()),
                "--host-name=dc1",
            ],
        );
        let conf = target.join("etc/smb.conf");
        let samba_tool = |args: &[&str]| samba_tool(&conf, args);
        let mut groups: Vec<&str> = users.iter().flat_map(|(_, _, groups)| groups.iter().copied()).collect();
        groups.sort_unstable();
        groups.dedup();
        for group in groups {
            samba_tool(&["group", "add", group]);
        }
        for (user, password, groups) in users {
            samba_tool(&["user", "create", user, password]);
            for group in *groups {
                samba_tool(&["group", "addmembers", group, user]);
            }
        }
        for host in hosts {
            let account = format!("svc-{}", host.split('.').next().unwrap_or(host));
            samba_tool(&["user", "create", &account, "Service-password-1"]);
            samba_tool(&["spn", "add", &format!("cifs/{host}"), &account]);
            // AES only, as a member server set up today is (without it the DC issues RC4 tickets
            // and exports only the RC4 key of the SPN). Then, after the export, the SPN as the
            // account's UPN, as Windows' `ktpass -princ cifs/HOST@REALM -mapuser ACCOUNT` sets
            // it, so that the file server can sign in as `cifs/HOST` with its key (its own TGT).
            let ldif = dir.path().join("enctypes.ldif");
            std::fs::write(
                &ldif,
                format!(
                    "dn: CN={account},CN=Users,DC=corp,DC=example,DC=test\nchangetype: modify\n\
                     replace: msDS-SupportedEncryptionTypes\nmsDS-SupportedEncryptionTypes: 24\n"
                ),
            )
            .unwrap();
            let sam = target.join("private/sam.ldb");
            tool("ldbmodify", &["-H", &sam.display().to_string(), &ldif.display().to_string()]);
            let keytab = dir.path().join(format!("{host}.keytab"));
            samba_tool(&["domain", "exportkeytab", &keytab.display().to_string(), &format!("--principal=cifs/{host}")]);
            let ldif = dir.path().join("upn.ldif");
            std::fs::write(
                &ldif,
                format!(
                    "dn: CN={account},CN=Users,DC=corp,DC=example,DC=test\nchangetype: modify\n\
                     replace: userPrincipalName\nuserPrincipalName: cifs/{host}@{AD_REALM}\n"
                ),
            )
            .unwrap();
            tool("ldbmodify", &["-H", &sam.display().to_string(), &ldif.display().to_string()]);
        }
        std::fs::write(
            dir.path().join("krb5.conf"),
            format!(
                "[libdefaults]\n default_realm = {AD_REALM}\n dns_lookup_kdc = false\n dns_lookup_realm = false\n \
                 dns_canonicalize_hostname = false\n rdns = false\n udp_preference_limit = 1\n[realms]\n {AD_REALM} = \
                 {{\n  kdc = {address}:88\n }}\n[domain_realm]\n .corp.example.test = {AD_REALM}\n"
            ),
        )
        .unwrap();
        let lines: String = hosts.iter().map(|host| format!("127.0.0.1 {host}\n")).collect();
        std::fs::write(dir.path().join("hosts"), lines).unwrap();

        use std::os::unix::process::CommandExt;
        let log = std::fs::File::create(dir.path().join("samba.log")).unwrap();
        let mut child = Command::new("samba")
            .args(["-s", &conf.display().to_string(), "-i"])
            .stdin(Stdio::piped())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .expect("samba");
        let stdin = child.stdin.take();
        let mut dc = SambaDc { kdc: format!("{address}:88").parse().unwrap(), dir, child, stdin };
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(dc.kdc).is_err() {
            if let Ok(Some(status)) = dc.child.try_wait() {
                panic!("samba exited ({status}); its log:\n{}", dc.log());
            }
            assert!(Instant::now() < deadline, "the DC's KDC does not listen on {}:\n{}", dc.kdc, dc.log());
            std::thread::sleep(Duration::from_millis(100));
        }
        dc
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("samba.log")).unwrap_or_default()
    }

    fn smb_conf(&self) -> PathBuf {
        self.dir.path().join("dc/etc/smb.conf")
    }

    /// `samba-tool ARGS -s <the DC's smb.conf>`, on its database (the DC may be running).
    pub fn samba_tool(&self, args: &[&str]) -> String {
        samba_tool(&self.smb_conf(), args)
    }

    /// The SID of a user or group, as `samba-tool ... show` gives it.
    pub fn sid(&self, kind: &str, name: &str) -> String {
        let shown = self.samba_tool(&[kind, "show", name, "--attributes=objectSid"]);
        shown
            .lines()
            .find_map(|line| line.strip_prefix("objectSid: "))
            .unwrap_or_else(|| panic!("no objectSid for {kind} {name}: {shown}"))
            .trim()
            .to_owned()
    }

    /// The keytab of `cifs/HOST`.
    pub fn keytab(&self, host: &str) -> PathBuf {
        self.dir.path().join(format!("{host}.keytab"))
    }

    /// A client configuration reaching the DC's KDC directly.
    pub fn conf(&self) -> PathBuf {
        self.dir.path().join("krb5.conf")
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

fn samba_tool(conf: &Path, args: &[&str]) -> String {
    let conf = conf.display().to_string();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["-s", &conf]);
    tool("samba-tool", &all)
}

/// Adds `address` to the loopback interface when it lacks it (Samba finds no interface for the
/// address otherwise). Everything in 127.0.0.0/8 already reaches loopback: nothing else changes.
fn loopback_address(address: &str) {
    let shown = Command::new("ip").args(["-o", "-4", "addr", "show", "dev", "lo"]).output().unwrap();
    if String::from_utf8_lossy(&shown.stdout).contains(&format!("inet {address}/")) {
        return;
    }
    let added = Command::new("ip").args(["addr", "add", &format!("{address}/8"), "dev", "lo"]).output().unwrap();
    let error = String::from_utf8_lossy(&added.stderr);
    assert!(added.status.success() || error.contains("File exists"), "ip addr add {address}/8 dev lo: {error}");
}

fn tool(program: &str, args: &[&str]) -> String {
    let output = Command::new(program).args(args).stdin(Stdio::null()).output().unwrap();
    assert!(
        output.status.success(),
        "{program} {args:?}:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

impl Drop for SambaDc {
    fn drop(&mut self) {
        // EOF on its standard input ends the DC and its workers; then make sure.
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.flush();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
