//! The support desk through the store, on SQLite and (when configured) PostgreSQL:
//! suspension and its audit entry, email and order endings in one plan; refusals that
//! write nothing; reports of reviews; the audit log refusing any change in the database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::Duration;
use common::*;
use diesel::RunQueryDsl;
use heepr_domain::notice::{Detail, NotificationKind};
use heepr_domain::support::{ReportTarget, SupportError};
use heepr_domain::{AccountRef, Actor, Command, MultiLine, OrderState, Points, Policy};
use heepr_store::StoreError;
use heepr_store::support::AuditFilter;
use heepr_store::testing::TestDb;

fn text(s: &str) -> MultiLine {
    MultiLine::required("reason", s, 100).unwrap()
}

fn audit_count(store: &heepr_store::Store) -> usize {
    store
        .audit_log(&AuditFilter {
            limit: 100,
            ..AuditFilter::default()
        })
        .unwrap()
        .len()
}

fn sql(db: &TestDb, statement: &str) -> diesel::QueryResult<usize> {
    let mut c = heepr_store::DbTarget::parse(&db.url).unwrap().establish().unwrap();
    diesel::sql_query(statement).execute(&mut c)
}

/// The owner's notices that their agent was suspended.
fn suspension_notices(
    store: &heepr_store::Store,
    owner: &heepr_domain::UserId,
) -> Vec<heepr_store::notice::NoticeRecord> {
    let page = store.notices_for(owner, None, 100, false).unwrap();
    page.notices
        .into_iter()
        .filter(|n| n.kind == NotificationKind::AgentSuspended)
        .collect()
}

#[test]
fn suspension_writes_flag_record_audit_email_and_order_endings_together() {
    for db in TestDb::all() {
        let store = db.open();
        let w = world(&store);
        let admin = user(&store, "admin@example.com", 0);
        let p = Policy::default();
        let open = place(&store, &w, 30);
        let released = place(&store, &w, 40);
        let at = t0() + Duration::hours(1);
        for c in [Command::Deliver, Command::Release] {
            let actor = if c == Command::Deliver {
                Actor::Agent
            } else {
                Actor::Owner
            };
            store.order_command(&released.id, actor, c, &p, at).unwrap();
        }

        let ch = store
            .suspend_agent(&admin, w.agent.as_str(), &text("fake outputs"), &p, at, None)
            .unwrap();
        assert!(ch.suspended);
        assert_eq!(ch.refunded, std::slice::from_ref(&open.id), "{}", db.label);
        assert!(ch.returned.is_empty(), "a delivered order stays as it is");
        assert_eq!(store.order(&open.id).unwrap().state, OrderState::Refunded);
        assert_eq!(store.order(&released.id).unwrap().state, OrderState::Delivered);
        assert_eq!(
            store.balance(&AccountRef::Wallet(w.customer.clone())).unwrap(),
            Points(1000 - 40)
        );
        assert!(store.agent(w.agent.as_str()).unwrap().suspended);
        let told = suspension_notices(&store, &w.owner);
        assert_eq!(told.len(), 1, "{}", db.label);
        assert_eq!(
            told[0].detail,
            Detail::Note {
                text: "fake outputs".into()
            }
        );
        assert_eq!(told[0].agent_id.as_deref(), Some(w.agent.as_str()));
        assert_eq!(audit_count(&store), 1);
        let d = store.agent_dossier(w.agent.as_str()).unwrap();
        assert_eq!(d.suspended_reason.as_deref(), Some("fake outputs"));
        assert_eq!(d.suspensions.len(), 1);

        // Refusals write nothing.
        let again = store.suspend_agent(&admin, w.agent.as_str(), &text("x"), &p, at, None);
        assert!(matches!(
            again,
            Err(StoreError::Support(SupportError::AlreadySuspended))
        ));
        let unknown = store.suspend_agent(&admin, "agt_nope", &text("x"), &p, at, None);
        assert!(matches!(unknown, Err(StoreError::NotFound)));
        let stranger = user(&store, "stranger@example.com", 0);
        let theirs = store.request_reinstatement(&stranger, w.agent.as_str(), &text("m"), at, None);
        assert!(matches!(theirs, Err(StoreError::NotFound)));
        assert_eq!(audit_count(&store), 1);
        assert_eq!(suspension_notices(&store, &w.owner).len(), 1, "refusals tell nobody");

        // The owner asks once; reinstating resolves the request.
        let rq = store
            .request_reinstatement(&w.owner, w.agent.as_str(), &text("fixed"), at, None)
            .unwrap();
        let twice = store.request_reinstatement(&w.owner, w.agent.as_str(), &text("m"), at, None);
        assert!(matches!(twice, Err(StoreError::Support(SupportError::RequestOpen))));
        assert_eq!(store.support_queue(10, None).unwrap().counts.reinstatements, 1);
        store.reinstate_agent(&admin, w.agent.as_str(), None, at, None).unwrap();
        assert!(!store.agent(w.agent.as_str()).unwrap().suspended);
        assert_eq!(store.support_queue(10, None).unwrap().counts.reinstatements, 0);
        let closed = store.resolve_reinstatement_request(&admin, &rq.id, None, at, None);
        assert!(matches!(
            closed,
            Err(StoreError::Support(SupportError::AlreadyResolved))
        ));
        let d = store.agent_dossier(w.agent.as_str()).unwrap();
        assert!(d.suspensions[0].reinstated_at.is_some());
        assert!(d.requests[0].resolved_at.is_some());
        assert_eq!(audit_count(&store), 2);
        assert_ledger_ok(&store);
    }
}

#[test]
fn a_review_can_be_reported_and_the_audit_log_refuses_every_change() {
    for db in TestDb::all() {
        let store = db.open();
        let w = world(&store);
        let admin = user(&store, "admin@example.com", 0);
        let o = place(&store, &w, 10);
        sql(
            &db,
            &format!(
                "INSERT INTO reviews (id, order_id, agent_id, customer_id, stars, created_at) \
                 VALUES ('rev_1', '{}', '{}', '{}', 1, '2026-11-23 12:00:00')",
                o.id, w.agent, w.customer
            ),
        )
        .unwrap();
        let r = store
            .report(
                &w.owner,
                ReportTarget::Review,
                "rev_1",
                &text("sock puppet"),
                t0(),
                None,
            )
            .unwrap();
        assert_eq!(
            (r.target_kind.as_str(), r.agent_id.as_str()),
            ("review", w.agent.as_str())
        );
        let d = store.agent_dossier(w.agent.as_str()).unwrap();
        assert_eq!((d.open_reports, d.reports.len()), (1, 1));
        store
            .resolve_report(&admin, &r.id, Some(&text("kept")), t0(), None)
            .unwrap();
        assert_eq!(store.agent_dossier(w.agent.as_str()).unwrap().open_reports, 0);

        assert_eq!(audit_count(&store), 1);
        for statement in ["UPDATE audit_log SET reason = 'edited'", "DELETE FROM audit_log"] {
            let refused = sql(&db, statement);
            assert!(refused.is_err(), "{}: {statement} went through", db.label);
        }
        let entries = store
            .audit_log(&AuditFilter {
                limit: 10,
                ..AuditFilter::default()
            })
            .unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].reason.as_deref(), Some("kept"));
    }
}

#[test]
fn the_sweep_ends_work_a_suspension_did_not_see() {
    for db in TestDb::all() {
        let store = db.open();
        let w = world(&store);
        let admin = user(&store, "admin@example.com", 0);
        let p = Policy::default();
        let at = t0() + Duration::hours(1);
        let delivered = place(&store, &w, 10);
        for (actor, c) in [(Actor::Agent, Command::Deliver), (Actor::Owner, Command::Release)] {
            store.order_command(&delivered.id, actor, c, &p, at).unwrap();
        }
        assert_eq!(store.end_suspended_work(&p, at, 100).unwrap(), 0, "nobody is suspended");
        store
            .suspend_agent(&admin, w.agent.as_str(), &text("spam"), &p, at, None)
            .unwrap();
        // An order that slipped past (placed through a stale copy of the agent's terms),
        // and a revision the customer asked of the suspended agent.
        let late = place(&store, &w, 20);
        let message = "more".to_owned();
        store
            .order_command(
                &delivered.id,
                Actor::Customer,
                Command::RequestRevision { message },
                &p,
                at,
            )
            .unwrap();
        assert_eq!(store.end_suspended_work(&p, at, 100).unwrap(), 2, "{}", db.label);
        assert_eq!(store.order(&late.id).unwrap().state, OrderState::Refunded);
        assert_eq!(store.order(&delivered.id).unwrap().state, OrderState::Delivered);
        assert_eq!(store.end_suspended_work(&p, at, 100).unwrap(), 0, "nothing left");
        assert_ledger_ok(&store);
    }
}
