//! The two migration folders must stay twins.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use heepr_store::testing::TestDb;

#[test]
fn both_backends_end_with_the_same_tables_and_columns() {
    let sqlite = TestDb::sqlite();
    let Some(pg) = TestDb::postgres() else { return };
    let cols = |db: &TestDb| {
        db.open();
        let mut conn = heepr_store::DbTarget::parse(&db.url).unwrap().establish().unwrap();
        heepr_store::dialect::table_columns(&mut conn).unwrap()
    };
    let (a, b) = (cols(&sqlite), cols(&pg));
    assert!(a.len() > 20, "{a:?}");
    assert_eq!(a, b);
}

#[test]
fn migration_folders_have_identical_names() {
    let names = |backend: &str| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/").to_owned() + backend;
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names("sqlite"), names("postgres"));
}

#[test]
fn unwritable_sqlite_directory_is_named_in_the_error() {
    let err = heepr_store::Store::open(&heepr_store::StoreConfig {
        url: "sqlite:///proc/heepr-nope/heepr.db".into(),
        pool_size: 1,
    })
    .err()
    .unwrap();
    assert!(err.to_string().contains("/proc/heepr-nope"), "{err}");
}
