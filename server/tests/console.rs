//! The console booted in-process (axum `oneshot`, no sockets): sign-in, roles and their checks on
//! the server, cross-site refusal, host names, the setup token, the health endpoint; then its
//! listener on a loopback socket (timeouts, connection limit).
//!
//! Some tests measure the whole process (its peak memory, its count of argon2 computations), so
//! tests that boot a console run one at a time even under `cargo test` (nextest gives each its
//! own process anyway).

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use app::backend::ServerInfo;
use app::backend::passwords;
use app::backend::setup_token::SetupToken;
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use sqlx::SqlitePool;
use tower::ServiceExt;

struct Console {
    router: Router,
    db: SqlitePool,
    _data: tempfile::TempDir,
    _serial: tokio::sync::MutexGuard<'static, ()>,
}

struct Reply {
    status: StatusCode,
    cookie: Option<String>,
    set_cookie: Option<String>,
    headers: axum::http::HeaderMap,
    body: String,
}

/// A browser-like client: keeps the session cookie and sends a same-origin Origin header; with
/// an address, the server sees it as the client's (the sign-in throttle counts per address).
#[derive(Clone, Default)]
struct Client {
    cookie: Option<String>,
    address: Option<SocketAddr>,
}

impl Client {
    fn from(address: &str) -> Client {
        Client { cookie: None, address: Some(address.parse().unwrap()) }
    }
}

const HOST: &str = "127.0.0.1:8443";

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl Console {
    async fn boot() -> Console {
        Console::boot_with(None).await
    }

    /// A console as it runs on an address other machines reach: the first administrator needs
    /// `setup_token`.
    async fn boot_with(setup_token: Option<&str>) -> Console {
        let serial = SERIAL.lock().await;
        let data = tempfile::tempdir().unwrap();
        let (db, sessions) = server::db::open(data.path()).await.unwrap();
        let config = server::config::ServeConfig {
            console_addr: HOST.parse().unwrap(),
            console_plain_http: false,
            console_cert: None,
            console_key: None,
            server_name: Some("test-server".into()),
            console_hosts: vec!["console.example.com".into()],
            console_max_connections: 256,
            site_root: "target/site".into(),
            session_idle_minutes: 30,
            shutdown_grace_seconds: 1,
            smb_tcp_addr: None,
        };
        let router = server::web::router(server::web::WebConfig {
            leptos_options: server::leptos_options(Path::new("target/site"), &config),
            db: db.clone(),
            sessions,
            info: ServerInfo {
                server_name: "test-server".into(),
                version: "test".into(),
                started_at: app::backend::now(),
                console_url: config.console_url(),
                console_tls: None,
                database_path: server::db::path(data.path()),
            },
            tls: true,
            session_idle_minutes: 30,
            engine: smb_core::EngineHandle::new(smb_core::EngineConfig::default()),
            allowed_hosts: server::hosts::AllowedHosts::new(
                "test-server",
                &[],
                config.console_hosts.iter().map(String::as_str),
            ),
            setup_token: setup_token.map(SetupToken::from_text),
            kdc_proxy: Default::default(),
        });
        Console { router, db, _data: data, _serial: serial }
    }

    /// Sends `request` with this console's Host unless it names one.
    async fn send(&self, client: &Client, mut request: axum::http::request::Builder, body: Body) -> Reply {
        if !request.headers_ref().is_some_and(|h| h.contains_key(header::HOST)) {
            request = request.header(header::HOST, HOST);
        }
        if let Some(cookie) = &client.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        if let Some(address) = client.address {
            request = request.extension(ConnectInfo(address));
        }
        let response = self.router.clone().oneshot(request.body(body).unwrap()).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let set_cookie = headers.get(header::SET_COOKIE).map(|v| v.to_str().unwrap().to_owned());
        let cookie = set_cookie.as_ref().map(|c| c.split(';').next().unwrap().to_owned());
        let body = String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
        Reply { status, cookie, set_cookie, headers, body }
    }

    async fn call(&self, client: &mut Client, function: &str, form: &[(&str, &str)]) -> Reply {
        let reply = self.call_once(client, function, form).await;
        if let Some(cookie) = &reply.cookie {
            client.cookie = Some(cookie.clone());
        }
        reply
    }

    /// A server function call that keeps no cookie (for calls in parallel).
    async fn call_once(&self, client: &Client, function: &str, form: &[(&str, &str)]) -> Reply {
        let body = form.iter().map(|(k, v)| format!("{k}={}", v.replace(' ', "+"))).collect::<Vec<_>>().join("&");
        let request = Request::post(format!("/api/{function}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, format!("https://{HOST}"));
        self.send(client, request, Body::from(body)).await
    }

    async fn get(&self, client: &Client, path: &str) -> Reply {
        self.send(client, Request::get(path).header(header::ACCEPT, "text/html"), Body::empty()).await
    }

    async fn admin(&self) -> Client {
        let mut client = Client::default();
        let reply = self
            .call(
                &mut client,
                "create_first_admin",
                &[("name", "root"), ("password", "root password 1"), ("confirm", "root password 1")],
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        client
    }

    async fn signed_in(&self, name: &str, password: &str) -> Client {
        self.signed_in_from(name, password, Client::default()).await
    }

    async fn signed_in_from(&self, name: &str, password: &str, mut client: Client) -> Client {
        let reply = self.call(&mut client, "sign_in", &[("name", name), ("password", password)]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        client
    }
}

#[tokio::test]
async fn healthz_reports_the_server_and_its_database() {
    let console = Console::boot().await;
    let reply = console.get(&Client::default(), "/healthz").await;
    assert_eq!(reply.status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(json["status"], "ok");
    assert_eq!(json["database"], "ok");
}

#[tokio::test]
async fn metrics_are_served_in_the_prometheus_text_format_without_signing_in() {
    let console = Console::boot().await;
    let reply = console.get(&Client::default(), "/metrics").await;
    assert_eq!(reply.status, StatusCode::OK);
    for line in ["edgeshare_connections{transport=\"tcp\"} 0", "edgeshare_logon_failures_total 0", "# EOF"] {
        assert!(reply.body.lines().any(|l| l == line), "missing {line:?} in:\n{}", reply.body);
    }
}

#[tokio::test]
async fn the_health_report_is_served_as_json_and_says_quic_is_off() {
    let console = Console::boot().await;
    let reply = console.get(&Client::default(), "/api/health").await;
    assert_eq!(reply.status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(json["status"], "warning");
    let listener = json["items"].as_array().unwrap().iter().find(|i| i["check"] == "Listener").unwrap();
    assert_eq!(listener["level"], "warning");
    assert!(listener["detail"].as_str().unwrap().contains("SMB over QUIC is off"));
}

#[tokio::test]
async fn server_functions_refuse_callers_who_are_not_signed_in() {
    let console = Console::boot().await;
    console.admin().await;
    let calls: [(&str, Vec<(&str, &str)>); 5] = [
        ("overview", vec![]),
        (
            "list_audit",
            vec![
                ("filter[action]", ""),
                ("filter[actor]", ""),
                ("filter[outcome]", ""),
                ("filter[text]", ""),
                ("page", "1"),
            ],
        ),
        ("list_accounts", vec![]),
        (
            "create_account",
            vec![("name", "x"), ("role", "admin"), ("password", "xxxxxxxxxxxx"), ("confirm", "xxxxxxxxxxxx")],
        ),
        ("remove_account", vec![("name", "root")]),
    ];
    for (function, form) in calls {
        let reply = console.call(&mut Client::default(), function, &form).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{function}: {}", reply.body);
        assert!(!reply.body.contains("root"), "{function} leaked data: {}", reply.body);
    }
    let reply = console.call(&mut Client::default(), "overview", &[]).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body, "\"Unauthenticated\"");
}

#[tokio::test]
async fn pages_redirect_to_setup_then_to_sign_in() {
    let console = Console::boot().await;
    let reply = console.get(&Client::default(), "/audit").await;
    assert_eq!(reply.status, StatusCode::FOUND);
    console.admin().await;
    let reply = console.get(&Client::default(), "/audit").await;
    assert_eq!(reply.status, StatusCode::FOUND);
    assert!(reply.body.is_empty() || !reply.body.contains("Audit log</h1>"));
}

#[tokio::test]
async fn the_first_administrator_can_be_created_only_once() {
    let console = Console::boot().await;
    console.admin().await;
    let reply = console
        .call(
            &mut Client::default(),
            "create_first_admin",
            &[("name", "late"), ("password", "late password 1"), ("confirm", "late password 1")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn signing_in_sets_a_secure_http_only_strict_cookie_under_a_fresh_id() {
    let console = Console::boot().await;
    let admin = console.admin().await;
    let mut client = Client { cookie: admin.cookie.clone(), ..Client::default() };
    let reply = console.call(&mut client, "sign_in", &[("name", "root"), ("password", "root password 1")]).await;
    assert_eq!(reply.status, StatusCode::OK);
    let set_cookie = reply.set_cookie.expect("a session cookie");
    for attribute in ["__Host-edgeshare_session=", "HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{attribute} missing from {set_cookie}");
    }
    assert_ne!(client.cookie, admin.cookie, "the session id changes at sign-in");
}

#[tokio::test]
async fn a_wrong_password_is_a_field_error_and_is_audited() {
    let console = Console::boot().await;
    let admin = console.admin().await;
    let reply =
        console.call(&mut Client::default(), "sign_in", &[("name", "root"), ("password", "wrong password")]).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body.contains("\"field\":\"password\""), "{}", reply.body);
    let mut admin = admin;
    let audit = console
        .call(
            &mut admin,
            "list_audit",
            &[
                ("filter[action]", "console.sign_in"),
                ("filter[actor]", ""),
                ("filter[outcome]", "failure"),
                ("filter[text]", ""),
                ("page", "1"),
            ],
        )
        .await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.body);
    assert!(audit.body.contains("wrong account name or password"), "{}", audit.body);
}

#[tokio::test]
async fn readers_are_refused_every_change_by_the_server() {
    let console = Console::boot().await;
    let mut admin = console.admin().await;
    let reply = console
        .call(
            &mut admin,
            "create_account",
            &[("name", "viewer"), ("role", "reader"), ("password", "viewer password"), ("confirm", "viewer password")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let mut reader = console.signed_in("viewer", "viewer password").await;

    let attempts: [(&str, Vec<(&str, &str)>); 4] = [
        (
            "create_account",
            vec![("name", "x"), ("role", "admin"), ("password", "xxxxxxxxxxxx"), ("confirm", "xxxxxxxxxxxx")],
        ),
        ("remove_account", vec![("name", "root")]),
        ("set_account_role", vec![("name", "viewer"), ("role", "admin")]),
        (
            "reset_account_password",
            vec![("name", "root"), ("password", "taken over 123"), ("confirm", "taken over 123")],
        ),
    ];
    for (function, form) in attempts {
        let reply = console.call(&mut reader, function, &form).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{function}: {}", reply.body);
    }
    // Reading is allowed.
    let reply = console.call(&mut reader, "list_accounts", &[]).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.contains("\"root\""));
    // And nothing changed.
    console.signed_in("root", "root password 1").await;
}

#[tokio::test]
async fn cross_site_posts_are_refused_before_any_server_function_runs() {
    let console = Console::boot().await;
    let admin = console.admin().await;
    let request = Request::post("/api/create_account")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ORIGIN, "https://attacker.example");
    let reply = console
        .send(&admin, request, Body::from("name=evil&role=admin&password=evil+password&confirm=evil+password"))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let mut admin = admin;
    let list = console.call(&mut admin, "list_accounts", &[]).await;
    assert!(!list.body.contains("evil"));
}

#[tokio::test]
async fn a_password_reset_ends_the_accounts_other_sessions() {
    let console = Console::boot().await;
    let mut admin = console.admin().await;
    console
        .call(
            &mut admin,
            "create_account",
            &[("name", "ops"), ("role", "admin"), ("password", "ops password 1"), ("confirm", "ops password 1")],
        )
        .await;
    let mut ops = console.signed_in("ops", "ops password 1").await;
    assert_eq!(console.call(&mut ops, "overview", &[]).await.status, StatusCode::OK);
    let reply = console
        .call(
            &mut admin,
            "reset_account_password",
            &[("name", "ops"), ("password", "new ops password"), ("confirm", "new ops password")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(console.call(&mut ops, "overview", &[]).await.status, StatusCode::UNAUTHORIZED);
    console.signed_in("ops", "new ops password").await;
}

#[tokio::test]
async fn a_removed_account_is_signed_out_at_its_next_request() {
    let console = Console::boot().await;
    let mut admin = console.admin().await;
    console
        .call(
            &mut admin,
            "create_account",
            &[("name", "temp"), ("role", "reader"), ("password", "temp password"), ("confirm", "temp password")],
        )
        .await;
    let mut temp = console.signed_in("temp", "temp password").await;
    assert_eq!(console.call(&mut admin, "remove_account", &[("name", "temp")]).await.status, StatusCode::OK);
    assert_eq!(console.call(&mut temp, "overview", &[]).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn unknown_pages_are_404() {
    let console = Console::boot().await;
    let reply = console.get(&Client::default(), "/definitely/not/here").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.body.contains("Page not found"));
}

/// Resident memory now and at its peak since [`reset_peak_memory`], in MiB (Linux).
fn memory_mib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| {
        let line = status.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name} missing"));
        line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() / 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Makes the peak equal to the memory resident now (clear_refs, Linux 4.0 and later).
fn reset_peak_memory() {
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak resident memory");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_wrong_passwords_cannot_bypass_the_throttle() {
    let console = Console::boot().await;
    console.admin().await;
    let attacker = Client::from("192.0.2.66:40000");
    let attempts =
        (0..40).map(|_| console.call_once(&attacker, "sign_in", &[("name", "root"), ("password", "a wrong password")]));
    let replies = futures::future::join_all(attempts).await;
    let checked = replies.iter().filter(|r| r.status == StatusCode::BAD_REQUEST).count();
    let refused = replies.iter().filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!(checked + refused, 40, "{:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
    assert!(checked as i64 <= app::backend::throttle::FREE_FAILURES, "{checked} wrong passwords were checked");
    // The right password from the same address is refused too, for now.
    let reply = console.call_once(&attacker, "sign_in", &[("name", "root"), ("password", "root password 1")]).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "{}", reply.body);
    assert!(reply.headers.contains_key(header::RETRY_AFTER));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_sign_ins_keeps_memory_bounded_and_the_console_usable() {
    let console = Console::boot().await;
    console.admin().await;
    // Each from its own address and name, so that the throttle lets every one through: only the
    // bound on argon2 computations at once stands between the burst and the server's memory.
    let attackers: Vec<(Client, String)> =
        (0..64).map(|i| (Client::from(&format!("192.0.2.{}:40000", i + 1)), format!("guess{i}"))).collect();
    let (before, _) = memory_mib();
    reset_peak_memory();
    let computed = passwords::computed();
    let console = &console;
    let attempts = attackers.iter().map(|(client, name)| async move {
        console.call_once(client, "sign_in", &[("name", name.as_str()), ("password", "a wrong password")]).await
    });
    let replies = futures::future::join_all(attempts).await;
    let (_, peak) = memory_mib();
    let checked = replies.iter().filter(|r| r.status == StatusCode::BAD_REQUEST).count();
    let busy: Vec<&Reply> = replies.iter().filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS).collect();
    assert_eq!(checked + busy.len(), 64, "{:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
    assert!(checked >= 1);
    for reply in &busy {
        assert!(reply.body.contains("\"Busy\""), "a busy server says so: {}", reply.body);
        assert!(reply.headers.contains_key(header::RETRY_AFTER));
    }
    assert!(passwords::computed() - computed <= 64 + 1, "at most one check per attempt, and the decoy");
    // argon2 works through 19 MiB per computation: 64 at once took over 1 GiB, and memory the
    // allocator kept per thread 400 MiB even two at a time; the turns' own memory is 2 to 4 x 19.
    let growth = peak.saturating_sub(before);
    assert!(growth < 128, "peak memory grew by {growth} MiB during the burst ({before} -> {peak} MiB)");
    console.signed_in_from("root", "root password 1", Client::from("198.51.100.1:40000")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_first_administrators_make_one_and_hash_one_password() {
    let console = Console::boot().await;
    let computed = passwords::computed();
    let names: Vec<String> = (0..16).map(|i| format!("admin{i}")).collect();
    let (console, anyone) = (&console, &Client::default());
    let attempts = names.iter().map(|name| async move {
        let form = [("name", name.as_str()), ("password", "first password 1"), ("confirm", "first password 1")];
        console.call_once(anyone, "create_first_admin", &form).await
    });
    let replies = futures::future::join_all(attempts).await;
    let created = replies.iter().filter(|r| r.status == StatusCode::OK).count();
    let refused = replies.iter().filter(|r| r.status == StatusCode::CONFLICT).count();
    assert_eq!((created, refused), (1, 15), "{:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
    let accounts: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM console_accounts").fetch_one(&console.db).await.unwrap();
    assert_eq!(accounts, 1);
    assert_eq!(passwords::computed() - computed, 1, "only the created administrator's password is hashed");
    // Once it exists, a late attempt is refused without hashing anything.
    let late = console
        .call_once(
            &Client::default(),
            "create_first_admin",
            &[("name", "late"), ("password", "late password 1"), ("confirm", "late password 1")],
        )
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    assert_eq!(passwords::computed() - computed, 1);
}

#[tokio::test]
async fn requests_for_another_host_name_are_refused() {
    let console = Console::boot().await;
    for host in ["127.0.0.1:8443", "localhost:8443", "test-server:8443", "console.example.com", "[::1]:8443"] {
        let reply =
            console.send(&Client::default(), Request::get("/healthz").header(header::HOST, host), Body::empty()).await;
        assert_eq!(reply.status, StatusCode::OK, "{host}: {}", reply.body);
    }
    // DNS rebinding: the attacker's page, under the attacker's name now resolving to this console.
    let rebound = "rebind.attacker.example:8443";
    let reply =
        console.send(&Client::default(), Request::get("/setup").header(header::HOST, rebound), Body::empty()).await;
    assert_eq!(reply.status, StatusCode::MISDIRECTED_REQUEST);
    let request = Request::post("/api/create_first_admin")
        .header(header::HOST, rebound)
        .header(header::ORIGIN, format!("https://{rebound}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    let body = "name=intruder&password=intruder+password&confirm=intruder+password";
    let reply = console.send(&Client::default(), request, Body::from(body)).await;
    assert_eq!(reply.status, StatusCode::MISDIRECTED_REQUEST, "{}", reply.body);
    assert!(reply.body.contains("--console-hosts"), "{}", reply.body);
    let accounts: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM console_accounts").fetch_one(&console.db).await.unwrap();
    assert_eq!(accounts, 0);
}

#[tokio::test]
async fn a_console_reachable_from_other_machines_wants_the_setup_token_for_the_first_administrator() {
    let token = "ABCDE-FGHJK-LMNPQ-RSTUV-WXYZ2";
    let console = Console::boot_with(Some(token)).await;
    let page = console.get(&Client::default(), "/setup").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("name=\"token\""), "the setup page has no token field:\n{}", page.body);
    let computed = passwords::computed();
    let form = |token: &'static str| {
        [("name", "admin"), ("password", "admin password 1"), ("confirm", "admin password 1"), ("token", token)]
    };
    for (wrong, what) in [("", "missing"), ("ABCDE-FGHJK-LMNPQ-RSTUV-WXYZ3", "wrong")] {
        let reply = console.call_once(&Client::default(), "create_first_admin", &form(wrong)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{what} token: {}", reply.body);
        assert!(reply.body.contains("\"field\":\"token\""), "{what} token: {}", reply.body);
    }
    let reply = console
        .call_once(
            &Client::default(),
            "create_first_admin",
            &[("name", "admin"), ("password", "admin password 1"), ("confirm", "admin password 1")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "no token field at all: {}", reply.body);
    assert_eq!(passwords::computed(), computed, "nothing is hashed before the token is checked");
    let accounts: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM console_accounts").fetch_one(&console.db).await.unwrap();
    assert_eq!(accounts, 0);
    // Copied by hand: lowercase, spaces instead of dashes.
    let reply =
        console.call_once(&Client::default(), "create_first_admin", &form("abcde fghjk lmnpq rstuv wxyz2")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn a_loopback_console_asks_for_no_setup_token() {
    let console = Console::boot().await;
    let page = console.get(&Client::default(), "/setup").await;
    assert!(!page.body.contains("name=\"token\""));
    console.admin().await;
}

#[tokio::test]
async fn console_session_ids_are_not_stored_in_the_database() {
    let console = Console::boot().await;
    let mut admin = console.admin().await;
    let cookie = admin.cookie.clone().expect("a session cookie");
    let id = cookie.split_once('=').unwrap().1.to_owned();
    let rows: Vec<(String, Vec<u8>)> =
        sqlx::query_as("SELECT id, data FROM console_sessions").fetch_all(&console.db).await.unwrap();
    assert!(!rows.is_empty());
    let parsed: tower_sessions::session::Id = id.parse().unwrap();
    for (stored, data) in &rows {
        assert_ne!(stored, &id, "the cookie's session id is stored in clear");
        let bytes = parsed.0.to_le_bytes();
        assert!(!data.windows(bytes.len()).any(|w| w == bytes), "the session record holds the id");
        assert!(!String::from_utf8_lossy(data).contains(&id), "the session record holds the id");
    }
    assert_eq!(console.call(&mut admin, "list_accounts", &[]).await.status, StatusCode::OK, "the session still works");
}

#[tokio::test]
async fn pages_carry_a_content_security_policy_that_allows_only_their_own_inline_scripts() {
    let console = Console::boot().await;
    let page = console.get(&Client::default(), "/setup").await;
    let policy = page.headers.get(header::CONTENT_SECURITY_POLICY).expect("a policy").to_str().unwrap().to_owned();
    assert!(policy.starts_with("default-src 'self'; "), "{policy}");
    let script_src = policy.split(';').map(str::trim).find(|d| d.starts_with("script-src ")).expect("script-src");
    assert!(script_src.contains("'wasm-unsafe-eval'"), "{policy}");
    assert!(!script_src.contains("'unsafe-inline'") && !script_src.contains("'unsafe-eval'"), "{policy}");
    let nonce = script_src
        .split_whitespace()
        .find_map(|source| source.strip_prefix("'nonce-").and_then(|n| n.strip_suffix('\'')))
        .expect("a nonce");
    let scripts: Vec<&str> = page.body.match_indices("<script").map(|(at, _)| &page.body[at..]).collect();
    assert!(!scripts.is_empty(), "the page loads its hydration script");
    for script in scripts {
        let tag = &script[..script.find('>').unwrap()];
        assert!(tag.contains(&format!("nonce=\"{nonce}\"")), "a script the policy refuses: {tag}");
    }
    let again = console.get(&Client::default(), "/setup").await;
    assert_ne!(
        again.headers.get(header::CONTENT_SECURITY_POLICY).unwrap().to_str().unwrap(),
        policy,
        "a nonce per page"
    );
    let health = console.get(&Client::default(), "/healthz").await;
    let policy = health.headers.get(header::CONTENT_SECURITY_POLICY).unwrap().to_str().unwrap();
    assert!(policy.starts_with("default-src 'self'; script-src 'self' 'nonce-"), "{policy}");
}

/// The console's listener on a loopback port, serving a one-route app, stopped when dropped.
struct Listener {
    address: SocketAddr,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Listener {
    async fn start(limits: server::serve::Limits) -> Listener {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let router = Router::new().route("/", axum::routing::get(|| async { "hello" }));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        tokio::spawn(server::serve::serve(listener, None, router, limits, shutdown, Duration::from_millis(100)));
        Listener { address, _stop: stop }
    }
}

fn quick_limits() -> server::serve::Limits {
    server::serve::Limits { header_read_timeout: Duration::from_secs(1), ..server::serve::Limits::new(16) }
}

/// Reads until the server closes the connection (or 5 s pass); returns what it sent and when it closed.
async fn read_until_closed(stream: &mut tokio::net::TcpStream) -> (String, Option<Duration>) {
    use tokio::io::AsyncReadExt;
    let started = Instant::now();
    let mut received = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        let mut buffer = [0; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    (String::from_utf8_lossy(&received).into_owned(), closed.ok().map(|()| started.elapsed()))
}

#[tokio::test]
async fn a_half_sent_request_is_closed_after_the_header_read_timeout() {
    use tokio::io::AsyncWriteExt;
    let listener = Listener::start(quick_limits()).await;
    // Fewer bytes than an HTTP/2 preface, and a request line with half its headers.
    for partial in ["GET / HT", "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "] {
        let mut stream = tokio::net::TcpStream::connect(listener.address).await.unwrap();
        stream.write_all(partial.as_bytes()).await.unwrap();
        let (_, closed) = read_until_closed(&mut stream).await;
        let closed = closed.unwrap_or_else(|| panic!("{partial:?} was still open after 5 s"));
        assert!(closed >= Duration::from_millis(900), "{partial:?} closed after {closed:?}");
    }
}

#[tokio::test]
async fn a_kept_alive_connection_without_a_next_request_is_closed_too() {
    use tokio::io::AsyncWriteExt;
    let listener = Listener::start(quick_limits()).await;
    let mut stream = tokio::net::TcpStream::connect(listener.address).await.unwrap();
    stream.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await.unwrap();
    let (received, closed) = read_until_closed(&mut stream).await;
    assert!(received.starts_with("HTTP/1.1 200"), "{received}");
    assert!(received.ends_with("hello"), "{received}");
    assert!(closed.is_some(), "the idle connection was still open after 5 s");
}

#[tokio::test]
async fn connections_beyond_the_limit_wait_until_one_closes() {
    use tokio::io::AsyncWriteExt;
    let limits = server::serve::Limits { max_connections: 2, max_per_client: 2, ..server::serve::Limits::new(2) };
    let listener = Listener::start(limits).await;
    let first = tokio::net::TcpStream::connect(listener.address).await.unwrap();
    let _second = tokio::net::TcpStream::connect(listener.address).await.unwrap();
    let mut third = tokio::net::TcpStream::connect(listener.address).await.unwrap();
    third.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut byte = [0; 1];
    let early = tokio::time::timeout(Duration::from_millis(500), third.peek(&mut byte)).await;
    assert!(early.is_err(), "a third connection was served beyond the limit of two");
    drop(first);
    let (received, closed) = read_until_closed(&mut third).await;
    assert!(closed.is_some() && received.starts_with("HTTP/1.1 200"), "{received}");
}

#[tokio::test]
async fn one_address_cannot_take_every_place_and_another_address_is_served_meanwhile() {
    use tokio::io::AsyncWriteExt;
    let limits = server::serve::Limits { max_connections: 8, max_per_client: 3, ..server::serve::Limits::new(8) };
    let listener = Listener::start(limits).await;
    // One address holds its three places with connections that send nothing.
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(tokio::net::TcpStream::connect(listener.address).await.unwrap());
    }
    // Its fourth is closed at once, unserved.
    let mut fourth = tokio::net::TcpStream::connect(listener.address).await.unwrap();
    let (received, closed) = read_until_closed(&mut fourth).await;
    let closed = closed.expect("the fourth connection from one address stays open");
    assert!(received.is_empty() && closed < Duration::from_secs(1), "{received:?} after {closed:?}");
    // A client from another address is served meanwhile.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
    let mut other = socket.connect(listener.address).await.unwrap();
    other.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await.unwrap();
    let (received, closed) = read_until_closed(&mut other).await;
    assert!(closed.is_some() && received.starts_with("HTTP/1.1 200"), "{received}");
    // The places come back as the first address closes its connections.
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut again = tokio::net::TcpStream::connect(listener.address).await.unwrap();
    again.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await.unwrap();
    let (received, _) = read_until_closed(&mut again).await;
    assert!(received.starts_with("HTTP/1.1 200"), "{received}");
}
