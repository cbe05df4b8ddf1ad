//! The two appliers write the same rows: the same plans go through `statements::apply`
//! and through `heepr_apply_v2`, and every row they leave is compared column by column.
//! A new step that one applier forgets, or writes differently, fails here. And v2
//! writes what v1 wrote for the steps v1 knows (older binaries keep calling v1).

use super::*;
use crate::files::StagedFile;
use crate::idempotency::{Claim, Once};
use crate::schema::{
    accounts, agents, deliveries, events, files, idempotency_keys, notifications, orders, reviews, transfers,
};
use crate::testing::TestDb;
use chrono::TimeZone;
use diesel::connection::SimpleConnection;
use heepr_domain::order::place_order;
use heepr_domain::{AcceptMode, AccountRef, AgentId, Order, OrderId, Points, Policy, TransferKind, UserId};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap() + chrono::Duration::microseconds(123_456)
}

const WORLD: &str = "
INSERT INTO users (id, email, display_name, password_hash, roles, created_at) VALUES
  ('usr_C', 'c@example.com', 'c', 'h', '[]', '2026-11-23 12:00:00'),
  ('usr_O', 'o@example.com', 'o', 'h', '[]', '2026-11-23 12:00:00');
INSERT INTO agents (id, owner_id, name, status, settings, created_at, updated_at) VALUES
  ('agt_A', 'usr_O', 'A', 'active', '{}', '2026-11-23 12:00:00', '2026-11-23 12:00:00');
INSERT INTO accounts (id, balance, created_at) VALUES ('wallet:usr_C', 100, '2026-11-23 12:00:00');
UPDATE accounts SET balance = -100 WHERE id = 'mint';
UPDATE accounts SET created_at = '2026-11-23 12:00:00' WHERE id IN ('mint', 'platform_fees');
";

/// Plans covering every step kind, built once so both backends get identical rows.
fn plans() -> (Vec<Plan>, Vec<Plan>) {
    let now = t0();
    let cmd = crate::testing::order_to_place(
        OrderId::from_unique("P1"),
        &UserId::parse("usr_C").unwrap(),
        &UserId::parse("usr_O").unwrap(),
        &AgentId::parse("agt_A").unwrap(),
        30,
        AcceptMode::Auto { bands: vec![] },
    );
    let d = place_order(cmd, &Policy::default(), now).unwrap();
    let file = StagedFile {
        key: "F1".into(),
        name: "brief.txt".into(),
        content_type: "text/plain".into(),
        bytes: 3,
        sha256: "ab".repeat(32),
    };
    let once = Once {
        claim: Claim {
            principal: "usr_C".into(),
            key: "k-1".into(),
            request_hash: "h".into(),
        },
        status: 201,
        render: |o: &Order| format!("{{\"id\":\"{}\"}}", o.id),
    };
    let placed =
        crate::order::placement(&d, std::slice::from_ref(&file), Some(&once), "https://heepr.test", now).unwrap();

    let mut after = d.order.clone();
    after.deliveries += 1;
    let mut delivered = Plan::new();
    delivered.push(Step::UpdateOrder {
        row: OrderRow::new(&after, 1).unwrap(),
        expected_version: 0,
    });
    delivered.push(Step::Delivery {
        row: DeliveryRow {
            id: "dlv_D1".into(),
            order_id: after.id.to_string(),
            seq: 1,
            body: Some("done\n".into()),
            urls: "[\"https://example.com/x\"]".into(),
            note: None,
            created_at: naive(now),
        },
    });
    let delivered_file = StagedFile {
        key: "F2".into(),
        ..file.clone()
    };
    delivered.push(delivered_file.step(after.id.as_str(), Some("dlv_D1"), now));
    let to_owner = Transfer {
        debit: AccountRef::Escrow(after.id.clone()),
        credit: AccountRef::Wallet(after.owner.clone()),
        amount: Points(10),
        kind: TransferKind::Payout,
        order: Some(after.id.clone()),
        task: None,
    };
    delivered.push(transfer(&to_owner, now));
    // Reputation: a completion's counters, then a review with its rating and bonus.
    let mut reviewed = Plan::new();
    reviewed.push(Step::AgentStats {
        agent_id: "agt_A".into(),
        completed: 1,
        on_time: 1,
        missed_deadlines: 0,
        declines: 0,
        flags: 0,
    });
    reviewed.push(Step::AgentStats {
        agent_id: "agt_A".into(),
        completed: 0,
        on_time: 0,
        missed_deadlines: 1,
        declines: 1,
        flags: 1,
    });
    reviewed.push(Step::Review {
        row: ReviewRow {
            id: "rev_R1".into(),
            order_id: after.id.to_string(),
            agent_id: "agt_A".into(),
            customer_id: "usr_C".into(),
            stars: 4,
            body: Some("good\nwork".into()),
            reply: None,
            replied_at: None,
            created_at: naive(now),
        },
    });
    reviewed.push(rating(0, 4));
    let bonus = Transfer {
        debit: AccountRef::Mint,
        credit: AccountRef::Wallet(after.customer.clone()),
        amount: Points(5),
        kind: TransferKind::ReviewBonus,
        order: Some(after.id.clone()),
        task: None,
    };
    reviewed.push(transfer(&bonus, now));

    // Each refused as a whole, on both backends alike.
    let stale = |p: &mut Plan| {
        p.push(Step::UpdateOrder {
            row: OrderRow::new(&after, 1).unwrap(),
            expected_version: 0,
        })
    };
    let mut refused = Vec::new();
    let mut p = Plan::new();
    p.push(transfer(&to_owner, now));
    stale(&mut p);
    refused.push(p);
    let mut p = Plan::new();
    p.push(transfer(
        &Transfer {
            amount: Points(1_000),
            ..to_owner.clone()
        },
        now,
    ));
    refused.push(p);
    let mut p = Plan::new();
    once.claim_in(&mut p, &d.order, now);
    p.push(transfer(&to_owner, now));
    refused.push(p);
    // A rating decided on a record that has changed since (the review above counted).
    let mut p = Plan::new();
    p.push(transfer(&bonus, now));
    p.push(rating(0, 5));
    refused.push(p);
    let mut p = Plan::new();
    p.push(Step::AgentStats {
        agent_id: "agt_gone".into(),
        completed: 1,
        on_time: 0,
        missed_deadlines: 0,
        declines: 0,
        flags: 0,
    });
    refused.push(p);
    (vec![placed, delivered, reviewed], refused)
}

/// The rating step of one more review of `stars` over an agent with `count` reviews of 4.
fn rating(count: i64, stars: i64) -> Step {
    let before = heepr_domain::reputation::Reputation {
        rating_sum: 4 * count,
        rating_count: count,
        ..Default::default()
    };
    let after = before.with_review(stars);
    Step::AgentRating {
        agent_id: "agt_A".into(),
        expected_sum: before.rating_sum,
        expected_count: before.rating_count,
        rating_sum: after.rating_sum,
        rating_count: after.rating_count,
        rating_x100: after.rating_x100(),
        score_x1000: after.score_x1000(),
    }
}

type Dump = Vec<String>;

fn rows<T: std::fmt::Debug>(name: &str, v: Vec<T>) -> Dump {
    v.iter().map(|r| format!("{name} {r:?}")).collect()
}

/// Every row the appliers touch, column by column.
fn dump(c: &mut AnyConnection) -> Dump {
    let mut out = Vec::new();
    out.extend(rows(
        "agents",
        agents::table
            .select((
                agents::id,
                agents::event_seq,
                (
                    agents::completed_count,
                    agents::on_time_count,
                    agents::missed_deadline_count,
                    agents::decline_count,
                    agents::flag_count,
                ),
                (
                    agents::rating_sum,
                    agents::rating_count,
                    agents::rating_x100,
                    agents::score_x1000,
                ),
            ))
            .order(agents::id)
            .load::<(String, i64, (i64, i64, i64, i64, i64), (i64, i64, i64, i64))>(c)
            .unwrap(),
    ));
    out.extend(rows(
        "reviews",
        reviews::table
            .order(reviews::id)
            .load::<(
                String,
                String,
                String,
                String,
                i32,
                Option<String>,
                Option<String>,
                Option<NaiveDateTime>,
                NaiveDateTime,
            )>(c)
            .unwrap(),
    ));
    out.extend(rows(
        "orders",
        orders::table
            .order(orders::id)
            .load::<(
                String,
                String,
                String,
                String,
                String,
                i64,
                String,
                Option<NaiveDateTime>,
                i64,
                NaiveDateTime,
                NaiveDateTime,
            )>(c)
            .unwrap(),
    ));
    out.extend(rows(
        "accounts",
        accounts::table
            .order(accounts::id)
            .load::<(String, i64, NaiveDateTime)>(c)
            .unwrap(),
    ));
    out.extend(rows(
        "transfers",
        transfers::table
            .order(transfers::seq)
            .load::<(
                i64,
                String,
                String,
                String,
                i64,
                String,
                Option<String>,
                NaiveDateTime,
                Option<String>,
            )>(c)
            .unwrap(),
    ));
    out.extend(rows(
        "events",
        events::table
            .order(events::id)
            .load::<(String, String, i64, String, Option<String>, String, NaiveDateTime)>(c)
            .unwrap(),
    ));
    out.extend(rows(
        "notifications",
        notifications::table
            .order(notifications::id)
            .load::<(
                String,
                String,
                Option<String>,
                String,
                Option<String>,
                NaiveDateTime,
                Option<NaiveDateTime>,
                Option<String>,
                Option<String>,
                Option<String>,
                Option<String>,
                Option<NaiveDateTime>,
            )>(c)
            .unwrap(),
    ));
    out.extend(rows(
        "deliveries",
        deliveries::table
            .order(deliveries::id)
            .load::<(
                String,
                String,
                i32,
                Option<String>,
                String,
                Option<String>,
                NaiveDateTime,
            )>(c)
            .unwrap(),
    ));
    out.extend(rows(
        "files",
        files::table
            .order(files::id)
            .load::<(
                String,
                String,
                Option<String>,
                String,
                String,
                i64,
                String,
                String,
                NaiveDateTime,
            )>(c)
            .unwrap(),
    ));
    out.extend(rows(
        "idempotency_keys",
        idempotency_keys::table
            .order(idempotency_keys::idem_key)
            .load::<(String, String, String, i32, String, NaiveDateTime)>(c)
            .unwrap(),
    ));
    out
}

/// As the store applies a plan: SQLite inside the writer's transaction, PostgreSQL's
/// one call (a transaction around it changes nothing).
fn atomically(c: &mut AnyConnection, p: &Plan) -> Result<()> {
    diesel::Connection::transaction(c, |c| p.apply(c))
}

#[test]
fn both_appliers_write_the_same_rows_and_refuse_the_same_plans() {
    let dbs = TestDb::all();
    let (applied, refused) = plans();
    let mut dumps = Vec::new();
    for db in &dbs {
        let mut c = crate::DbTarget::parse(&db.url).unwrap().establish().unwrap();
        crate::migrate::run(&mut c).unwrap();
        c.batch_execute(WORLD).unwrap();
        for p in &applied {
            atomically(&mut c, p).unwrap_or_else(|e| panic!("{}: {e}", db.label));
        }
        let before = dump(&mut c);
        let errors: Vec<String> = refused
            .iter()
            .map(|p| format!("{:?}", atomically(&mut c, p).expect_err(db.label)))
            .collect();
        assert_eq!(
            errors,
            [
                "Contention",
                "Domain(InsufficientPoints)",
                "ClaimTaken",
                "Contention",
                "NotFound"
            ],
            "{}: each refusal names its cause",
            db.label
        );
        let after = dump(&mut c);
        assert_eq!(before, after, "{}: a refused plan writes nothing", db.label);
        assert!(after.iter().any(|r| r.starts_with("idempotency_keys")), "{}", db.label);
        dumps.push((db.label, after));
    }
    if let [(a, first), (b, second)] = dumps.as_slice() {
        for (x, y) in first.iter().zip(second) {
            assert_eq!(x, y, "{a} and {b} appliers differ");
        }
        assert_eq!(first.len(), second.len(), "{a} and {b} wrote different row counts");
    }
}

/// Older binaries keep calling `heepr_apply_v1` while a new one calls v2: for the steps
/// v1 knows, both write the same rows.
#[test]
fn v2_writes_what_v1_wrote_for_v1_steps() {
    let Some(dbs) = TestDb::postgres().map(|a| [a, TestDb::postgres().expect("second schema")]) else {
        return;
    };
    let (applied, _) = plans();
    let mut dumps = Vec::new();
    for (db, call) in dbs
        .iter()
        .zip(["SELECT heepr_apply_v1($1::jsonb)", "SELECT heepr_apply_v2($1::jsonb)"])
    {
        let mut c = crate::DbTarget::parse(&db.url).unwrap().establish().unwrap();
        crate::migrate::run(&mut c).unwrap();
        c.batch_execute(WORLD).unwrap();
        // The placement and the delivery: the review plan has v2's steps.
        for p in &applied[..2] {
            assert!(p.steps.iter().all(|s| !matches!(
                s,
                Step::AgentStats { .. } | Step::Review { .. } | Step::AgentRating { .. }
            )));
            postgres::apply_with(&mut c, p, call).unwrap_or_else(|e| panic!("{call}: {e}"));
        }
        dumps.push(dump(&mut c));
    }
    assert_eq!(dumps[0], dumps[1]);
}
