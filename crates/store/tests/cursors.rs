//! Event cursors (SPEC §16): an agent recovers from the very first event, and a cursor
//! is expired only when retention really removed something after it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::Duration;
use common::*;
use heepr_store::StoreError;
use heepr_store::testing::TestDb;

#[test]
fn since_zero_rereads_from_the_first_retained_event() {
    for db in TestDb::all() {
        let store = db.open();
        let w = world(&store);
        place(&store, &w, 10);
        place(&store, &w, 20);
        // The first drain's answer is lost: since=0 gives the same events again.
        let first = store.poll_events(&w.agent, None, t0()).unwrap();
        assert_eq!(first.events.len(), 2, "{}", db.label);
        let again = store.poll_events(&w.agent, Some("0"), t0()).unwrap();
        assert_eq!(again.events, first.events, "{}", db.label);
        assert_eq!(again.next, first.next);
        // The zero cursor of the agent's own id format means the same.
        let head = first.events[0]["id"].as_str().unwrap();
        let zero = format!("{}0000000000", &head[..head.len() - 10]);
        assert_eq!(
            store.poll_events(&w.agent, Some(&zero), t0()).unwrap().events,
            first.events
        );
    }
}

#[test]
fn a_cursor_expires_only_when_retention_removed_an_event_after_it() {
    for db in TestDb::all() {
        let store = db.open();
        let w = world(&store);
        place(&store, &w, 10);
        place(&store, &w, 20);
        let batch = store.poll_events(&w.agent, None, t0()).unwrap();
        let ids: Vec<String> = batch
            .events
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect();
        let beyond = format!("{}9999999999", &ids[1][..ids[1].len() - 10]);
        assert!(
            matches!(
                store.poll_events(&w.agent, Some(&beyond), t0()),
                Err(StoreError::Cursor("bad_cursor"))
            ),
            "{}: a cursor past the last event was never handed out",
            db.label
        );
        assert_eq!(store.purge_delivered_events(t0() + Duration::days(8)).unwrap(), 2);
        assert!(
            matches!(
                store.poll_events(&w.agent, Some(&ids[0]), t0()),
                Err(StoreError::Cursor("cursor_expired"))
            ),
            "{}: the event after this cursor was purged",
            db.label
        );
        let latest = store.poll_events(&w.agent, Some(&ids[1]), t0()).unwrap();
        assert!(
            latest.events.is_empty(),
            "{}: nothing after the newest cursor was lost",
            db.label
        );
        assert!(store.poll_events(&w.agent, Some("0"), t0()).unwrap().events.is_empty());
    }
}
