//! Files on orders: the customer's attachments and the agent's delivered files. Blobs
//! are written to storage before the command; their rows are steps of the command's
//! plan, so a refused command leaves no row (and the handler deletes the blobs).

use crate::error::{Result, StoreError};
use crate::plan::{FileRow, Step};
use crate::rows::naive;
use crate::schema::{deliveries, files};
use crate::{Store, ulid};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use heepr_domain::{OrderId, Viewer};

/// A file already written to the blob store, waiting for its row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedFile {
    /// Storage key (also the file id body).
    pub key: String,
    /// Sanitised file name.
    pub name: String,
    /// Content type.
    pub content_type: String,
    /// Size.
    pub bytes: i64,
    /// Hex SHA-256.
    pub sha256: String,
}

/// A file row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRecord {
    /// `fil_…`
    pub id: String,
    /// Name to offer on download.
    pub name: String,
    /// Content type.
    pub content_type: String,
    /// Size.
    pub bytes: i64,
    /// Hex SHA-256.
    pub sha256: String,
    /// Where the blob is.
    pub storage_key: String,
}

impl StagedFile {
    /// The file row this staged file becomes.
    pub(crate) fn record(&self) -> FileRecord {
        FileRecord {
            id: file_id_of_key(&self.key),
            name: self.name.clone(),
            content_type: self.content_type.clone(),
            bytes: self.bytes,
            sha256: self.sha256.clone(),
            storage_key: self.key.clone(),
        }
    }
}

impl StagedFile {
    /// The file's row, on an order and possibly a delivery.
    pub(crate) fn step(&self, order: &str, delivery: Option<&str>, now: DateTime<Utc>) -> Step {
        let r = self.record();
        Step::File {
            row: FileRow {
                id: r.id,
                order_id: order.to_owned(),
                delivery_id: delivery.map(str::to_owned),
                name: r.name,
                content_type: r.content_type,
                bytes: r.bytes,
                sha256: r.sha256,
                storage_key: r.storage_key,
                created_at: naive(now),
            },
        }
    }
}

/// A file's row as read.
#[derive(Queryable, Selectable)]
#[diesel(table_name = files)]
pub(crate) struct FileCols {
    id: String,
    name: String,
    content_type: String,
    bytes: i64,
    sha256: String,
    storage_key: String,
}

pub(crate) fn file_record(r: FileCols) -> FileRecord {
    FileRecord {
        id: r.id,
        name: r.name,
        content_type: r.content_type,
        bytes: r.bytes,
        sha256: r.sha256,
        storage_key: r.storage_key,
    }
}

/// A new blob key (also the body of the file id).
pub fn new_file_key() -> String {
    ulid()
}

/// The id of the file row that points at blob `key`: every row is made from a
/// [`StagedFile`], whose id is `fil_<key>`. The orphan sweep relies on it.
fn file_id_of_key(key: &str) -> String {
    format!("fil_{key}")
}

impl Store {
    /// Which of these blob keys a file row points at (the rest are orphans: blobs
    /// written for a command that never committed). A primary-key lookup, in batches.
    pub fn keys_with_rows(&self, keys: &[String]) -> Result<std::collections::HashSet<String>> {
        let mut found = std::collections::HashSet::new();
        for batch in keys.chunks(500) {
            let ids: Vec<String> = batch.iter().map(|k| file_id_of_key(k)).collect();
            let rows: Vec<String> = self.query(|c| {
                Ok(files::table
                    .filter(files::id.eq_any(&ids))
                    .select(files::storage_key)
                    .load(c)?)
            })?;
            found.extend(rows);
        }
        Ok(found)
    }

    /// A file of an order, if the party may download it: attachments for everyone on
    /// the order; delivery files for the customer only once released.
    pub fn order_file(&self, id: &OrderId, file_id: &str, viewer: &Viewer) -> Result<FileRecord> {
        let o = self.order_for(id, viewer)?;
        self.read(|c| {
            let row: Option<(FileCols, Option<i32>)> = files::table
                .left_join(deliveries::table)
                .filter(files::id.eq(file_id))
                .filter(files::order_id.eq(id.as_str()))
                .select((FileCols::as_select(), deliveries::seq.nullable()))
                .first(c)
                .optional()?;
            let (cols, seq) = row.ok_or(StoreError::NotFound)?;
            if !viewer.may_download(&o, seq.map(|s| s.max(0) as u32)) {
                return Err(StoreError::NotFound);
            }
            Ok(file_record(cols))
        })
    }
}
