//! Throw-away databases for tests: a SQLite file in a temp dir, and — when
//! `HEEPR_TEST_POSTGRES_URL` is set — a PostgreSQL schema of its own, so tests run in
//! parallel and leave nothing behind.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use heepr_domain::{AcceptMode, AgentAvailability, AgentId, FeeBps, OrderId, PlaceOrder, Points, UserId, WorkSpec};
use std::path::PathBuf;

/// The env var that enables (and, in CI, requires) the PostgreSQL half.
pub const POSTGRES_ENV: &str = "HEEPR_TEST_POSTGRES_URL";

/// A database that disappears when dropped.
pub struct TestDb {
    /// `DATABASE_URL` for it.
    pub url: String,
    /// "sqlite" or "postgres", for test messages.
    pub label: &'static str,
    dir: Option<PathBuf>,
    pg: Option<(String, String)>,
}

impl TestDb {
    /// A fresh SQLite database in its own temp dir.
    pub fn sqlite() -> Self {
        let dir = std::env::temp_dir().join(format!("heepr-test-{}", crate::ulid()));
        Self {
            url: format!("sqlite://{}", dir.join("heepr.db").display()),
            label: "sqlite",
            dir: Some(dir),
            pg: None,
        }
    }

    /// A fresh PostgreSQL schema, or `None` (with a loud note) when the env var is
    /// unset. Panics if the env var is set but the server cannot be used, and — so CI
    /// can never silently skip — if `CI` is set but the env var is not.
    pub fn postgres() -> Option<Self> {
        let Ok(admin) = std::env::var(POSTGRES_ENV) else {
            if std::env::var_os("CI").is_some() {
                panic!("CI is set but {POSTGRES_ENV} is not: the PostgreSQL half must run in CI");
            }
            eprintln!(
                "SKIPPED PostgreSQL half: set {POSTGRES_ENV}=postgres://postgres@127.0.0.1:5432/postgres to run it"
            );
            return None;
        };
        let schema = format!("heepr_t_{}", crate::ulid().to_lowercase());
        let mut conn = PgConnection::establish(&admin)
            .unwrap_or_else(|e| panic!("{POSTGRES_ENV} is set but PostgreSQL is unreachable: {e}"));
        conn.batch_execute(&format!("CREATE SCHEMA {schema}"))
            .unwrap_or_else(|e| panic!("cannot create test schema: {e}"));
        let sep = if admin.contains('?') { '&' } else { '?' };
        Some(Self {
            url: format!("{admin}{sep}options=-csearch_path%3D{schema}"),
            label: "postgres",
            dir: None,
            pg: Some((admin, schema)),
        })
    }

    /// SQLite always, PostgreSQL when configured.
    pub fn all() -> Vec<Self> {
        let mut v = vec![Self::sqlite()];
        v.extend(Self::postgres());
        v
    }

    /// Opens a store on it (migrations applied).
    pub fn open(&self) -> crate::Store {
        crate::Store::open(&crate::StoreConfig {
            url: self.url.clone(),
            pool_size: 8,
        })
        .unwrap_or_else(|e| panic!("open {} test db: {e}", self.label))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some((admin, schema)) = &self.pg
            && let Ok(mut c) = PgConnection::establish(admin)
        {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}

/// A placement for tests and benchmarks: a "Fix a bug" gig's Basic tier at `price`
/// (10 % fee, 2 days, one revision), for an active agent.
pub fn order_to_place(
    id: OrderId,
    customer: &UserId,
    owner: &UserId,
    agent: &AgentId,
    price: i64,
    accept_mode: AcceptMode,
) -> PlaceOrder {
    PlaceOrder {
        id,
        customer: customer.clone(),
        owner: owner.clone(),
        agent: agent.clone(),
        availability: AgentAvailability::Active,
        accept_mode,
        price: Points(price),
        fee_bps: FeeBps::new(1000).unwrap_or_default(),
        work: WorkSpec {
            gig_title: "Fix a bug".into(),
            tier_name: "Basic".into(),
            inputs: serde_json::json!({"repo": "https://example.com/r"}),
            delivery_days: 2,
            category: "code".into(),
            ..WorkSpec::default()
        },
        revisions_included: 1,
        auto_approve_deliveries: false,
        from_offer: false,
    }
}
