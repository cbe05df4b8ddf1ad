//! No plaintext secret at rest: an approval link is stored only sealed with the server
//! key (the outbox keeps `[link]` in its place), and nothing of it stays in the database
//! files once sent — SQLite's file and WAL, PostgreSQL's rows, heap file (dead tuples
//! included) and WAL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bytea, Text};
use heepr_store::testing::TestDb;
use std::time::{Duration, Instant};
use support::*;

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Every byte the database holds for us, as files: SQLite's database file and WAL;
/// on PostgreSQL the `emails` and `approvals` heap files (after a CHECKPOINT, so dead
/// tuples are on disk too), every WAL segment written since `since`, and each `emails`
/// row as text.
fn database_bytes(db: &TestDb, wal_since: &str) -> Vec<(String, Vec<u8>)> {
    if let Some(path) = db.url.strip_prefix("sqlite://") {
        let mut out = vec![(path.to_owned(), std::fs::read(path).unwrap())];
        let wal = format!("{path}-wal");
        if let Ok(bytes) = std::fs::read(&wal) {
            out.push((wal, bytes));
        }
        return out;
    }
    #[derive(QueryableByName)]
    struct Blob {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Bytea)]
        bytes: Vec<u8>,
    }
    let mut c = PgConnection::establish(&db.url).unwrap();
    diesel::sql_query("CHECKPOINT").execute(&mut c).unwrap();
    let mut out: Vec<Blob> = diesel::sql_query(
        "SELECT t AS name, pg_read_binary_file(pg_relation_filepath(t::regclass)) AS bytes \
         FROM unnest(ARRAY['emails', 'approvals']) AS t",
    )
    .load(&mut c)
    .expect("reading heap files needs a superuser (the test PostgreSQL's `postgres`)");
    out.extend(
        diesel::sql_query(
            "SELECT name, pg_read_binary_file('pg_wal/' || name) AS bytes FROM pg_ls_waldir() \
             WHERE modification >= $1::timestamptz AND name ~ '^[0-9A-F]{24}$'",
        )
        .bind::<Text, _>(wal_since)
        .load::<Blob>(&mut c)
        .unwrap(),
    );
    out.extend(
        diesel::sql_query(
            "SELECT 'row ' || id AS name, convert_to(row_to_json(e)::text, 'UTF8') AS bytes FROM emails e",
        )
        .load::<Blob>(&mut c)
        .unwrap(),
    );
    out.into_iter().map(|b| (b.name, b.bytes)).collect()
}

/// The database's clock now, as text (PostgreSQL WAL files are picked by it).
fn db_now(db: &TestDb) -> String {
    if db.url.starts_with("sqlite://") {
        return String::new();
    }
    #[derive(QueryableByName)]
    struct Now {
        #[diesel(sql_type = Text)]
        now: String,
    }
    let mut c = PgConnection::establish(&db.url).unwrap();
    // Whole seconds, rounded down: a segment's modification time has no fraction.
    diesel::sql_query("SELECT date_trunc('second', now())::text AS now")
        .get_result::<Now>(&mut c)
        .unwrap()
        .now
}

/// Waits (with a deadline) until every email in the outbox is marked sent.
fn wait_until_sent(db: &TestDb) {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let sql = "SELECT COUNT(*) AS n FROM emails WHERE sent_at IS NULL";
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let n = match db.url.strip_prefix("sqlite://") {
            Some(path) => diesel::sql_query(sql).get_result::<N>(&mut SqliteConnection::establish(path).unwrap()),
            None => diesel::sql_query(sql).get_result::<N>(&mut PgConnection::establish(&db.url).unwrap()),
        }
        .unwrap()
        .n;
        if n == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{}: email not marked sent within 20 s",
            db.label
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn an_approval_link_leaves_nothing_in_the_database_once_sent() {
    for db in TestDb::all() {
        let since = db_now(&db);
        let server = Server::start(&db, &[]);
        let key = server.data_dir().join("secret.key");
        assert_eq!(
            std::fs::read(&key).unwrap().len(),
            32,
            "{}: key created on first start",
            db.label
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", db.label);
        }

        let owner = signup(&server, "owner@example.com", true).await;
        let r = owner
            .post(server.url("/api/owner/agents"))
            .json(&wizard("Sealed"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        // The log transport prints the opened email: the link is whole there.
        let code = approval_code(&server);
        assert_eq!(code.len(), "apr_".len() + 64, "{}", db.label);
        wait_until_sent(&db);
        let r = owner
            .post(server.url("/api/owner/agents/approve"))
            .json(&serde_json::json!({ "code": code }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}: the sealed link reached the owner", db.label);

        let secret_part = &code["apr_".len()..];
        let files = database_bytes(&db, &since);
        assert!(
            files
                .iter()
                .any(|(name, _)| name.ends_with("-wal") || name.starts_with("0000")),
            "{}: the WAL is among what is checked: {:?}",
            db.label,
            files.iter().map(|f| &f.0).collect::<Vec<_>>()
        );
        for (name, bytes) in &files {
            assert!(
                !contains(bytes, secret_part),
                "{}: the approval code is in {name}",
                db.label
            );
            // (The PostgreSQL WAL is shared with whatever else runs on that server.)
            let shared_wal = name.starts_with("0000");
            assert!(
                shared_wal || !contains(bytes, "approve?code="),
                "{}: a link is in {name}",
                db.label
            );
        }
    }
}

#[tokio::test]
async fn a_queued_approval_email_is_stored_sealed_with_the_link_redacted() {
    for db in TestDb::all() {
        // Nothing listens here: the email stays queued (each attempt fails).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let since = db_now(&db);
        let server = Server::start(&db, &[("HEEPR_MAIL", &format!("smtp://127.0.0.1:{port}"))]);
        let owner = signup(&server, "owner@example.com", true).await;
        let r = owner
            .post(server.url("/api/owner/agents"))
            .json(&wizard("Queued"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);

        let store = db.open();
        let queued = store.emails_to("owner@example.com").unwrap();
        assert_eq!(queued.len(), 1, "{}", db.label);
        let e = &queued[0];
        assert!(
            e.body.contains("by opening this link while logged in:\n\n[link]\n"),
            "{}: support sees the text with [link]: {}",
            db.label,
            e.body
        );
        let sealed = e.sealed_body.as_deref().expect("the whole body is kept sealed");
        assert!(!contains(sealed, "apr_") && !contains(sealed, "[link]"), "{}", db.label);
        // The PostgreSQL WAL is shared with whatever else runs on that server: only
        // this test's own files and rows are searched for any code at all.
        for (name, bytes) in database_bytes(&db, &since) {
            let shared_wal = name.starts_with("0000");
            assert!(
                shared_wal || !contains(&bytes, "apr_"),
                "{}: an approval code is in {name}",
                db.label
            );
        }
        drop(server);
    }
}

#[test]
fn a_key_file_that_holds_no_key_stops_the_start_with_one_line() {
    for db in TestDb::all() {
        let data = TempDir::new();
        let key = data.0.join("elsewhere.key");
        std::fs::write(&key, b"not a key").unwrap();
        let (status, _, err) = run_command(
            &db,
            &data,
            &[],
            &[
                ("HEEPR_BIND", "127.0.0.1:0"),
                ("HEEPR_SECRET_KEY_FILE", key.to_str().unwrap()),
            ],
        );
        assert!(!status.success(), "{}", db.label);
        assert!(
            err.contains("elsewhere.key") && err.contains("expected 32 bytes"),
            "{}: {err}",
            db.label
        );
    }
}
