//! Agents, keys and the event poll through the store, on both backends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::Duration;
use common::*;
use heepr_domain::agent::RegisterError;
use heepr_domain::order::DeclineReason;
use heepr_domain::{Actor, Command, Policy};
use heepr_store::mail::{AttemptOutcome, EmailAttempt};
use heepr_store::testing::TestDb;
use heepr_store::{KeyReject, StoreError};

fn approve(store: &heepr_store::Store, w: &World, code: &str, token: &str) {
    let email = heepr_store::mail::NewEmail {
        to: "owner@example.com".into(),
        subject: "s".into(),
        body: "b".into(),
        sealed_body: Some(b"sealed elsewhere".to_vec()),
        html_body: None,
    };
    store
        .request_bootstrap(&w.owner, w.agent.as_str(), code, &email, false, t0())
        .unwrap();
    let link = format!("link of {token}");
    store.confirm_approval(&w.owner, code, token, &link, t0()).unwrap();
}

#[test]
fn register_checks_unknown_used_expired_and_active_key() {
    for db in TestDb::all() {
        let store = db.open();
        let w = world(&store);
        approve(&store, &w, "code1", "tok1");
        let reg = |tok: &str, key: &str, at| store.register_agent(tok, w.agent.as_str(), key, None, at);
        assert!(matches!(
            reg("nope", "k0", t0()),
            Err(StoreError::Register(RegisterError::Unknown))
        ));
        assert!(matches!(
            store.register_agent("tok1", "agt_other", "k0", None, t0()),
            Err(StoreError::Register(RegisterError::Unknown))
        ));
        assert!(matches!(
            reg("tok1", "k0", t0() + Duration::days(7)),
            Err(StoreError::Register(RegisterError::Expired))
        ));
        reg("tok1", "key1", t0()).unwrap();
        assert!(
            matches!(
                reg("tok1", "key2", t0()),
                Err(StoreError::Register(RegisterError::Used))
            ),
            "{}",
            db.label
        );

        approve(&store, &w, "code2", "tok2");
        assert!(matches!(
            reg("tok2", "key2", t0()),
            Err(StoreError::Register(RegisterError::ActiveKeyExists))
        ));
        // The token was not consumed: after a revoke it works.
        assert!(store.revoke_agent_key(&w.owner, w.agent.as_str(), t0()).unwrap());
        assert!(matches!(
            store.authenticate_key("key1", t0()),
            Err(StoreError::Key(KeyReject::Revoked))
        ));
        reg("tok2", "key2", t0()).unwrap();
        assert_eq!(store.authenticate_key("key2", t0()).unwrap().agent_id, w.agent);
    }
}

#[test]
fn regenerating_voids_earlier_unused_tokens() {
    for db in TestDb::all() {
        let store = db.open();
        let w = world(&store);
        approve(&store, &w, "c1", "old");
        approve(&store, &w, "c2", "new");
        let r = store.register_agent("old", w.agent.as_str(), "k", None, t0());
        assert!(
            matches!(r, Err(StoreError::Register(RegisterError::Unknown))),
            "{}",
            db.label
        );
        store.register_agent("new", w.agent.as_str(), "k", None, t0()).unwrap();
    }
}

#[test]
fn thirty_two_concurrent_registrations_yield_one_key() {
    for db in TestDb::all() {
        let store = db.open();
        let w = world(&store);
        approve(&store, &w, "code", "tok");
        let results: Vec<_> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..32)
                .map(|i| {
                    let (store, agent) = (&store, w.agent.as_str());
                    s.spawn(move || store.register_agent("tok", agent, &format!("key{i}"), None, t0()))
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let ok = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(ok, 1, "{}", db.label);
        for r in results.iter().filter(|r| r.is_err()) {
            assert!(
                matches!(r, Err(StoreError::Register(RegisterError::Used))),
                "{}: {r:?}",
                db.label
            );
        }
    }
}

#[test]
fn poll_drains_and_since_replays() {
    for db in TestDb::all() {
        let store = db.open();
        let w = world(&store);
        assert!(store.poll_events(&w.agent, None, t0()).unwrap().events.is_empty());
        let a = place(&store, &w, 10);
        place(&store, &w, 20);
        let first = store.poll_events(&w.agent, None, t0()).unwrap();
        assert_eq!(first.events.len(), 2, "{}", db.label);
        assert_eq!(first.events[0]["o"], a.id.as_str());
        assert!(
            store.poll_events(&w.agent, None, t0()).unwrap().events.is_empty(),
            "drained"
        );

        let cursor = first.events[0]["id"].as_str().unwrap().to_owned();
        let replay = store.poll_events(&w.agent, Some(&cursor), t0()).unwrap();
        assert_eq!(replay.events, first.events[1..].to_vec());
        assert_eq!(replay.next, first.next);

        store
            .order_command(
                &a.id,
                Actor::Agent,
                Command::Decline {
                    reason: DeclineReason::Capacity,
                    note: None,
                },
                &Policy::default(),
                t0(),
            )
            .unwrap();
        let next = store.poll_events(&w.agent, None, t0()).unwrap();
        assert_eq!(next.events.len(), 1, "a new event after a drain is seen at once");
        assert_eq!(next.events[0]["k"], "order_refunded");

        assert!(matches!(
            store.poll_events(&w.agent, Some("evt_bogus"), t0()),
            Err(StoreError::Cursor("bad_cursor"))
        ));
        // Retention purges only delivered events; a purged cursor is expired.
        assert_eq!(store.purge_delivered_events(t0() + Duration::days(8)).unwrap(), 3);
        assert!(matches!(
            store.poll_events(&w.agent, Some(&cursor), t0()),
            Err(StoreError::Cursor("cursor_expired"))
        ));
    }
}

#[test]
fn concurrent_polls_of_one_agent_hand_out_each_event_once() {
    for db in TestDb::all() {
        let store = db.open();
        let w = world(&store);
        let placed: std::collections::BTreeSet<String> = (0..40).map(|_| place(&store, &w, 1).id.to_string()).collect();
        let seen: Vec<String> = std::thread::scope(|s| {
            let pollers: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        let mut mine = Vec::new();
                        // Each poller drains until a poll comes back empty.
                        loop {
                            let b = store.poll_events(&w.agent, None, t0()).unwrap();
                            if b.events.is_empty() {
                                return mine;
                            }
                            mine.extend(b.events.iter().map(|e| e["o"].as_str().unwrap().to_owned()));
                        }
                    })
                })
                .collect();
            pollers.into_iter().flat_map(|p| p.join().unwrap()).collect()
        });
        let unique: std::collections::BTreeSet<String> = seen.iter().cloned().collect();
        assert_eq!(seen.len(), 40, "{}: every event handed out exactly once", db.label);
        assert_eq!(unique, placed, "{}", db.label);
    }
}

/// PostgreSQL drains in one statement: pollers that start together while the agent row
/// is busy must still hand out each event once (the row lock, not luck, orders them).
#[test]
fn polls_started_together_on_postgres_hand_out_each_event_once() {
    use diesel::RunQueryDsl;
    use diesel::connection::SimpleConnection;
    let Some(db) = TestDb::postgres() else { return };
    let store = db.open();
    let w = world(&store);
    for _ in 0..10 {
        place(&store, &w, 1);
    }
    let mut blocker = heepr_store::DbTarget::parse(&db.url).unwrap().establish().unwrap();
    let mut watcher = heepr_store::DbTarget::parse(&db.url).unwrap().establish().unwrap();
    blocker
        .batch_execute(&format!(
            "BEGIN; UPDATE agents SET last_seen_at = last_seen_at WHERE id = '{}'",
            w.agent
        ))
        .unwrap();
    let seen: Vec<usize> = std::thread::scope(|s| {
        let pollers: Vec<_> = (0..4)
            .map(|_| s.spawn(|| store.poll_events(&w.agent, None, t0()).unwrap().events.len()))
            .collect();
        // Wait (with a deadline) until all four wait on the agent row, then let them go.
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let waiting: N = diesel::sql_query(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
            )
            .get_result(&mut watcher)
            .unwrap();
            if waiting.n >= 4 {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "pollers never blocked");
            std::thread::yield_now();
        }
        blocker.batch_execute("COMMIT").unwrap();
        pollers.into_iter().map(|p| p.join().unwrap()).collect()
    });
    assert_eq!(seen.iter().sum::<usize>(), 10, "{seen:?}");
}

#[test]
fn heartbeats_are_coalesced_and_flushed() {
    for db in TestDb::all() {
        let store = db.open();
        let w = world(&store);
        assert_eq!(store.agent(w.agent.as_str()).unwrap().last_seen_at, None);
        for i in 0..5 {
            store.poll_events(&w.agent, None, t0() + Duration::seconds(i)).unwrap();
        }
        // Visible before the flush (merged from memory) …
        assert_eq!(
            store.agent(w.agent.as_str()).unwrap().last_seen_at,
            Some(t0() + Duration::seconds(4))
        );
        assert_eq!(store.flush_heartbeats().unwrap(), 1, "five polls, one write");
        assert_eq!(store.flush_heartbeats().unwrap(), 0);
        // … and stored after it.
        let a = store.agent(w.agent.as_str()).unwrap();
        assert_eq!(a.last_seen_at, Some(t0() + Duration::seconds(4)), "{}", db.label);
        assert!(a.online(t0() + Duration::minutes(60)));
        assert!(!a.online(t0() + Duration::minutes(65)));
    }
}

#[test]
fn two_instances_claim_each_email_once_and_failures_are_retried() {
    for db in TestDb::all() {
        let a = db.open();
        let b = db.open();
        let w = world(&a);
        for (i, code) in ["c1", "c2", "c3"].into_iter().enumerate() {
            let email = heepr_store::mail::NewEmail {
                to: format!("o{i}@example.com"),
                subject: "s".into(),
                body: "b [link]".into(),
                sealed_body: Some(format!("sealed {i}").into_bytes()),
                html_body: None,
            };
            a.request_bootstrap(&w.owner, w.agent.as_str(), code, &email, false, t0())
                .unwrap();
        }
        let lease = Duration::minutes(5);
        let first = a.claim_unsent_emails(2, t0(), lease).unwrap();
        let second = b.claim_unsent_emails(50, t0(), lease).unwrap();
        assert_eq!(first.len(), 2, "{}", db.label);
        assert_eq!(second.len(), 1, "{}: only the unclaimed one", db.label);
        assert!(first.iter().all(|e| e.id != second[0].id), "{}", db.label);
        for e in first.iter().chain(&second) {
            let i = &e.to[1..2];
            assert_eq!(e.body, "b [link]", "{}", db.label);
            assert_eq!(
                e.sealed_body.as_deref(),
                Some(format!("sealed {i}").as_bytes()),
                "{}",
                db.label
            );
        }
        assert!(
            a.claim_unsent_emails(50, t0(), lease).unwrap().is_empty(),
            "{}",
            db.label
        );

        // A failure releases the claim at once; a sent email is never claimed again. Both
        // outcomes of a batch are recorded in one call.
        a.record_attempts(
            &[
                EmailAttempt {
                    id: &first[0].id,
                    outcome: AttemptOutcome::Failed {
                        error: "smtp down",
                        retry_at: Some(t0()),
                    },
                },
                EmailAttempt {
                    id: &first[1].id,
                    outcome: AttemptOutcome::Sent,
                },
            ],
            t0(),
        )
        .unwrap();
        let retry = b.claim_unsent_emails(50, t0(), lease).unwrap();
        assert_eq!(
            retry.iter().map(|e| &e.id).collect::<Vec<_>>(),
            vec![&first[0].id],
            "{}",
            db.label
        );
        assert_eq!(retry[0].attempts, 1, "{}", db.label);
        // Once sent, the body and its sealed copy are gone; recipient and subject stay.
        let sent = &a.emails_to(&first[1].to).unwrap()[0];
        assert_eq!(
            (sent.body.as_str(), &sent.sealed_body),
            ("[sent; body removed]", &None),
            "{}",
            db.label
        );
        assert_eq!(sent.subject, "s");

        // A sender that died: its lease runs out and another instance takes over.
        let later = t0() + lease + Duration::seconds(1);
        let taken: Vec<String> = a
            .claim_unsent_emails(50, later, lease)
            .unwrap()
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(taken.len(), 2, "{}: {taken:?}", db.label);
        assert!(!taken.contains(&first[1].id), "{}", db.label);
    }
}
