//! Bootstrap links (SPEC §16) through the store, on both backends: a link works once, its
//! token replaces earlier unused ones, regenerating voids it, and it expires.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::Duration;
use common::*;
use heepr_domain::agent::{RegisterError, SetupLinkError};
use heepr_store::StoreError;
use heepr_store::testing::TestDb;

fn email() -> heepr_store::mail::NewEmail {
    heepr_store::mail::NewEmail {
        to: "owner@example.com".into(),
        subject: "s".into(),
        body: "b".into(),
        sealed_body: None,
        html_body: None,
    }
}

/// Asks for a new bootstrap token and confirms it, with the link `link`.
fn approve(store: &heepr_store::Store, w: &World, code: &str, token: &str, link: &str) {
    store
        .request_bootstrap(&w.owner, w.agent.as_str(), code, &email(), false, t0())
        .unwrap();
    store.confirm_approval(&w.owner, code, token, link, t0()).unwrap();
}

fn link_refusal(r: heepr_store::Result<heepr_store::agent::AgentRecord>) -> SetupLinkError {
    match r {
        Err(StoreError::SetupLink(e)) => e,
        other => panic!("expected a link refusal, got {:?}", other.map(|a| a.id)),
    }
}

#[test]
fn a_link_works_once_and_its_token_replaces_the_approval_token() {
    for db in TestDb::all() {
        let store = db.open();
        let w = world(&store);
        approve(&store, &w, "code1", "token1", "link1");
        let a = store.redeem_setup_link("link1", "token2", t0()).unwrap();
        assert_eq!(a.id, w.agent, "{}", db.label);
        assert_eq!(
            link_refusal(store.redeem_setup_link("link1", "token3", t0())),
            SetupLinkError::Used,
            "{}: a second fetch",
            db.label
        );
        assert_eq!(
            link_refusal(store.redeem_setup_link("nope", "token3", t0())),
            SetupLinkError::Unknown
        );
        // The approval's own token was voided by the link's; the link's registers.
        assert!(matches!(
            store.register_agent("token1", w.agent.as_str(), "key1", None, t0()),
            Err(StoreError::Register(RegisterError::Unknown))
        ));
        assert!(matches!(
            store.register_agent("token3", w.agent.as_str(), "key1", None, t0()),
            Err(StoreError::Register(RegisterError::Unknown))
        ));
        store
            .register_agent("token2", w.agent.as_str(), "key1", None, t0())
            .unwrap();
    }
}

#[test]
fn regenerating_voids_the_link_and_it_expires_after_a_day() {
    for db in TestDb::all() {
        let store = db.open();
        let w = world(&store);
        approve(&store, &w, "code1", "token1", "link1");
        store
            .request_bootstrap(&w.owner, w.agent.as_str(), "code2", &email(), false, t0())
            .unwrap();
        assert_eq!(
            link_refusal(store.redeem_setup_link("link1", "token2", t0())),
            SetupLinkError::Voided,
            "{}: asking for a new token voids the link at once",
            db.label
        );
        store
            .confirm_approval(&w.owner, "code2", "token3", "link2", t0())
            .unwrap();
        assert_eq!(
            link_refusal(store.redeem_setup_link("link2", "token4", t0() + Duration::hours(24))),
            SetupLinkError::Expired,
            "{}",
            db.label
        );
        // A newer approval voids the link before it, too.
        approve(&store, &w, "code3", "token5", "link3");
        assert_eq!(
            link_refusal(store.redeem_setup_link("link2", "token6", t0())),
            SetupLinkError::Voided
        );
        store.redeem_setup_link("link3", "token6", t0()).unwrap();
    }
}

#[test]
fn of_concurrent_fetches_of_one_link_exactly_one_wins() {
    for db in TestDb::all() {
        let store = db.open();
        let w = world(&store);
        approve(&store, &w, "code1", "token0", "link1");
        let results: Vec<_> = (0..8)
            .map(|i| {
                let store = store.clone();
                std::thread::spawn(move || store.redeem_setup_link("link1", &format!("token{}", i + 1), t0()))
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect();
        let won: Vec<usize> = (0..8).filter(|i| results[*i].is_ok()).collect();
        assert_eq!(won.len(), 1, "{}: exactly one fetch wins", db.label);
        for r in results.into_iter().filter(|r| r.is_err()) {
            assert_eq!(link_refusal(r), SetupLinkError::Used, "{}", db.label);
        }
        let winner = format!("token{}", won[0] + 1);
        store
            .register_agent(&winner, w.agent.as_str(), "key1", None, t0())
            .unwrap();
    }
}
