//! Sign-in through GitHub and Facebook (issue 17) against a local server that speaks
//! their documented OAuth 2 endpoints and user APIs (tests/oauth/peer.py), reached
//! through the configurable base URLs: a first sign-in creates an account, a second
//! signs in to it, a forged state and an unverified email are refused with nothing
//! written, and a code the provider refuses is `auth_failed`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use heepr_store::testing::TestDb;
use serde_json::Value;
use support::idp::oauth_peer;
use support::*;

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

/// `/start`, then the provider's redirect back; returns the callback URL, unvisited.
async fn to_callback(server: &Server, c: &reqwest::Client, provider: &str, login: &str) -> String {
    let r = c
        .get(server.url(&format!("/api/auth/{provider}/start")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302, "{}", r.text().await.unwrap());
    let authorize = format!("{}&login={login}", r.headers()["location"].to_str().unwrap());
    let r = c.get(authorize).send().await.unwrap();
    assert_eq!(r.status(), 302, "{}", r.text().await.unwrap());
    r.headers()["location"].to_str().unwrap().to_owned()
}

async fn error_code(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    (status, v["error"]["code"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn github_and_facebook_sign_in_create_then_reuse_the_account() {
    for db in TestDb::all() {
        let label = db.label;
        let peer = oauth_peer();
        let gh = format!("{}/github", peer.base);
        let fb = format!("{}/facebook", peer.base);
        let env = [
            ("HEEPR_AUTH_PROVIDERS", "github,facebook".to_owned()),
            ("HEEPR_AUTH_GITHUB_CLIENT_ID", "heepr-github".into()),
            ("HEEPR_AUTH_GITHUB_CLIENT_SECRET", "gh-secret".into()),
            ("HEEPR_AUTH_GITHUB_AUTH_URL", format!("{gh}/login/oauth/authorize")),
            ("HEEPR_AUTH_GITHUB_TOKEN_URL", format!("{gh}/login/oauth/access_token")),
            ("HEEPR_AUTH_GITHUB_API_URL", format!("{gh}/api")),
            ("HEEPR_AUTH_FACEBOOK_CLIENT_ID", "heepr-facebook".into()),
            ("HEEPR_AUTH_FACEBOOK_CLIENT_SECRET", "fb-secret".into()),
            ("HEEPR_AUTH_FACEBOOK_AUTH_URL", format!("{fb}/dialog/oauth")),
            ("HEEPR_AUTH_FACEBOOK_TOKEN_URL", format!("{fb}/oauth/access_token")),
            ("HEEPR_AUTH_FACEBOOK_API_URL", format!("{fb}/graph")),
        ];
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let server = Server::start(&db, &env);
        let list = get_json(&manual(), server.url("/api/auth/providers")).await;
        assert_eq!(list["providers"][0]["kind"], "github", "{label}");
        assert_eq!(list["providers"][1]["kind"], "facebook", "{label}");

        for provider in ["github", "facebook"] {
            let login = format!("{provider}-user");
            let first = manual();
            let url = to_callback(&server, &first, provider, &login).await;
            let r = first.get(&url).send().await.unwrap();
            assert_eq!(r.status(), 303, "{label} {provider}: {}", r.text().await.unwrap());
            let me1 = get_json(&first, server.url("/api/me")).await;
            assert_eq!(me1["email"], format!("{login}@example.test"), "{label} {provider}");
            assert_eq!(me1["balance"], 1000, "{label} {provider}");

            let second = manual();
            let url = to_callback(&server, &second, provider, &login).await;
            assert_eq!(
                second.get(&url).send().await.unwrap().status(),
                303,
                "{label} {provider}"
            );
            let me2 = get_json(&second, server.url("/api/me")).await;
            assert_eq!(me2["id"], me1["id"], "{label} {provider}: the same account");

            // A forged state; then the unverified email; then a code the provider
            // refuses (spent by an earlier exchange).
            let c = manual();
            let url = to_callback(&server, &c, provider, &format!("{provider}-other")).await;
            let r = c.get(url.replace("state=", "state=x")).send().await.unwrap();
            assert_eq!(
                error_code(r).await,
                (400, "auth_state_invalid".into()),
                "{label} {provider}"
            );

            let c = manual();
            let url = to_callback(&server, &c, provider, &format!("unverified-{provider}")).await;
            let r = c.get(&url).send().await.unwrap();
            assert_eq!(
                error_code(r).await,
                (403, "email_unverified".into()),
                "{label} {provider}"
            );
            let r = c.get(server.url("/api/me")).send().await.unwrap();
            assert_eq!(r.status(), 401, "{label} {provider}: no session");
        }
        // The code of a callback already used, under a fresh state of the same browser:
        // the provider refuses the spent code.
        let c = manual();
        let used = to_callback(&server, &c, "github", "github-user").await;
        assert_eq!(c.get(&used).send().await.unwrap().status(), 303, "{label}");
        let fresh = to_callback(&server, &c, "github", "github-user").await;
        let state = fresh.split("state=").nth(1).unwrap();
        let code = used.split("code=").nth(1).unwrap().split('&').next().unwrap();
        let replay = server.url(&format!("/api/auth/github/callback?code={code}&state={state}"));
        let r = c.get(replay).send().await.unwrap();
        assert_eq!(
            error_code(r).await,
            (401, "auth_failed".into()),
            "{label}: a replayed code"
        );
        assert_ledger_ok(&db);
    }
}
