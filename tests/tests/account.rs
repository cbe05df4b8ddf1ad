//! Accounts (issue 16): display name and email change (only after the link sent to the
//! new address is confirmed), password change ending the other sessions, password reset
//! by a single-use one-hour link, consent at signup, and the first admin from the
//! environment — on both backends, through the real server over HTTP. Links are read
//! from the log mail transport (the body it sends, opened from its sealed copy).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use heepr_store::testing::TestDb;
use serde_json::{Value, json};
use support::*;

const PASSWORD: &str = "correct horse battery";

/// The token of the next link to `path` (`/account/reset-password`) printed by the log
/// mail transport.
fn token_of(server: &Server, path: &str) -> String {
    let needle = format!("{path}?token=");
    let line = server.wait_for_log(&needle);
    let tail = line.split(needle.as_str()).nth(1).unwrap();
    tail.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// `POST path` with `body`: status and the answer (`Null` when empty).
async fn post(c: &reqwest::Client, server: &Server, path: &str, body: Value) -> (u16, Value) {
    let r = c.post(server.url(path)).json(&body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn patch_me(c: &reqwest::Client, server: &Server, body: Value) -> (u16, Value) {
    let r = c.patch(server.url("/api/me")).json(&body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn login(server: &Server, email: &str, password: &str) -> (u16, reqwest::Client) {
    let c = browser();
    let (status, _) = post(
        &c,
        server,
        "/api/auth/login",
        json!({"email": email, "password": password}),
    )
    .await;
    (status, c)
}

async fn me(c: &reqwest::Client, server: &Server) -> (u16, Value) {
    let r = c.get(server.url("/api/me")).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn code(answer: &Value) -> &str {
    answer["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn display_name_at_once_and_an_email_only_after_its_link_is_confirmed() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[]);
        let ann = signup(&server, "ann@example.com", false).await;
        signup(&server, "bob@example.com", false).await;

        let (st, body) = patch_me(&ann, &server, json!({"display_name": "Ann Smith"})).await;
        assert_eq!(st, 200, "{}: {body}", db.label);
        assert_eq!(body["display_name"], "Ann Smith");
        assert_eq!(body["pending_email"], Value::Null);

        // Bad input writes nothing: a taken address (the name in the same request stays).
        let (st, body) = patch_me(&ann, &server, json!({"display_name": "X", "email": "BOB@example.com"})).await;
        assert_eq!((st, code(&body)), (409, "already_exists"), "{}", db.label);
        let (st, body) = patch_me(&ann, &server, json!({"email": "not an address"})).await;
        assert_eq!((st, code(&body)), (422, "validation_failed"), "{}", db.label);
        let (st, body) = patch_me(&ann, &server, json!({"display_name": ""})).await;
        assert_eq!((st, code(&body)), (422, "validation_failed"), "{}", db.label);
        assert_eq!(me(&ann, &server).await.1["display_name"], "Ann Smith");
        let (st, _) = patch_me(&browser(), &server, json!({"display_name": "Nobody"})).await;
        assert_eq!(st, 401, "{}: no session", db.label);

        // The change waits for its confirmation.
        let (st, body) = patch_me(&ann, &server, json!({"email": "ann.new@example.com"})).await;
        assert_eq!(st, 200, "{}: {body}", db.label);
        assert_eq!(body["pending_email"], "ann.new@example.com");
        assert_eq!(body["email"], "ann@example.com");
        let token = token_of(&server, "/account/confirm-email");
        assert_eq!(me(&ann, &server).await.1["email"], "ann@example.com");
        assert_eq!(login(&server, "ann.new@example.com", PASSWORD).await.0, 401);

        let (st, body) = post(
            &browser(),
            &server,
            "/api/me/email/confirm",
            json!({"token": "acl_nope"}),
        )
        .await;
        assert_eq!((st, code(&body)), (404, "token_unknown"), "{}", db.label);
        let (st, body) = post(&browser(), &server, "/api/me/email/confirm", json!({"token": token})).await;
        assert_eq!(st, 200, "{}: {body}", db.label);
        assert_eq!(body["email"], "ann.new@example.com");
        assert_eq!(me(&ann, &server).await.1["email"], "ann.new@example.com");
        assert_eq!(login(&server, "ann.new@example.com", PASSWORD).await.0, 200);
        assert_eq!(login(&server, "ann@example.com", PASSWORD).await.0, 401);
        let (st, body) = post(&browser(), &server, "/api/me/email/confirm", json!({"token": token})).await;
        assert_eq!((st, code(&body)), (410, "token_used"), "{}: once only", db.label);
    }
}

#[tokio::test]
async fn a_password_change_needs_the_current_one_and_ends_every_other_session() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[]);
        let here = signup(&server, "ann@example.com", false).await;
        let (_, elsewhere) = login(&server, "ann@example.com", PASSWORD).await;
        assert_eq!(me(&elsewhere, &server).await.0, 200);

        let change = |current: &str, new: &str| json!({"current_password": current, "new_password": new});
        let (st, body) = post(
            &here,
            &server,
            "/api/me/password",
            change("wrong guess", "a new long secret"),
        )
        .await;
        assert_eq!((st, code(&body)), (403, "wrong_password"), "{}", db.label);
        let (st, body) = post(&here, &server, "/api/me/password", change(PASSWORD, "short")).await;
        assert_eq!((st, code(&body)), (422, "validation_failed"), "{}", db.label);
        assert_eq!(
            login(&server, "ann@example.com", PASSWORD).await.0,
            200,
            "nothing written"
        );
        let (st, _) = post(
            &browser(),
            &server,
            "/api/me/password",
            change(PASSWORD, "a new long secret"),
        )
        .await;
        assert_eq!(st, 401, "{}: no session", db.label);

        let (st, body) = post(
            &here,
            &server,
            "/api/me/password",
            change(PASSWORD, "a new long secret"),
        )
        .await;
        assert_eq!(st, 204, "{}: {body}", db.label);
        assert_eq!(
            me(&here, &server).await.0,
            200,
            "{}: the asking session stays",
            db.label
        );
        assert_eq!(
            me(&elsewhere, &server).await.0,
            401,
            "{}: the other one ended",
            db.label
        );
        assert_eq!(login(&server, "ann@example.com", PASSWORD).await.0, 401);
        assert_eq!(login(&server, "ann@example.com", "a new long secret").await.0, 200);
    }
}

#[tokio::test]
async fn a_reset_link_works_once_within_the_hour_and_ends_every_session() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[("HEEPR_TEST_CLOCK", "1")]);
        let ann = signup(&server, "ann@example.com", false).await;
        let anon = browser();

        // The answer never tells whether the address has an account.
        let (st, body) = post(
            &anon,
            &server,
            "/api/auth/password-reset",
            json!({"email": "nobody@example.com"}),
        )
        .await;
        assert_eq!((st, body["status"].as_str()), (202, Some("accepted")), "{}", db.label);
        let (st, _) = post(
            &anon,
            &server,
            "/api/auth/password-reset",
            json!({"email": "Ann@Example.com"}),
        )
        .await;
        assert_eq!(st, 202, "{}", db.label);
        let token = token_of(&server, "/account/reset-password");

        let confirm = |token: &str, pw: &str| json!({"token": token, "new_password": pw});
        let path = "/api/auth/password-reset/confirm";
        let (st, body) = post(&anon, &server, path, confirm("acl_unknown", "a brand new secret")).await;
        assert_eq!((st, code(&body)), (404, "token_unknown"), "{}", db.label);
        let (st, body) = post(&anon, &server, path, confirm(&token, "short")).await;
        assert_eq!((st, code(&body)), (422, "validation_failed"), "{}", db.label);
        let (st, body) = post(&anon, &server, path, confirm(&token, "a brand new secret")).await;
        assert_eq!(st, 204, "{}: {body}", db.label);
        assert_eq!(me(&ann, &server).await.0, 401, "{}: every session ended", db.label);
        assert_eq!(login(&server, "ann@example.com", "a brand new secret").await.0, 200);
        let (st, body) = post(&anon, &server, path, confirm(&token, "yet another secret")).await;
        assert_eq!((st, code(&body)), (410, "token_used"), "{}: single use", db.label);
        assert_eq!(
            login(&server, "ann@example.com", "a brand new secret").await.0,
            200,
            "nothing written"
        );

        // A second request voids the first; an hour later the link has expired.
        post(
            &anon,
            &server,
            "/api/auth/password-reset",
            json!({"email": "ann@example.com"}),
        )
        .await;
        let first = token_of(&server, "/account/reset-password");
        post(
            &anon,
            &server,
            "/api/auth/password-reset",
            json!({"email": "ann@example.com"}),
        )
        .await;
        let second = token_of(&server, "/account/reset-password");
        let (st, body) = post(&anon, &server, path, confirm(&first, "yet another secret")).await;
        assert_eq!((st, code(&body)), (410, "token_used"), "{}: replaced", db.label);
        let (st, _) = post(&anon, &server, "/api/test/clock", json!({"seconds": 3600})).await;
        assert_eq!(st, 200);
        let (st, body) = post(&anon, &server, path, confirm(&second, "yet another secret")).await;
        assert_eq!((st, code(&body)), (410, "token_expired"), "{}", db.label);
        assert_eq!(login(&server, "ann@example.com", "a brand new secret").await.0, 200);
    }
}

#[tokio::test]
async fn reset_requests_are_counted_by_the_login_limiter() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[("HEEPR_LOGIN_LIMIT_EMAIL", "3")]);
        signup(&server, "ann@example.com", false).await;
        let anon = browser();
        for _ in 0..3 {
            let (st, _) = post(
                &anon,
                &server,
                "/api/auth/password-reset",
                json!({"email": "ann@example.com"}),
            )
            .await;
            assert_eq!(st, 202);
        }
        let (st, body) = post(
            &anon,
            &server,
            "/api/auth/password-reset",
            json!({"email": "ann@example.com"}),
        )
        .await;
        assert_eq!((st, code(&body)), (429, "too_many_attempts"), "{}", db.label);
    }
}

#[tokio::test]
async fn consent_is_recorded_and_required_only_when_configured() {
    for db in TestDb::all() {
        let server = Server::start(&db, &[]);
        let c = browser();
        let (st, body) = post(
            &c,
            &server,
            "/api/auth/signup",
            json!({"email": "ann@example.com", "password": PASSWORD, "accept_terms": true, "age_confirmed": true}),
        )
        .await;
        assert_eq!(st, 201, "{}: {body}", db.label);
        assert!(body["terms_accepted_at"].is_string() && body["age_confirmed_at"].is_string());
        let plain = signup(&server, "bob@example.com", false).await;
        assert_eq!(me(&plain, &server).await.1["terms_accepted_at"], Value::Null);
        let (st, body) = post(
            &browser(),
            &server,
            "/api/auth/signup",
            json!({"email": "kid@example.com", "password": PASSWORD, "age_confirmed": false}),
        )
        .await;
        assert_eq!((st, body["error"]["field"].as_str()), (422, Some("age_confirmed")));

        let strict = Server::start(&db, &[("HEEPR_REQUIRE_CONSENT", "true")]);
        let (st, body) = post(
            &browser(),
            &strict,
            "/api/auth/signup",
            json!({"email": "cat@example.com", "password": PASSWORD, "age_confirmed": true}),
        )
        .await;
        assert_eq!(
            (st, body["error"]["field"].as_str()),
            (422, Some("accept_terms")),
            "{}",
            db.label
        );
        assert_eq!(
            login(&strict, "cat@example.com", PASSWORD).await.0,
            401,
            "nothing written"
        );
        let (st, _) = post(
            &browser(),
            &strict,
            "/api/auth/signup",
            json!({"email": "cat@example.com", "password": PASSWORD, "age_confirmed": true, "accept_terms": true}),
        )
        .await;
        assert_eq!(st, 201, "{}", db.label);
    }
}

#[tokio::test]
async fn the_first_admin_is_created_once_from_the_environment_and_never_overwritten() {
    for db in TestDb::all() {
        let secret = "first admin secret 42";
        let env = [
            ("HEEPR_ADMIN_EMAIL", "root@example.com"),
            ("HEEPR_ADMIN_PASSWORD", secret),
        ];
        let server = Server::start(&db, &env);
        let line = server.wait_for_log("first admin created");
        assert!(
            line.contains("root@example.com") && !line.contains(secret),
            "{}: {line}",
            db.label
        );
        let (st, root) = login(&server, "root@example.com", secret).await;
        assert_eq!(st, 200, "{}", db.label);
        let roles = me(&root, &server).await.1["roles"].clone();
        assert!(roles.as_array().unwrap().iter().any(|r| r == "admin"), "{roles}");
        // The admin changes their password; a restart with the old env changes nothing.
        let (st, _) = post(
            &root,
            &server,
            "/api/me/password",
            json!({"current_password": secret, "new_password": "changed by the admin"}),
        )
        .await;
        assert_eq!(st, 204);
        drop(server);
        let again = Server::start(&db, &env);
        assert_eq!(
            login(&again, "root@example.com", secret).await.0,
            401,
            "{}: not overwritten",
            db.label
        );
        assert_eq!(login(&again, "root@example.com", "changed by the admin").await.0, 200);
        let other = Server::start(
            &db,
            &[
                ("HEEPR_ADMIN_EMAIL", "two@example.com"),
                ("HEEPR_ADMIN_PASSWORD", secret),
            ],
        );
        assert_eq!(
            login(&other, "two@example.com", secret).await.0,
            401,
            "{}: an admin exists",
            db.label
        );
    }
}
