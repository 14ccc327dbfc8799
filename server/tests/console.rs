//! The console booted in-process (axum `oneshot`, no sockets): sign-in, roles and their checks on
//! the server, cross-site refusal, and the health endpoint.

use std::path::Path;

use app::backend::ServerInfo;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

struct Console {
    router: Router,
    _data: tempfile::TempDir,
}

struct Reply {
    status: StatusCode,
    cookie: Option<String>,
    set_cookie: Option<String>,
    body: String,
}

/// A browser-like client: keeps the session cookie and sends a same-origin Origin header.
#[derive(Clone, Default)]
struct Client {
    cookie: Option<String>,
}

const HOST: &str = "127.0.0.1:8443";

impl Console {
    async fn boot() -> Console {
        let data = tempfile::tempdir().unwrap();
        let (db, sessions) = server::db::open(data.path()).await.unwrap();
        let config = server::config::ServeConfig {
            console_addr: HOST.parse().unwrap(),
            console_plain_http: false,
            console_cert: None,
            console_key: None,
            server_name: Some("test-server".into()),
            site_root: "target/site".into(),
            session_idle_minutes: 30,
            shutdown_grace_seconds: 1,
            smb_tcp_addr: None,
        };
        let router = server::web::router(server::web::WebConfig {
            leptos_options: server::leptos_options(Path::new("target/site"), &config),
            db,
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
        });
        Console { router, _data: data }
    }

    async fn send(&self, client: &Client, request: axum::http::request::Builder, body: Body) -> Reply {
        let mut request = request.header(header::HOST, HOST);
        if let Some(cookie) = &client.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        let response = self.router.clone().oneshot(request.body(body).unwrap()).await.unwrap();
        let status = response.status();
        let set_cookie = response.headers().get(header::SET_COOKIE).map(|v| v.to_str().unwrap().to_owned());
        let cookie = set_cookie.as_ref().map(|c| c.split(';').next().unwrap().to_owned());
        let body = String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
        Reply { status, cookie, set_cookie, body }
    }

    async fn call(&self, client: &mut Client, function: &str, form: &[(&str, &str)]) -> Reply {
        let body = form.iter().map(|(k, v)| format!("{k}={}", v.replace(' ', "+"))).collect::<Vec<_>>().join("&");
        let request = Request::post(format!("/api/{function}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, format!("https://{HOST}"));
        let reply = self.send(client, request, Body::from(body)).await;
        if let Some(cookie) = &reply.cookie {
            client.cookie = Some(cookie.clone());
        }
        reply
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
        let mut client = Client::default();
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
    let mut client = Client { cookie: admin.cookie.clone() };
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
