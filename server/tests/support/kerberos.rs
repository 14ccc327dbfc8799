//! A real MIT Kerberos realm for tests: a KDC database in a temporary directory, `krb5kdc` on a
//! free loopback port (TCP and UDP), users with passwords and `cifs/HOST` service principals
//! with one keytab each; and client configurations that reach the KDC directly or only through a
//! KDC proxy (MS-KKDCP over HTTPS, MIT's `krb5-k5tls`). The KDC stops when the realm is dropped.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use tempfile::TempDir;

pub const REALM: &str = "EXAMPLE.TEST";

pub struct MitRealm {
    pub dir: TempDir,
    /// The KDC's address (TCP and UDP).
    pub kdc: SocketAddr,
    child: Child,
}

/// A free loopback port (TCP; the same number is very likely free for UDP too).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl MitRealm {
    /// Starts a realm with `users` (name, password) and a `cifs/HOST` principal for each of
    /// `hosts`, each exported to `HOST.keytab` in the realm's directory.
    pub fn start(users: &[(&str, &str)], hosts: &[&str]) -> MitRealm {
        for tool in ["kdb5_util", "kadmin.local", "krb5kdc", "kinit", "kvno"] {
            assert!(
                Command::new("sh")
                    .args(["-c", &format!("command -v {tool}")])
                    .output()
                    .is_ok_and(|o| o.status.success()),
                "{tool} is missing: `make test` installs MIT Kerberos (scripts/setup.sh)"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let kdc: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let path = dir.path().display().to_string();
        std::fs::write(
            dir.path().join("kdc.conf"),
            format!(
                "[kdcdefaults]\n kdc_listen = {kdc}\n kdc_tcp_listen = {kdc}\n[realms]\n {REALM} = {{\n  \
                 database_name = {path}/principal\n  key_stash_file = {path}/stash\n  acl_file = {path}/kadm5.acl\n  \
                 supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal\n }}\n[logging]\n \
                 kdc = FILE:{path}/kdc.log\n"
            ),
        )
        .unwrap();
        std::fs::write(dir.path().join("krb5.conf"), conf_text(&format!("kdc = {kdc}"))).unwrap();
        // The service names resolve to loopback for the clients (nss_wrapper, as Samba's own
        // test suite does): Samba's clients refuse Kerberos to an IP address or `localhost`.
        let lines: String = hosts.iter().map(|host| format!("127.0.0.1 {host}\n")).collect();
        std::fs::write(dir.path().join("hosts"), lines).unwrap();
        let env = admin_env(dir.path());
        admin(&env, "kdb5_util", &["create", "-s", "-r", REALM, "-P", "master-password-1"]);
        for (user, password) in users {
            admin(&env, "kadmin.local", &["-q", &format!("addprinc -pw {password} {user}")]);
        }
        for host in hosts {
            admin(&env, "kadmin.local", &["-q", &format!("addprinc -randkey cifs/{host}")]);
            let keytab = dir.path().join(format!("{host}.keytab"));
            admin(&env, "kadmin.local", &["-q", &format!("ktadd -k {} cifs/{host}", keytab.display())]);
        }
        let child = Command::new("krb5kdc")
            .args(["-n", "-r", REALM])
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("krb5kdc");
        let mut realm = MitRealm { dir, kdc, child };
        realm.wait_for_kdc();
        realm
    }

    fn wait_for_kdc(&mut self) {
        for _ in 0..100 {
            if std::net::TcpStream::connect(self.kdc).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("krb5kdc exited ({status}); its log: {}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("krb5kdc does not listen on {}", self.kdc);
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("kdc.log")).unwrap_or_default()
    }

    pub fn kadmin(&self, query: &str) {
        admin(&admin_env(self.dir.path()), "kadmin.local", &["-q", query]);
    }

    /// The keytab of `cifs/HOST`.
    pub fn keytab(&self, host: &str) -> PathBuf {
        self.dir.path().join(format!("{host}.keytab"))
    }

    /// A client configuration that reaches the KDC only through the KDC proxy at `url`, whose
    /// certificate chains to the PEM `ca`.
    pub fn proxy_conf(&self, name: &str, url: &str, ca: &Path) -> PathBuf {
        let path = self.dir.path().join(format!("{name}.conf"));
        let lines = format!("kdc = {url}\n  http_anchors = FILE:{}", ca.display());
        std::fs::write(&path, conf_text(&lines)).unwrap();
        path
    }

    /// The client configuration that reaches the KDC directly.
    pub fn direct_conf(&self) -> PathBuf {
        self.dir.path().join("krb5.conf")
    }
}

fn admin_env(dir: &Path) -> Vec<(&'static str, PathBuf)> {
    vec![("KRB5_CONFIG", dir.join("krb5.conf")), ("KRB5_KDC_PROFILE", dir.join("kdc.conf"))]
}

fn admin(env: &[(&'static str, PathBuf)], program: &str, args: &[&str]) {
    let output = Command::new(program).args(args).envs(env.iter().cloned()).stdin(Stdio::null()).output().unwrap();
    assert!(output.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

fn conf_text(kdc_lines: &str) -> String {
    format!(
        "[libdefaults]\n default_realm = {REALM}\n dns_lookup_kdc = false\n dns_lookup_realm = false\n \
         dns_canonicalize_hostname = false\n rdns = false\n udp_preference_limit = 1\n[realms]\n {REALM} = {{\n  \
         {kdc_lines}\n }}\n[domain_realm]\n localhost = {REALM}\n .example.test = {REALM}\n"
    )
}

impl Drop for MitRealm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// nss_wrapper (Debian's libnss-wrapper), which makes a process resolve names from a file.
const NSS_WRAPPER: &str = "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so";

/// A client's Kerberos environment: a configuration, its own credential cache, and the realm's
/// service names resolving to loopback.
pub struct KerberosClient {
    pub conf: PathBuf,
    pub cache: PathBuf,
    hosts: PathBuf,
}

impl KerberosClient {
    /// A client of the realm whose directory is `dir`.
    pub fn new(conf: PathBuf, dir: &Path, name: &str) -> KerberosClient {
        assert!(
            Path::new(NSS_WRAPPER).exists(),
            "libnss-wrapper is missing: `make test` installs it (scripts/setup.sh)"
        );
        KerberosClient { conf, cache: dir.join(format!("{name}.ccache")), hosts: dir.join("hosts") }
    }

    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("KRB5_CONFIG", self.conf.display().to_string()),
            ("KRB5CCNAME", format!("FILE:{}", self.cache.display())),
            ("KRB5RCACHETYPE", "none".to_owned()),
            ("LD_PRELOAD", NSS_WRAPPER.to_owned()),
            ("NSS_WRAPPER_HOSTS", self.hosts.display().to_string()),
            ("NSS_WRAPPER_PASSWD", "/etc/passwd".to_owned()),
            ("NSS_WRAPPER_GROUP", "/etc/group".to_owned()),
        ]
    }

    /// `kinit user` with the password on standard input.
    pub async fn kinit(&self, user: &str, password: &str) -> Output {
        self.run("kinit", &[user], Some(password)).await
    }

    /// `kvno cifs/HOST`: the service ticket into the cache, where Samba's Heimdal-built clients
    /// (which cannot reach a KDC proxy themselves) find it.
    pub async fn kvno(&self, service: &str) -> Output {
        self.run("kvno", &[service], None).await
    }

    pub async fn run(&self, program: &str, args: &[&str], stdin: Option<&str>) -> Output {
        super::run_tool_env(program, args, &self.env(), stdin, None, Duration::from_secs(60)).await
    }

    pub async fn run_in(&self, program: &str, args: &[&str], dir: &Path) -> Output {
        super::run_tool_env(program, args, &self.env(), None, Some(dir), Duration::from_secs(120)).await
    }
}

/// EdgeShare's KDC proxy, started for a test server on a free loopback port; stops when dropped.
pub struct RunningKdcProxy {
    pub proxy: std::sync::Arc<server::kdc_proxy::KdcProxy>,
    pub state: std::sync::Arc<app::backend::kdc_proxy::KdcProxyState>,
    /// `https://NAME:PORT/KdcProxy` for the mapped `name` it was started for.
    pub url: String,
}

impl RunningKdcProxy {
    /// Turns the KDC proxy on (127.0.0.1, a free port) and waits until it listens; its
    /// certificate is the SMB over QUIC mapping of `name`.
    pub async fn start(server: &super::SmbServer, name: &str) -> RunningKdcProxy {
        use app::backend::smb;
        for (key, value) in [("kdc_proxy_address", "127.0.0.1"), ("kdc_proxy_port", "0"), ("kdc_proxy_enabled", "true")]
        {
            smb::change_setting(&server.db, key, value).await.unwrap();
        }
        let state = std::sync::Arc::new(app::backend::kdc_proxy::KdcProxyState::default());
        let proxy = server::kdc_proxy::KdcProxy::new(server.db.clone(), state.clone()).await.unwrap();
        proxy.reconcile().await;
        let port = state.listening().unwrap_or_else(|| panic!("the KDC proxy listens: {:?}", state.error())).port();
        RunningKdcProxy { proxy, state, url: format!("https://{name}:{port}/KdcProxy") }
    }

    /// Requests it forwarded to a KDC and answered.
    pub fn forwarded(&self) -> u64 {
        use app::backend::kdc_proxy::ProxyOutcome;
        self.state.outcomes().iter().find(|(o, _)| *o == ProxyOutcome::Forwarded).map_or(0, |(_, n)| *n)
    }
}

impl Drop for RunningKdcProxy {
    fn drop(&mut self) {
        self.proxy.stop();
    }
}

/// Runs the native SMB over QUIC client (the `smb` crate, `examples/quic_client.rs`) with
/// Kerberos only: it reaches `realm`'s KDC through `kdc_url` alone (sspi-rs's
/// `SSPI_KDC_URL_<REALM>`), trusting `ca_pem` for it, and `\\NAME\SHARE` over QUIC at `quic`,
/// trusting `ca_der`; it writes `file` with `content` as `user` and prints what it reads back.
pub struct SmbCrateKerberos<'a> {
    pub realm: &'a str,
    pub kdc_url: &'a str,
    pub ca_pem: &'a Path,
    pub ca_der: &'a Path,
    pub quic: SocketAddr,
    pub name: &'a str,
    pub share: &'a str,
    pub user: &'a str,
    pub password: &'a str,
}

impl SmbCrateKerberos<'_> {
    pub async fn write_and_read(&self, file: &str, content: &str) -> Output {
        let client = std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().join("examples/quic_client");
        assert!(client.exists(), "{} is missing: `cargo test` builds the examples", client.display());
        let address = self.quic.to_string();
        let ca_der = self.ca_der.display().to_string();
        let args = ["--kerberos", &address, self.name, &ca_der, self.share, self.user, self.password, file, content];
        let env = [
            (format!("SSPI_KDC_URL_{}", self.realm), self.kdc_url.to_owned()),
            ("SSL_CERT_FILE".to_owned(), self.ca_pem.display().to_string()),
            // Nothing but the KDC proxy: no krb5.conf naming the KDC itself.
            ("KRB5_CONFIG".to_owned(), "/dev/null".to_owned()),
        ];
        let env: Vec<(&str, String)> = env.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        super::run_tool_env(client.to_str().unwrap(), &args, &env, None, None, Duration::from_secs(120)).await
    }
}
