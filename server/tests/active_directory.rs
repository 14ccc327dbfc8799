//! Active Directory end to end, with a real Samba AD DC on loopback standing in for Windows
//! domain controllers: the file server's keytab exported by `samba-tool domain exportkeytab`,
//! domain users signing in with Kerberos from MIT `kinit` with Samba's smbclient and impacket, and share
//! permissions naming a domain group (`CORP\Sales`) and a domain user (`CORP\carol`, denied)
//! decided by the SIDs in each ticket's PAC, including a group membership changed on the DC.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use app::service::{Actor, Control, kerberos};
use smb_core::{Access, Event, ShareConfig};
use support::kerberos::{KerberosClient, RunningKdcProxy, SmbCrateKerberos};
use support::samba_dc::{AD_DOMAIN, AD_REALM, SambaDc};
use support::{SmbServer, transcript};

/// The file server's name, with its `cifs/` principal in the domain.
const HOST: &str = "fs.corp.example.test";
const ALICE: (&str, &str) = ("alice", "Alice-password-1");
const BOB: (&str, &str) = ("bob", "Bob-password-1");
const CAROL: (&str, &str) = ("carol", "Carol-password-1");

struct Domain {
    dc: SambaDc,
    server: SmbServer,
    sales: PathBuf,
}

impl Domain {
    /// The domain with alice and carol in Sales and bob in no group; a server that knows the
    /// realm, holds the `cifs/fs.corp.example.test` keys and shares `sales` with CORP\Sales
    /// (Change) and `board` with CORP\Sales (Full) but not CORP\carol (Deny).
    async fn new() -> Domain {
        let dc = SambaDc::start(
            &[(ALICE.0, ALICE.1, &["Sales"]), (BOB.0, BOB.1, &[]), (CAROL.0, CAROL.1, &["Sales"])],
            &[HOST],
        );
        let server = SmbServer::start().await;
        let control = Control::command_line(server.db.clone());
        let actor = Actor::CommandLine { uid: 0 };
        kerberos::set_realm(&control, &actor, AD_REALM, &[dc.kdc.to_string()]).await.expect("realm");
        let keytab = std::fs::read(dc.keytab(HOST)).unwrap();
        let imported = kerberos::import_keytab(&control, &actor, &keytab, "exportkeytab").await.expect("keytab");
        assert_eq!(imported.principals, [format!("cifs/{HOST}@{AD_REALM}")]);
        assert_eq!(imported.added, 2, "AES-256 and AES-128 keys: {imported:?}");
        for (kind, name) in [("group", "Sales"), ("user", CAROL.0)] {
            let recorded = format!("{AD_DOMAIN}\\{name}");
            kerberos::set_domain_name(&control, &actor, &recorded, &dc.sid(kind, name)).await.expect("domain name");
        }
        let share = |name: &str, permissions: Vec<(String, Access)>| ShareConfig {
            name: name.into(),
            path: PathBuf::new(),
            description: String::new(),
            permissions,
            encrypt_data: false,
            access_based_enumeration: false,
            max_users: None,
            continuous_availability: false,
        };
        let sales = server.share_with(share("sales", vec![("CORP\\Sales".into(), Access::Change)])).await;
        server
            .share_with(share(
                "board",
                vec![("CORP\\Sales".into(), Access::Full), ("CORP\\carol".into(), Access::Deny)],
            ))
            .await;
        Domain { dc, server, sales }
    }

    /// `kinit USER` at the DC and `kvno cifs/fs.corp.example.test`: a fresh ticket with a fresh PAC.
    async fn tickets(&self, (user, password): (&str, &str)) -> KerberosClient {
        let client = KerberosClient::new(self.dc.conf(), self.dc.path(), user);
        let _ = std::fs::remove_file(&client.cache);
        let output = client.kinit(user, password).await;
        assert!(output.status.success(), "kinit {user}:\n{}\n{}", transcript(&output), self.dc.log());
        let output = client.kvno(&format!("cifs/{HOST}")).await;
        assert!(output.status.success(), "kvno cifs/{HOST} for {user}:\n{}", transcript(&output));
        client
    }

    async fn smbclient(&self, client: &KerberosClient, share: &str, dir: &Path, commands: &str) -> Output {
        let unc = format!("//{HOST}/{share}");
        let port = self.server.port();
        let args = [unc.as_str(), "-p", port.as_str(), "--use-kerberos=required", "-c", commands];
        client.run_in("smbclient", &args, dir).await
    }
}

impl Domain {
    /// Keeps an interactive smbclient connected to `share` and reads the sessions as the
    /// Sessions page does (`backend::sessions::live`) until it shows `user` on `share`.
    async fn sessions_page_shows(&self, client: &KerberosClient, share: &str, user: &str) {
        use tokio::io::AsyncWriteExt;
        let unc = format!("//{HOST}/{share}");
        let mut smbclient = tokio::process::Command::new("smbclient")
            .args([unc.as_str(), "-p", &self.server.port(), "--use-kerberos=required", "--no-pass"])
            .envs(client.env())
            .stdin(std::process::Stdio::piped())
            .stdout(std::fs::File::create(self.dc.path().join("smbclient.out")).unwrap())
            .stderr(std::fs::File::create(self.dc.path().join("smbclient.err")).unwrap())
            .kill_on_drop(true)
            .spawn()
            .expect("smbclient");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let row = loop {
            let live = app::backend::sessions::live(&self.server.engine);
            let session = live.sessions.into_iter().find(|row| row.user == user);
            if let Some(row) = session.as_ref().filter(|row| row.shares.iter().any(|s| s == share)) {
                break row.clone();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no session of {user} on {share}: {session:?}; smbclient said:\n{}\n{}",
                std::fs::read_to_string(self.dc.path().join("smbclient.out")).unwrap_or_default(),
                std::fs::read_to_string(self.dc.path().join("smbclient.err")).unwrap_or_default()
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        assert_eq!(row.transport, "TCP");
        let mut stdin = smbclient.stdin.take().unwrap();
        stdin.write_all(b"exit\n").await.unwrap();
        drop(stdin);
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), smbclient.wait()).await;
    }
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn logons(events: &mut tokio::sync::broadcast::Receiver<Event>) -> Vec<String> {
    let mut users = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let Event::LogonSucceeded { user, .. } = event {
            users.push(user);
        }
    }
    users
}

#[tokio::test(flavor = "multi_thread")]
async fn domain_users_sign_in_with_kerberos_and_pac_groups_decide_share_access_as_on_windows() {
    let domain = Domain::new().await;
    let mut events = domain.server.engine.subscribe();
    let local = tempfile::tempdir().unwrap();
    std::fs::write(local.path().join("plan.txt"), b"quarterly plan\n").unwrap();

    // alice is in CORP\Sales: she writes and reads on `sales`, and signs in as CORP\alice,
    // which is what the Sessions page shows.
    let alice = domain.tickets(ALICE).await;
    let output = domain.smbclient(&alice, "sales", local.path(), "put plan.txt; get plan.txt back.txt").await;
    assert!(
        output.status.success() && !text(&output).contains("NT_STATUS_"),
        "alice on sales:\n{}",
        transcript(&output)
    );
    assert_eq!(std::fs::read(domain.sales.join("plan.txt")).unwrap(), b"quarterly plan\n");
    assert_eq!(std::fs::read(local.path().join("back.txt")).unwrap(), b"quarterly plan\n");
    assert_eq!(logons(&mut events), [format!("{AD_DOMAIN}\\alice")], "the session's identity is the domain user");
    domain.sessions_page_shows(&alice, "sales", &format!("{AD_DOMAIN}\\alice")).await;
    logons(&mut events);

    // bob is in no group the share names: refused at TREE_CONNECT, as Windows does.
    let bob = domain.tickets(BOB).await;
    let output = domain.smbclient(&bob, "sales", local.path(), "ls").await;
    assert!(text(&output).contains("NT_STATUS_ACCESS_DENIED"), "bob on sales:\n{}", transcript(&output));
    assert_eq!(logons(&mut events), [format!("{AD_DOMAIN}\\bob")], "bob signed in; only the share refused him");

    // carol is in Sales, but `board` denies her by name: Deny wins over the group's Full.
    let carol = domain.tickets(CAROL).await;
    let output = domain.smbclient(&carol, "board", local.path(), "ls").await;
    assert!(text(&output).contains("NT_STATUS_ACCESS_DENIED"), "carol on board:\n{}", transcript(&output));
    let output = domain.smbclient(&alice, "board", local.path(), "ls").await;
    assert!(
        output.status.success() && !text(&output).contains("NT_STATUS_"),
        "alice on board:\n{}",
        transcript(&output)
    );

    // impacket, whose hand-built AP-REQ has no GSS checksum, signs in as alice with her ticket.
    let script = format!("{}/tests/clients/impacket_kerberos.py", env!("CARGO_MANIFEST_DIR"));
    let port = domain.server.port();
    let mut env = alice.env();
    env.retain(|(key, _)| *key != "KRB5CCNAME");
    env.push(("KRB5CCNAME", alice.cache.display().to_string()));
    let python = support::python();
    let args = [script.as_str(), "127.0.0.1", HOST, &port, AD_REALM, ALICE.0, "sales", "plan.txt", "quarterly plan\n"];
    let output =
        support::run_tool_env(python.to_str().unwrap(), &args, &env, None, None, std::time::Duration::from_secs(60))
            .await;
    assert!(output.status.success(), "impacket with Kerberos:\n{}", transcript(&output));

    // bob joins Sales on the DC: his next ticket's PAC carries the group, and the share opens.
    domain.dc.samba_tool(&["group", "addmembers", "Sales", BOB.0]);
    let bob = domain.tickets(BOB).await;
    let output = domain.smbclient(&bob, "sales", local.path(), "get plan.txt bob.txt").await;
    assert!(output.status.success() && !text(&output).contains("NT_STATUS_"), "bob in Sales:\n{}", transcript(&output));
    assert_eq!(std::fs::read(local.path().join("bob.txt")).unwrap(), b"quarterly plan\n");
}

/// The seed scenario natively: a remote laptop's client (the `smb` crate, whose Kerberos is
/// sspi-rs's) knows only the server's public name. It gets alice's tickets from the domain
/// through EdgeShare's KDC proxy alone and maps `\\localhost\sales` over QUIC; the PAC's
/// CORP\Sales grants the share. sspi-rs always asks for user-to-user, so the server holds a TGT
/// of its own service account (an AS exchange with its keytab key, as each round of the server
/// does) and hands it over; the DC then issues alice's ticket under that TGT's session key.
/// (An MIT KDC cannot stand in here: it sends the AS-REP's encrypted part as EncTGSRepPart,
/// which RFC 4120 section 5.4.2 allows and sspi-rs 0.21 refuses.)
#[tokio::test(flavor = "multi_thread")]
async fn the_smb_crate_gets_its_tickets_through_the_kdc_proxy_and_maps_a_share_over_quic() {
    const NAME: &str = "localhost";
    let dc = SambaDc::start_at("127.0.0.3", &[(ALICE.0, ALICE.1, &["Sales"])], &[NAME]);
    let server = SmbServer::start().await;
    let control = Control::command_line(server.db.clone());
    let actor = Actor::CommandLine { uid: 0 };
    kerberos::set_realm(&control, &actor, AD_REALM, &[dc.kdc.to_string()]).await.expect("realm");
    let keytab = std::fs::read(dc.keytab(NAME)).unwrap();
    kerberos::import_keytab(&control, &actor, &keytab, "exportkeytab").await.expect("keytab");
    let sid = dc.sid("group", "Sales");
    kerberos::set_domain_name(&control, &actor, &format!("{AD_DOMAIN}\\Sales"), &sid).await.expect("domain name");
    let sales = server
        .share_with(ShareConfig {
            name: "sales".into(),
            path: PathBuf::new(),
            description: String::new(),
            // Full: the client's overwrite asks for GENERIC_ALL, which Change does not grant.
            permissions: vec![("CORP\\Sales".into(), Access::Full)],
            encrypt_data: false,
            access_based_enumeration: false,
            max_users: None,
            continuous_availability: false,
        })
        .await;
    let (quic, ca_der) = server.enable_quic(&[NAME], false).await;
    let ca_pem = server.quic_ca_pem().await;
    let kdc_proxy = RunningKdcProxy::start(&server, NAME).await;

    let mut tickets = server::service_tickets::ServiceTickets::default();
    tickets.refresh(&server.db, &server.engine).await;
    let held: Vec<String> = tickets.held().iter().map(|tgt| tgt.principal()).collect();
    assert_eq!(held, [format!("cifs/{NAME}@{AD_REALM}")], "the server's own TGT:\n{}", dc.log());

    let mut events = server.engine.subscribe();
    let user = format!("{}@{AD_REALM}", ALICE.0);
    let client = SmbCrateKerberos {
        realm: AD_REALM,
        kdc_url: &kdc_proxy.url,
        ca_pem: &ca_pem,
        ca_der: &ca_der,
        quic,
        name: NAME,
        share: "sales",
        user: &user,
        password: ALICE.1,
    };
    let content = "written over QUIC with a ticket from the KDC proxy";
    let output = client.write_and_read("seed.txt", content).await;
    let signed_in = logons(&mut events);
    assert!(output.status.success(), "the smb crate with Kerberos over QUIC ({signed_in:?}):\n{}", transcript(&output));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim_end(), content, "{}", transcript(&output));
    assert_eq!(std::fs::read_to_string(sales.join("seed.txt")).unwrap(), content);
    assert!(kdc_proxy.forwarded() >= 2, "the AS and TGS exchanges went through the KDC proxy");
    assert!(
        !signed_in.is_empty() && signed_in.iter().all(|u| *u == format!("{AD_DOMAIN}\\alice")),
        "the session's identity is the domain user: {signed_in:?}"
    );
}
