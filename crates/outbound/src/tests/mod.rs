//! End-to-end tests against a real server on 127.0.0.1 (no other address is ever
//! dialled: public addresses appear only in classification tests).

mod server;

use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use server::{Answer, Server};

use crate::{MAX_REDIRECTS, Outbound, OutboundError, Policy, builder, signature};

/// http allowed (the test server has no TLS), private addresses refused: the guard
/// as production runs it, apart from the scheme.
fn http_only_public() -> Policy {
    Policy {
        allow_http: true,
        ..Policy::default()
    }
}

fn open() -> Policy {
    Policy {
        allow_http: true,
        allow_private: true,
        ..Policy::default()
    }
}

/// A guarded client that resolves `name` to `addr` without asking the guard: how a
/// test gets a first hop to its loopback server while private addresses stay refused
/// for every other name and hop.
fn guarded_with_override(policy: Policy, name: &str, addr: std::net::SocketAddr) -> Outbound {
    Outbound::build(builder(&policy, true).resolve(name, addr), policy, true).unwrap()
}

#[tokio::test]
async fn literal_loopback_is_refused_before_any_byte_is_sent() {
    let server = Server::start(Answer::Ok("{}")).await;
    let outbound = Outbound::guarded(http_only_public()).unwrap();
    let err = outbound
        .post_json(&server.url("/hook"), &[], b"{}".to_vec())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        OutboundError::Blocked {
            addr: "127.0.0.1".into()
        }
    );
    assert_eq!(err.code(), "address_blocked");
    let v6 = format!("http://[::1]:{}/hook", server.addr.port());
    assert_eq!(
        outbound.post_json(&v6, &[], vec![]).await.unwrap_err().code(),
        "address_blocked"
    );
    server.assert_untouched().await;
}

#[tokio::test]
async fn localhost_is_refused_before_any_byte_is_sent() {
    let server = Server::start(Answer::Ok("{}")).await;
    let outbound = Outbound::guarded(http_only_public()).unwrap();
    let url = format!("http://localhost:{}/hook", server.addr.port());
    let err = outbound.post_json(&url, &[], b"{}".to_vec()).await.unwrap_err();
    assert_eq!(
        err,
        OutboundError::Blocked {
            addr: "localhost".into()
        }
    );
    server.assert_untouched().await;
}

/// The connect-time layer on its own: past the static check (as a stored URL whose
/// name was re-pointed would be), `localhost` reaches reqwest, the resolver hook sees
/// its loopback answer, and the refusal comes back as `Blocked`.
#[tokio::test]
async fn the_resolver_refuses_a_name_resolving_to_loopback() {
    let server = Server::start(Answer::Ok("{}")).await;
    let outbound = Outbound::guarded(http_only_public()).unwrap();
    let url = url::Url::parse(&format!("http://localhost:{}/hook", server.addr.port())).unwrap();
    let err = outbound.send(url, HeaderMap::new(), b"{}".to_vec()).await.unwrap_err();
    match &err {
        OutboundError::Blocked { addr } => assert!(addr == "127.0.0.1" || addr == "::1", "{addr}"),
        other => panic!("expected Blocked, got {other:?}"),
    }
    server.assert_untouched().await;
}

#[tokio::test]
async fn allow_private_goes_through_with_body_and_headers() {
    let server = Server::start(Answer::Ok(r#"{"ok":true}"#)).await;
    let outbound = Outbound::guarded(open()).unwrap();
    let body = br#"{"event":"order.placed","order":"01J"}"#.to_vec();
    let sig = signature::v2("secret", 1_700_000_000, &body);
    let headers = [
        ("X-Heepr-Signature", sig.clone()),
        ("Content-Type", "text/plain".into()),
    ];
    let reply = outbound
        .post_json(&server.url("/hook?x=1"), &headers, body.clone())
        .await
        .unwrap();
    assert_eq!((reply.status, &reply.body[..]), (200, &br#"{"ok":true}"#[..]));

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let seen = &requests[0];
    assert!(seen.head.starts_with("POST /hook?x=1 HTTP/1.1\r\n"), "{}", seen.head);
    assert_eq!(
        seen.header("content-type"),
        Some("application/json"),
        "ours replaces the caller's"
    );
    assert_eq!(seen.header("x-heepr-signature"), Some(sig.as_str()));
    assert_eq!(seen.body, body);
    assert!(signature::verify_v2("secret", &seen.body, &sig, 1_700_000_010, 300));
}

#[tokio::test]
async fn a_redirect_to_a_loopback_address_is_refused_at_the_hop() {
    let target = Server::start(Answer::Ok("{}")).await;
    for location in [target.url("/"), format!("http://localhost:{}/", target.addr.port())] {
        let origin = Server::start(Answer::Redirect(location.clone())).await;
        let outbound = guarded_with_override(http_only_public(), "origin.test", origin.addr);
        let url = format!("http://origin.test:{}/hook", origin.addr.port());
        let err = outbound.post_json(&url, &[], b"{}".to_vec()).await.unwrap_err();
        assert_eq!(err.code(), "address_blocked", "{location}: {err}");
        assert_eq!(origin.requests().len(), 1, "the origin was asked once");
    }
    target.assert_untouched().await;
}

#[tokio::test]
async fn an_allowed_redirect_is_followed_with_the_body() {
    let target = Server::start(Answer::Ok("done")).await;
    let origin = Server::start(Answer::Redirect(target.url("/moved"))).await;
    let outbound = Outbound::guarded(open()).unwrap();
    let reply = outbound
        .post_json(&origin.url("/hook"), &[], b"{\"a\":1}".to_vec())
        .await
        .unwrap();
    assert_eq!((reply.status, &reply.body[..]), (200, &b"done"[..]));
    let seen = target.requests();
    assert!(seen[0].head.starts_with("POST /moved "), "307 keeps the method");
    assert_eq!(seen[0].body, b"{\"a\":1}");
}

#[tokio::test]
async fn a_redirect_loop_stops_after_max_redirects() {
    let server = self_redirecting().await;
    let outbound = Outbound::guarded(open()).unwrap();
    let err = outbound.post_json(&server.url("/"), &[], vec![]).await.unwrap_err();
    assert_eq!(err, OutboundError::TooManyRedirects);
    assert_eq!(err.code(), "too_many_redirects");
    assert_eq!(
        server.requests().len(),
        MAX_REDIRECTS + 1,
        "the first request and MAX_REDIRECTS hops"
    );
}

/// A server that redirects every request to itself. Its address is known only once
/// it listens, so bind first and then set the answer.
async fn self_redirecting() -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let location = format!("http://{}/loop", listener.local_addr().unwrap());
    Server::on(listener, Answer::Redirect(location))
}

#[tokio::test]
async fn a_stalled_server_times_out() {
    let server = Server::start(Answer::Stall).await;
    let policy = Policy {
        timeout: Duration::from_millis(300),
        ..open()
    };
    let outbound = Outbound::guarded(policy).unwrap();
    let started = Instant::now();
    let err = outbound.post_json(&server.url("/"), &[], vec![]).await.unwrap_err();
    assert_eq!(err, OutboundError::Timeout);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert_eq!(
        server.requests().len(),
        1,
        "the request was sent; the answer never came"
    );
}

#[tokio::test]
async fn a_body_over_max_bytes_is_too_large() {
    let policy = Policy {
        max_bytes: 1000,
        ..open()
    };
    let outbound = Outbound::guarded(policy).unwrap();
    for answer in [
        Answer::Big {
            len: 5000,
            declared: true,
        },
        Answer::Big {
            len: 5_000_000,
            declared: false,
        },
    ] {
        let server = Server::start(answer.clone()).await;
        let err = outbound.post_json(&server.url("/"), &[], vec![]).await.unwrap_err();
        assert_eq!(err, OutboundError::TooLarge { max_bytes: 1000 }, "{answer:?}");
    }
    for declared in [true, false] {
        let server = Server::start(Answer::Big { len: 1000, declared }).await;
        let reply = outbound.post_json(&server.url("/"), &[], vec![]).await.unwrap();
        assert_eq!(reply.body.len(), 1000, "exactly max_bytes is fine");
    }
}

#[tokio::test]
async fn a_closed_port_is_a_connect_failure() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // The listener is dropped: nothing listens on `port` now.
    let outbound = Outbound::guarded(open()).unwrap();
    let err = outbound
        .post_json(&format!("http://127.0.0.1:{port}/"), &[], vec![])
        .await
        .unwrap_err();
    assert!(matches!(err, OutboundError::Connect(_)), "{err:?}");
    assert_eq!(err.code(), "connect_failed");
}

#[tokio::test]
async fn check_url_refuses_http_when_not_allowed() {
    let outbound = Outbound::guarded(Policy::default()).unwrap();
    assert_eq!(
        outbound.check_url("http://x"),
        Err(OutboundError::Scheme("http".into()))
    );
    assert_eq!(outbound.check_url("http://x").unwrap_err().code(), "url_scheme");
    assert_eq!(outbound.check_url("https://x/hook").unwrap().as_str(), "https://x/hook");
    // post_json applies the same check: an http URL never leaves.
    let server = Server::start(Answer::Ok("{}")).await;
    let policy = Policy {
        allow_private: true,
        ..Policy::default()
    };
    let strict = Outbound::guarded(policy).unwrap();
    assert_eq!(
        strict
            .post_json(&server.url("/"), &[], vec![])
            .await
            .unwrap_err()
            .code(),
        "url_scheme"
    );
    server.assert_untouched().await;
}

#[tokio::test]
async fn an_invalid_header_is_refused_before_sending() {
    let server = Server::start(Answer::Ok("{}")).await;
    let outbound = Outbound::guarded(open()).unwrap();
    let err = outbound
        .post_json(&server.url("/"), &[("X-Ok", "a\r\nInjected: 1".into())], vec![])
        .await
        .unwrap_err();
    assert_eq!(err.code(), "header_invalid");
    let err = outbound
        .post_json(&server.url("/"), &[("Bad Name", "v".into())], vec![])
        .await
        .unwrap_err();
    assert_eq!(err.code(), "header_invalid");
    server.assert_untouched().await;
}

#[tokio::test]
async fn unguarded_reaches_loopback_over_http_with_the_bounds_kept() {
    let server = Server::start(Answer::Ok("{}")).await;
    let outbound = Outbound::unguarded(Policy {
        max_bytes: 10,
        ..Policy::default()
    })
    .unwrap();
    let reply = outbound
        .post_json(&server.url("/v1/chat"), &[], b"{}".to_vec())
        .await
        .unwrap();
    assert_eq!(reply.status, 200);
    let big = Server::start(Answer::Big {
        len: 11,
        declared: false,
    })
    .await;
    let err = outbound.post_json(&big.url("/"), &[], vec![]).await.unwrap_err();
    assert_eq!(err.code(), "response_too_large");
}
