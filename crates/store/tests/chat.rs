//! Threads, messages and offers through the store, on SQLite and (when configured)
//! PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::Duration;
use common::*;
use heepr_domain::agent::Tier;
use heepr_domain::chat::{AuthorKind, ChatError, OfferDraft};
use heepr_domain::{AccountRef, Actor, Command, FeeBps, OrderState, Points, Policy};
use heepr_store::chat::{OfferRecord, Viewer};
use heepr_store::testing::TestDb;
use heepr_store::{Store, StoreError};

/// Gives the world's agent a second tier so its price range is 10..50.
fn widen(store: &Store, w: &World) -> String {
    let mut s = store.agent(w.agent.as_str()).unwrap().settings;
    s.gigs[0].tiers.push(Tier {
        name: "Pro".into(),
        price: Points(50),
        delivery_days: 3,
        revisions: 2,
    });
    let a = store
        .update_agent_settings(&w.owner, w.agent.as_str(), s, t0())
        .unwrap();
    a.settings.gigs[0].id.clone().unwrap()
}

fn draft(gig: &str, price: i64) -> OfferDraft {
    OfferDraft {
        gig_id: gig.into(),
        tier: "Pro".into(),
        price: Points(price),
        deadline: t0() + Duration::days(2) + Duration::hours(3),
        scope: "Port the parser to nom 8".into(),
        inputs: serde_json::json!({}),
        expires_at: None,
    }
}

fn viewer(u: &heepr_domain::UserId) -> Viewer<'_> {
    Viewer {
        user: u,
        support: false,
    }
}

fn offer_in_new_thread(store: &Store, w: &World, price: i64) -> OfferRecord {
    let gig = widen(store, w);
    let v = store
        .open_thread(&w.customer, w.agent.as_str(), "Can you port my parser?", t0())
        .unwrap();
    store
        .create_offer(&v.thread.id, &w.owner, draft(&gig, price), t0())
        .unwrap()
}

#[test]
fn a_new_thread_gets_the_assistant_reply_and_only_parties_see_it() {
    for db in TestDb::all() {
        let store = db.open();
        let w = world(&store);
        let stranger = user(&store, "stranger@example.com", 0);
        let v = store
            .open_thread(&w.customer, w.agent.as_str(), "  Hello? ", t0())
            .unwrap();
        assert_eq!(v.messages.len(), 2, "{}", db.label);
        assert_eq!(v.messages[0].author_kind, AuthorKind::Customer);
        assert_eq!(v.messages[0].body, "Hello?");
        assert_eq!(v.messages[1].author_kind, AuthorKind::Assistant);
        assert!(
            v.messages[1].body.contains("- Basic: 10 points"),
            "{}",
            v.messages[1].body
        );
        let id = v.thread.id.clone();

        let owner_view = store.thread_for(&id, viewer(&w.owner), t0()).unwrap();
        assert_eq!(owner_view.role, AuthorKind::Owner);
        assert_eq!(owner_view.messages, v.messages, "{}: same order on re-read", db.label);
        assert!(matches!(
            store.thread_for(&id, viewer(&stranger), t0()),
            Err(StoreError::NotFound)
        ));
        let support = Viewer {
            user: &stranger,
            support: true,
        };
        assert_eq!(store.thread_for(&id, support, t0()).unwrap().role, AuthorKind::Support);
        assert!(
            store.post_message(&id, support, "hi", t0()).is_err(),
            "support reads only"
        );
        assert!(matches!(
            store.post_message(&id, viewer(&stranger), "hi", t0()),
            Err(StoreError::NotFound)
        ));

        let m = store
            .post_message(&id, viewer(&w.owner), "Sure, send details", t0() + Duration::minutes(1))
            .unwrap();
        assert_eq!(m.author_kind, AuthorKind::Owner);
        assert_eq!(store.threads_of(&w.customer, 10).unwrap().len(), 1);
        assert_eq!(store.threads_of(&w.owner, 10).unwrap().len(), 1);
        assert!(store.threads_of(&stranger, 10).unwrap().is_empty());
    }
}

#[test]
fn asking_for_a_human_tells_the_owner_once() {
    for db in TestDb::all() {
        let store = db.open();
        let w = world(&store);
        let v = store.open_thread(&w.customer, w.agent.as_str(), "Hi", t0()).unwrap();
        assert!(matches!(
            store.request_human(&v.thread.id, viewer(&w.owner), t0()),
            Err(StoreError::NotFound)
        ));
        let t = store.request_human(&v.thread.id, viewer(&w.customer), t0()).unwrap();
        assert!(t.human_requested);
        store.request_human(&v.thread.id, viewer(&w.customer), t0()).unwrap();
        let owner_notices = store.notices_for(&w.owner, None, 50, false).unwrap().notices;
        let asks: Vec<_> = owner_notices
            .iter()
            .filter(|n| n.kind == heepr_domain::notice::NotificationKind::HumanRequested)
            .collect();
        assert_eq!(asks.len(), 1, "{}: told once", db.label);
        assert_eq!(asks[0].thread_id.as_deref(), Some(t.id.as_str()));
        assert_eq!(asks[0].agent_id.as_deref(), Some(w.agent.as_str()));
        // The sender emails it once, whichever of two instances gets to it.
        let todo = store.notices_to_mail(50).unwrap();
        let n = todo.iter().find(|n| n.notice.id == asks[0].id).unwrap();
        assert_eq!(n.to.as_deref(), Some("owner@example.com"));
        let email = heepr_store::mail::NewEmail::plain("owner@example.com", "s", "b");
        assert!(store.queue_notice_email(&n.notice.id, Some(&email), t0()).unwrap());
        assert!(!store.queue_notice_email(&n.notice.id, Some(&email), t0()).unwrap());
        assert_eq!(store.emails_to("owner@example.com").unwrap().len(), 1, "{}", db.label);
    }
}

#[test]
fn offers_are_checked_against_the_agent() {
    for db in TestDb::all() {
        let store = db.open();
        let w = world(&store);
        let gig = widen(&store, &w);
        let v = store.open_thread(&w.customer, w.agent.as_str(), "Hi", t0()).unwrap();
        let id = v.thread.id.as_str();
        let field = |r: Result<OfferRecord, StoreError>| match r {
            Err(StoreError::Chat(ChatError::Invalid(e))) => e.field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(store.create_offer(id, &w.owner, draft(&gig, 51), t0())), "price");
        assert_eq!(field(store.create_offer(id, &w.owner, draft(&gig, 9), t0())), "price");
        let mut late = draft(&gig, 20);
        late.deadline = t0();
        assert_eq!(field(store.create_offer(id, &w.owner, late, t0())), "deadline");
        assert!(matches!(
            store.create_offer(id, &w.customer, draft(&gig, 20), t0()),
            Err(StoreError::NotFound)
        ));
        let o = store.create_offer(id, &w.owner, draft(&gig, 20), t0()).unwrap();
        assert_eq!(o.price, Points(20), "{}", db.label);
        assert_eq!(o.expires_at, o.deadline, "default expiry capped at the deadline");
        assert_eq!(store.thread_for(id, viewer(&w.customer), t0()).unwrap().offers, vec![o]);
    }
}

#[test]
fn accepting_an_offer_places_an_order_once() {
    for db in TestDb::all() {
        let store = db.open();
        let w = world(&store);
        let p = Policy::default();
        let o = offer_in_new_thread(&store, &w, 40);
        let fee = FeeBps::new(0).unwrap();
        assert!(matches!(
            store.accept_offer(&o.id, &w.owner, fee, &p, t0(), None),
            Err(StoreError::NotFound)
        ));
        let order = store.accept_offer(&o.id, &w.customer, fee, &p, t0(), None).unwrap();
        assert_eq!(order.state, OrderState::InProgress, "{}", db.label);
        assert_eq!(order.price, Points(40));
        assert_eq!(order.work.scope.as_deref(), Some("Port the parser to nom 8"));
        assert_eq!(order.work.tier_name, "Pro");
        assert_eq!(order.revisions_included, 2);
        assert_eq!(order.work.delivery_days, 3, "2 days 3 hours round up");
        assert!(order.deadline.unwrap() >= o.deadline);
        let evs = store.agent_events(&w.agent, 0, 10).unwrap();
        assert_eq!(evs.len(), 1);
        assert_eq!(evs[0].kind, "new_order");
        assert_eq!(evs[0].body["sc"], "Port the parser to nom 8");
        assert!(matches!(
            store.accept_offer(&o.id, &w.customer, fee, &p, t0(), None),
            Err(StoreError::Chat(ChatError::OfferAccepted))
        ));
        assert_eq!(
            store.balance(&AccountRef::Wallet(w.customer.clone())).unwrap(),
            Points(960)
        );
        let v = store.thread_for(&o.thread_id, viewer(&w.customer), t0()).unwrap();
        assert_eq!(v.offers[0].accepted_order_id.as_deref(), Some(order.id.as_str()));
        assert_ledger_ok(&store);
    }
}

#[test]
fn an_expired_offer_cannot_be_accepted() {
    for db in TestDb::all() {
        let store = db.open();
        let w = world(&store);
        let o = offer_in_new_thread(&store, &w, 40);
        let err = store
            .accept_offer(
                &o.id,
                &w.customer,
                FeeBps::new(0).unwrap(),
                &Policy::default(),
                o.expires_at,
                None,
            )
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Chat(ChatError::OfferExpired)),
            "{}: {err}",
            db.label
        );
        assert_ledger_ok(&store);
    }
}

#[test]
fn eight_concurrent_accepts_make_exactly_one_order() {
    for db in TestDb::all() {
        let store = db.open();
        let w = world(&store);
        let o = offer_in_new_thread(&store, &w, 30);
        let p = Policy::default();
        let results: Vec<_> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..8)
                .map(|_| s.spawn(|| store.accept_offer(&o.id, &w.customer, FeeBps::new(0).unwrap(), &p, t0(), None)))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let ok = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(ok, 1, "{}: {results:?}", db.label);
        for r in &results {
            if let Err(e) = r {
                assert!(
                    matches!(e, StoreError::Chat(ChatError::OfferAccepted)),
                    "{}: {e}",
                    db.label
                );
            }
        }
        assert_eq!(
            store
                .orders_of(&heepr_domain::Viewer::Customer(w.customer.clone()), None, 100, 0)
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            store.balance(&AccountRef::Wallet(w.customer.clone())).unwrap(),
            Points(970)
        );
        assert_ledger_ok(&store);
    }
}

#[test]
fn order_threads_open_lazily_and_go_read_only_seven_days_after_the_end() {
    for db in TestDb::all() {
        let store = db.open();
        let w = world(&store);
        let p = Policy::default();
        let stranger = user(&store, "stranger@example.com", 0);
        let o = place(&store, &w, 10);
        let v = store
            .order_thread(&o.id, &heepr_domain::Viewer::Customer(w.customer.clone()), t0())
            .unwrap();
        assert_eq!(v.thread.order_id.as_deref(), Some(o.id.as_str()), "{}", db.label);
        assert!(v.writable && v.messages.is_empty());
        let again = store
            .order_thread(&o.id, &heepr_domain::Viewer::Owner(w.owner.clone()), t0())
            .unwrap();
        assert_eq!(again.thread.id, v.thread.id, "one thread per order");
        assert_eq!(again.role, AuthorKind::Owner);
        assert_eq!(
            store
                .order_thread(&o.id, &heepr_domain::Viewer::Admin, t0())
                .unwrap()
                .role,
            AuthorKind::Support
        );
        assert!(matches!(
            store.order_thread(&o.id, &heepr_domain::Viewer::Customer(stranger.clone()), t0()),
            Err(StoreError::NotFound)
        ));
        let id = v.thread.id.as_str();
        store.post_message(id, viewer(&w.customer), "Thanks!", t0()).unwrap();
        assert!(matches!(
            store.create_offer(id, &w.owner, draft("gig", 10), t0()),
            Err(StoreError::Chat(ChatError::NotPreSale))
        ));

        let end = t0() + Duration::hours(1);
        store
            .order_command(&o.id, Actor::Agent, Command::Deliver, &p, end)
            .unwrap();
        store
            .order_command(&o.id, Actor::Owner, Command::Release, &p, end)
            .unwrap();
        store
            .order_command(&o.id, Actor::Customer, Command::Accept, &p, end)
            .unwrap();
        let almost = end + Duration::days(7) - Duration::seconds(1);
        store.post_message(id, viewer(&w.owner), "Enjoy", almost).unwrap();
        let after = end + Duration::days(7);
        assert!(matches!(
            store.post_message(id, viewer(&w.customer), "One more thing", after),
            Err(StoreError::Chat(ChatError::ReadOnly))
        ));
        let v = store.thread_for(id, viewer(&w.customer), after).unwrap();
        assert!(!v.writable);
        assert_eq!(v.messages.len(), 2);
    }
}
