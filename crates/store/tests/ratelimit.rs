//! Attempt counters shared by every instance on the database, on both backends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use heepr_store::ratelimit::Attempts;
use heepr_store::testing::TestDb;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 8, 10, 0, 0).unwrap()
}

fn counts(a: &[Attempts]) -> Vec<i64> {
    a.iter().map(|a| a.count).collect()
}

#[test]
fn counts_in_fixed_windows_across_instances_and_forgives_a_success() {
    let window = Duration::minutes(15);
    for db in TestDb::all() {
        let a = db.open();
        let b = db.open();
        let (email, client) = ("login:e:c".to_owned(), "login:c".to_owned());
        let both = [email.clone(), client.clone()];

        let first = a.count_attempt(&both, t0(), window).unwrap();
        assert_eq!(counts(&first), [1, 1], "{}", db.label);
        assert_eq!(first[0].window_start, t0(), "{}", db.label);
        // Another instance counts on in the same window.
        let later = t0() + Duration::minutes(5);
        let second = b.count_attempt(&both, later, window).unwrap();
        assert_eq!(counts(&second), [2, 2], "{}", db.label);
        assert_eq!(second[1].window_start, t0(), "{}: the window does not move", db.label);
        assert_eq!(
            counts(&a.count_attempt(std::slice::from_ref(&client), later, window).unwrap()),
            [3]
        );

        // A success: the email's count is forgotten, the client's gives one back.
        b.forgive_attempt(&email, &client).unwrap();
        assert_eq!(
            counts(&a.count_attempt(&both, later, window).unwrap()),
            [1, 3],
            "{}",
            db.label
        );

        // A window that is over starts again at 1.
        let next = t0() + window;
        let fresh = a.count_attempt(std::slice::from_ref(&client), next, window).unwrap();
        assert_eq!((fresh[0].count, fresh[0].window_start), (1, next), "{}", db.label);

        // Forgiving what was never counted is fine; nothing goes below zero.
        a.forgive_attempt("nothing", "nothing either").unwrap();

        // Buckets whose window began before the cut are purged.
        assert_eq!(a.purge_attempts(next).unwrap(), 1, "{}: the email bucket", db.label);
        assert_eq!(a.purge_attempts(next).unwrap(), 0, "{}", db.label);
        assert_eq!(
            counts(&b.count_attempt(&[client], next, window).unwrap()),
            [2],
            "{}",
            db.label
        );
    }
}
