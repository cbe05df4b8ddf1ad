//! Sign-in through an OpenID Connect provider (issue 17), against the real
//! `oidc-provider` on loopback: a first sign-in creates an account with the starter
//! points, a second signs in to it, a signed-in user links an identity from their
//! session, the last way in cannot be unlinked, and a local signup never captures a
//! provider login. Bad callbacks — forged or replayed `state`, a wrong nonce, issuer or
//! audience, an ID token signed by another key, an unverified email — answer the error
//! envelope, start no session and write nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use heepr_store::testing::TestDb;
use serde_json::Value;
use support::idp::{Peer, configure, oidc_provider, set_mode};
use support::*;

const CLIENT_ID: &str = "heepr-test";
const SECRET: &str = "heepr-test-secret-0123456789abcdef";

/// heepr with `idp` configured, and the provider that serves it.
async fn start(db: &TestDb) -> (Server, Peer) {
    let op = oidc_provider();
    let server = Server::start(
        db,
        &[
            ("HEEPR_AUTH_PROVIDERS", "idp"),
            ("HEEPR_AUTH_IDP_ISSUER", &op.base),
            ("HEEPR_AUTH_IDP_CLIENT_ID", CLIENT_ID),
            ("HEEPR_AUTH_IDP_CLIENT_SECRET", SECRET),
            ("HEEPR_AUTH_FRONTEND_URL", "/welcome"),
            ("HEEPR_TEST_CLOCK", "1"),
        ],
    );
    configure(&op, CLIENT_ID, SECRET, &server.url("/api/auth/idp/callback")).await;
    (server, op)
}

/// A browser that keeps cookies and does not follow redirects (each hop is checked).
fn manual() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-heepr-client", reqwest::header::HeaderValue::from_static("e2e"));
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

fn location(r: &reqwest::Response) -> String {
    let base = r.url().clone();
    let loc = r.headers()["location"].to_str().unwrap();
    base.join(loc).unwrap().to_string()
}

/// `/start` (with `query`), then the provider's hops as `login` until the redirect back
/// to heepr's callback, whose URL is returned unvisited.
async fn to_callback(server: &Server, c: &reqwest::Client, query: &str, login: &str) -> String {
    let r = c
        .get(server.url(&format!("/api/auth/idp/start{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302, "{}", r.text().await.unwrap());
    let mut url = format!("{}&login_hint={login}", location(&r));
    let callback = server.url("/api/auth/idp/callback");
    for _ in 0..10 {
        let r = c.get(&url).send().await.unwrap();
        assert!(
            r.status().is_redirection(),
            "{url}: {} {}",
            r.status(),
            r.text().await.unwrap()
        );
        url = location(&r);
        if url.starts_with(&callback) {
            return url;
        }
    }
    panic!("the provider never redirected back to heepr");
}

/// A full sign-in as `login`; returns the callback's answer.
async fn sign_in(server: &Server, c: &reqwest::Client, query: &str, login: &str) -> reqwest::Response {
    let url = to_callback(server, c, query, login).await;
    c.get(url).send().await.unwrap()
}

async fn me(server: &Server, c: &reqwest::Client) -> (u16, Value) {
    let r = c.get(server.url("/api/me")).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn error_code(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    (status, v["error"]["code"].as_str().unwrap_or_default().to_owned())
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// (users, identities, sessions) as stored.
fn written(db: &TestDb) -> [i64; 3] {
    use diesel::RunQueryDsl;
    let mut c = heepr_store::DbTarget::parse(&db.url).unwrap().establish().unwrap();
    ["users", "user_identities", "sessions"].map(|t| {
        diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {t}"))
            .get_result::<Count>(&mut c)
            .unwrap()
            .n
    })
}

#[tokio::test]
async fn first_sign_in_creates_the_account_second_signs_in_and_links_need_a_session() {
    for db in TestDb::all() {
        let label = db.label;
        let (server, _op) = start(&db).await;
        let list = get_json(&manual(), server.url("/api/auth/providers")).await;
        assert_eq!(list["providers"][0]["name"], "idp", "{label}");
        assert_eq!(list["providers"][0]["kind"], "oidc", "{label}");

        // First sign-in: a new account with the starter points, signed in.
        let alice = manual();
        let r = sign_in(&server, &alice, "", "alice").await;
        assert_eq!(r.status(), 303, "{label}: {}", r.text().await.unwrap());
        assert_eq!(r.headers()["location"], "/welcome", "{label}");
        let (st, first) = me(&server, &alice).await;
        assert_eq!(st, 200, "{label}");
        assert_eq!(first["email"], "alice@example.test", "{label}");
        assert_eq!(first["balance"], 1000, "{label}: starter points as at signup");

        // Second sign-in, another browser: the same account, no second grant.
        let again = manual();
        let r = sign_in(&server, &again, "", "alice").await;
        assert_eq!(r.status(), 303, "{label}");
        let (_, second) = me(&server, &again).await;
        assert_eq!(second["id"], first["id"], "{label}");
        assert_eq!(second["balance"], 1000, "{label}");

        // The only way in of an identity-only account stays.
        let r = alice.delete(server.url("/api/me/identities/idp")).send().await.unwrap();
        assert_eq!(error_code(r).await, (409, "last_sign_in_method".into()), "{label}");

        // Linking needs a session: without one, /start refuses.
        let r = manual()
            .get(server.url("/api/auth/idp/start?link=true"))
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(r).await, (401, "unauthorized".into()), "{label}");

        // A password user links an identity from their session, then may unlink it.
        let bob = manual();
        let r = bob
            .post(server.url("/api/auth/signup"))
            .json(&serde_json::json!({"email": "bob@example.com", "password": "correct horse battery"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{label}");
        let (_, bob_me) = me(&server, &bob).await;
        let r = sign_in(&server, &bob, "?link=true", "bob-idp").await;
        assert_eq!(r.status(), 303, "{label}: {}", r.text().await.unwrap());
        let (_, linked) = me(&server, &bob).await;
        assert_eq!(linked["id"], bob_me["id"], "{label}: linked, not a new account");
        let ids = get_json(&bob, server.url("/api/me/identities")).await;
        assert_eq!(ids["identities"][0]["provider"], "idp", "{label}");
        assert_eq!(ids["identities"][0]["email"], "bob-idp@example.test", "{label}");
        assert_eq!(ids["has_password"], true, "{label}");
        // Signing in with that identity now opens bob's account.
        let other = manual();
        assert_eq!(sign_in(&server, &other, "", "bob-idp").await.status(), 303, "{label}");
        assert_eq!(me(&server, &other).await.1["id"], bob_me["id"], "{label}");

        // alice's identity cannot be linked to bob's account (bob logs in afresh: a
        // browser new to the provider, which asks again who signs in).
        let bob2 = manual();
        let r = bob2
            .post(server.url("/api/auth/login"))
            .json(&serde_json::json!({"email": "bob@example.com", "password": "correct horse battery"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{label}");
        let before = written(&db);
        let r = sign_in(&server, &bob2, "?link=true", "alice").await;
        assert_eq!(
            error_code(r).await,
            (409, "identity_linked_elsewhere".into()),
            "{label}"
        );
        assert_eq!(written(&db), before, "{label}: nothing written");

        let r = bob.delete(server.url("/api/me/identities/idp")).send().await.unwrap();
        assert_eq!(r.status(), 204, "{label}");
        let ids = get_json(&bob, server.url("/api/me/identities")).await;
        assert_eq!(ids["identities"].as_array().map(Vec::len), Some(0), "{label}");

        // A local signup with someone's address does not capture their provider login:
        // the provider sign-in is refused and the local account gets no identity.
        let squatter = manual();
        let r = squatter
            .post(server.url("/api/auth/signup"))
            .json(&serde_json::json!({"email": "carol@example.test", "password": "correct horse battery"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{label}");
        let before = written(&db);
        let carol = manual();
        let r = sign_in(&server, &carol, "", "carol").await;
        assert_eq!(error_code(r).await, (409, "email_in_use".into()), "{label}");
        assert_eq!(me(&server, &carol).await.0, 401, "{label}: no session");
        assert_eq!(written(&db), before, "{label}: nothing written");
        assert_ledger_ok(&db);
    }
}

#[tokio::test]
async fn bad_callbacks_answer_the_envelope_start_no_session_and_write_nothing() {
    for db in TestDb::all() {
        let label = db.label;
        let (server, op) = start(&db).await;
        let before = written(&db);

        // A forged state (the browser's cookie holds the real one).
        let c = manual();
        let url = to_callback(&server, &c, "", "dave").await;
        let forged = url.replace("state=", "state=x");
        assert_eq!(
            error_code(c.get(forged).send().await.unwrap()).await,
            (400, "auth_state_invalid".into()),
            "{label}"
        );
        // The callback URL in another browser (login CSRF): no state cookie there.
        let r = manual().get(&url).send().await.unwrap();
        assert_eq!(error_code(r).await, (400, "auth_state_invalid".into()), "{label}");
        assert_eq!(me(&server, &c).await.0, 401, "{label}");
        assert_eq!(written(&db), before, "{label}");

        // A replayed code: the first use signs in; the same callback, state cookie and
        // all, is refused (the pending sign-in was taken once).
        let c = manual();
        let url = to_callback(&server, &c, "", "erin").await;
        let state = url
            .split("state=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .to_owned();
        assert_eq!(c.get(&url).send().await.unwrap().status(), 303, "{label}");
        let after_first = written(&db);
        let r = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(&url)
            .header("cookie", format!("heepr_auth_state={state}"))
            .send()
            .await
            .unwrap();
        assert!(!r.headers().contains_key("set-cookie"), "{label}: no session");
        assert_eq!(error_code(r).await, (400, "auth_state_invalid".into()), "{label}");
        assert_eq!(written(&db), after_first, "{label}");

        // ID tokens that must not verify: each is `auth_failed`, no session, nothing written.
        for mode in ["wrong_nonce", "wrong_key", "wrong_issuer", "wrong_audience"] {
            set_mode(&op, mode).await;
            let c = manual();
            let r = sign_in(&server, &c, "", &format!("user-{mode}")).await;
            assert_eq!(error_code(r).await, (401, "auth_failed".into()), "{label}: {mode}");
            assert_eq!(me(&server, &c).await.0, 401, "{label}: {mode}");
            assert_eq!(written(&db), after_first, "{label}: {mode}");
        }
        set_mode(&op, "normal").await;

        // An email the provider has not verified.
        let c = manual();
        let r = sign_in(&server, &c, "", "unverified-frank").await;
        assert_eq!(error_code(r).await, (403, "email_unverified".into()), "{label}");
        assert_eq!(written(&db), after_first, "{label}");

        // The provider's refusal (`error=access_denied`) with a valid state.
        let c = manual();
        let url = to_callback(&server, &c, "", "gina").await;
        let state = url
            .split("state=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .to_owned();
        let denied = server.url(&format!("/api/auth/idp/callback?error=access_denied&state={state}"));
        assert_eq!(
            error_code(c.get(denied).send().await.unwrap()).await,
            (401, "auth_failed".into()),
            "{label}"
        );

        // An expired pending sign-in (10 minutes).
        let c = manual();
        let url = to_callback(&server, &c, "", "hank").await;
        let r = c
            .post(server.url("/api/test/clock"))
            .json(&serde_json::json!({"seconds": 11 * 60}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{label}");
        assert_eq!(
            error_code(c.get(url).send().await.unwrap()).await,
            (400, "auth_state_invalid".into()),
            "{label}"
        );
        assert_eq!(written(&db), after_first, "{label}");

        // Unknown providers are not found.
        let r = manual().get(server.url("/api/auth/nope/start")).send().await.unwrap();
        assert_eq!(r.status(), 404, "{label}");
        assert_ledger_ok(&db);
    }
}
