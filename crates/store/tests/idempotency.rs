//! Idempotency keys at the store: the claim commits with the effect, a second claim of
//! the same key replays the first answer and acts nothing, and keys go after 7 days.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::Duration;
use common::*;
use heepr_domain::{Command, Order, Policy, Viewer};
use heepr_store::StoreError;
use heepr_store::idempotency::{Answer, Claim, KEEP_DAYS, Once};
use heepr_store::testing::TestDb;

fn once(key: &str, hash: &str) -> Once<Order> {
    Once {
        claim: Claim {
            principal: "tester".into(),
            key: key.into(),
            request_hash: hash.into(),
        },
        status: 200,
        render: |o: &Order| format!("{{\"state\":\"{}\"}}", o.state.as_str()),
    }
}

#[test]
fn a_claimed_key_replays_its_answer_and_is_purged_after_seven_days() {
    for db in TestDb::all() {
        let store = db.open();
        let w = world(&store);
        let o = place(&store, &w, 10);
        let agent = Viewer::Agent(w.agent.clone());
        // The agent declines with key `k`; `hash` stands for the request.
        let decline = |hash: &str| {
            let cmd = Command::Decline {
                reason: heepr_domain::order::DeclineReason::Capacity,
                note: None,
            };
            store.order_command_by(&o.id, &agent, cmd, &Policy::default(), t0(), Some(&once("k", hash)))
        };
        let first = decline("h").unwrap();
        assert_eq!(first.state.as_str(), "refunded", "{}", db.label);
        // The retry decides on the refunded order (a refusal) and answers the first answer.
        let again = decline("h");
        let want = Answer {
            status: 200,
            body: "{\"state\":\"refunded\"}".into(),
        };
        assert!(
            matches!(&again, Err(StoreError::Replayed(a)) if *a == want),
            "{}: {again:?}",
            db.label
        );
        // The same key for another request is refused.
        let other = decline("x");
        assert!(matches!(other, Err(StoreError::KeyReused)), "{}", db.label);
        assert_ledger_ok(&store);

        // Housekeeping purges what was claimed more than KEEP_DAYS before "now".
        let purge_at = |now| store.purge_idempotency_keys(now - Duration::days(KEEP_DAYS)).unwrap();
        let week = Duration::days(KEEP_DAYS);
        assert_eq!(
            purge_at(t0() + week - Duration::seconds(1)),
            0,
            "{}: kept 7 days",
            db.label
        );
        assert_eq!(
            purge_at(t0() + week + Duration::seconds(1)),
            1,
            "{}: then purged",
            db.label
        );
        assert_eq!(
            store.stored_answer(&once("k", "h").claim).unwrap(),
            None,
            "{}",
            db.label
        );
    }
}
