//! One event, handled: the order's record updated, and for work events the command run
//! and its outcome sent (deliver, decline or flag), each under an idempotency key derived
//! from the event id (SPEC §16: `<event id>:<action>[:<n>]`), so a second go after a crash
//! never acts twice.

use crate::api::{Api, Delivery};
use crate::command::{self, Job, Outcome, Shutdown};
use crate::error::{AgentError, Result};
use crate::state::{OrderRecord, Orders, Paths, Standing};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::time::Duration;
use tokio::sync::watch;

/// What the runner needs to work an event.
pub struct Ctx<'a> {
    pub api: &'a Api,
    pub paths: &'a Paths,
    pub argv: &'a [String],
    pub max_time: Duration,
    pub grace: Duration,
    pub shutdown: watch::Receiver<Shutdown>,
}

/// How handling an event ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Handled {
    /// Done (whatever the outcome): record its id.
    Done,
    /// SIGTERM cut the work short: leave it for the next start.
    Released,
}

fn str_of<'a>(ev: &'a Value, key: &str) -> Option<&'a str> {
    ev.get(key).and_then(Value::as_str)
}

/// What an event asks of the agent, once its order's record is updated.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// Work on this order (a new order, a revision, a resumed flag).
    Work(String),
    /// Nothing to do.
    Nothing,
}

/// Folds an event into the orders' records (and saves them); says whether it asks for work.
pub fn note_event(paths: &Paths, orders: &mut Orders, ev: &Value) -> Result<Next> {
    let (Some(id), Some(kind)) = (str_of(ev, "id"), str_of(ev, "k")) else {
        tracing::warn!("an event without id or kind: skipped");
        return Ok(Next::Nothing);
    };
    let Some(order) = str_of(ev, "o").map(str::to_owned) else {
        return Ok(Next::Nothing);
    };
    match kind {
        "new_order" | "owner_approved_order" | "revision_request" => {
            if orders.0.get(&order).is_some_and(|r| r.standing.is_terminal()) {
                tracing::info!(%order, event = id, "order already over: work event skipped");
                return Ok(Next::Nothing);
            }
            let deliveries = orders.0.get(&order).map_or(0, |r| r.deliveries);
            orders.0.insert(
                order.clone(),
                OrderRecord {
                    work: ev.clone(),
                    event_id: id.to_owned(),
                    standing: Standing::Open,
                    deadline: str_of(ev, "dl").map(str::to_owned),
                    last: Some(format!("{kind} received")),
                    deliveries,
                },
            );
        }
        "scope_change" => {
            let Some(rec) = orders.0.get_mut(&order) else {
                tracing::warn!(%order, "scope_change for an order never seen: skipped");
                return Ok(Next::Nothing);
            };
            for key in ["sc", "dl", "m", "sf"] {
                if let (Some(v), Some(work)) = (ev.get(key), rec.work.as_object_mut()) {
                    work.insert(key.to_owned(), v.clone());
                }
            }
            if let Some(work) = rec.work.as_object_mut() {
                work.insert("k".to_owned(), Value::from("scope_change"));
                work.insert("id".to_owned(), Value::from(id));
            }
            rec.deadline = str_of(ev, "dl").map(str::to_owned).or(rec.deadline.take());
            rec.event_id = id.to_owned();
            // Scope changes only reach orders in progress: a resumed flag, or work not
            // yet sent. A delivered order waits for a revision request instead.
            if !matches!(rec.standing, Standing::Open | Standing::Flagged) {
                rec.last = Some("scope_change noted".to_owned());
                orders.save(paths)?;
                return Ok(Next::Nothing);
            }
            rec.standing = Standing::Open;
            rec.last = Some("scope_change received".to_owned());
        }
        "order_completed" | "order_refunded" | "owner_denied_order" => {
            let standing = if kind == "order_completed" {
                Standing::Completed
            } else {
                Standing::Refunded
            };
            if let Some(rec) = orders.0.get_mut(&order) {
                rec.standing = standing;
                rec.last = Some(kind.to_owned());
            }
            orders.save(paths)?;
            let dir = paths.work(&order);
            if dir.exists() {
                let _ = std::fs::remove_dir_all(&dir);
            }
            return Ok(Next::Nothing);
        }
        other => {
            tracing::info!(kind = other, "an event kind this runner does not act on");
            return Ok(Next::Nothing);
        }
    }
    orders.save(paths)?;
    Ok(Next::Work(order))
}

/// Handles one event of a batch: notes it, and runs the command when it asks for work.
pub async fn handle(ctx: &Ctx<'_>, orders: &mut Orders, ev: &Value) -> Result<Handled> {
    let Next::Work(order) = note_event(ctx.paths, orders, ev)? else {
        return Ok(Handled::Done);
    };
    let rec = orders
        .0
        .get(&order)
        .cloned()
        .ok_or_else(|| AgentError::Usage("lost record".to_owned()))?;
    let outcome = work(ctx, &order, &rec).await?;
    let Some((standing, last, delivered)) = send(ctx, &order, &rec, outcome).await? else {
        return Ok(Handled::Released);
    };
    if let Some(r) = orders.0.get_mut(&order) {
        r.standing = standing;
        r.last = Some(last);
        r.deliveries += u32::from(delivered);
    }
    orders.save(ctx.paths)?;
    Ok(Handled::Done)
}

/// Fetches the attachments and runs the command.
async fn work(ctx: &Ctx<'_>, order: &str, rec: &OrderRecord) -> Result<Outcome> {
    let dir = ctx.paths.work(order);
    let att_dir = dir.join("attachments");
    std::fs::create_dir_all(&att_dir).map_err(AgentError::io(&att_dir))?;
    if let Some(list) = rec.work.get("at").and_then(Value::as_array) {
        for a in list {
            if let Err(e) = fetch_attachment(ctx.api, &att_dir, a).await {
                if e.is_transient() {
                    return Err(e);
                }
                return Ok(Outcome::Decline {
                    reason: "other",
                    note: format!("An attachment could not be fetched: {e}"),
                });
            }
        }
    }
    let timeout = time_left(rec.deadline.as_deref(), ctx.max_time);
    let job = Job {
        argv: ctx.argv,
        work_dir: &dir,
        stdin: serde_json::to_vec(&rec.work)?,
        env: vec![
            ("HEEPR_ORDER_ID", order.to_owned()),
            ("HEEPR_EVENT_ID", rec.event_id.clone()),
            (
                "HEEPR_EVENT_KIND",
                str_of(&rec.work, "k").unwrap_or_default().to_owned(),
            ),
            ("HEEPR_ATTACHMENTS_DIR", att_dir.display().to_string()),
            ("HEEPR_OUT_DIR", dir.join("out").display().to_string()),
            ("HEEPR_DEADLINE", rec.deadline.clone().unwrap_or_default()),
        ],
        timeout,
        grace: ctx.grace,
    };
    let event_id = rec.event_id.clone();
    tracing::info!(%order, event = %event_id, timeout_s = timeout.as_secs(), "working");
    command::run(job, ctx.shutdown.clone(), |n, note| {
        let key = format!("{event_id}:progress:{n}");
        async move {
            if let Err(e) = ctx.api.progress(order, &key, n, note.as_deref()).await {
                tracing::warn!(%order, error = %e, "progress not reported");
            }
        }
    })
    .await
}

/// The time the command may take: up to the order's deadline (less a minute to send the
/// delivery), at most `max`, at least a second.
pub fn time_left(deadline: Option<&str>, max: Duration) -> Duration {
    let left = deadline
        .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
        .map(|d| (d.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds() - 60)
        .map_or(max, |s| Duration::from_secs(s.max(1) as u64));
    left.min(max).max(Duration::from_secs(1))
}

/// Downloads one `at` entry into `dir` (unless a file with its hash is there); returns its path.
pub async fn fetch_attachment(api: &Api, dir: &std::path::Path, a: &Value) -> Result<std::path::PathBuf> {
    let (Some(name), Some(url)) = (str_of(a, "n"), str_of(a, "u")) else {
        return Err(AgentError::Usage("an attachment without name or URL".to_owned()));
    };
    // The stored name is the customer's, sanitised by the server; keep it a plain name.
    let name = std::path::Path::new(name)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "attachment".to_owned());
    let path = dir.join(&name);
    let want = str_of(a, "h");
    if let (Ok(bytes), Some(h)) = (std::fs::read(&path), want)
        && hex::encode(Sha256::digest(&bytes)) == h
    {
        return Ok(path);
    }
    let bytes = api.download(url, &path).await?;
    if let Some(h) = want
        && hex::encode(Sha256::digest(&bytes)) != h
    {
        let _ = std::fs::remove_file(&path);
        return Err(AgentError::Usage(format!("{name}: sha256 differs from the event's")));
    }
    Ok(path)
}

/// Sends the outcome; `None` when the order was released. Otherwise the new standing,
/// a line for `status`, and whether a delivery was written.
async fn send(
    ctx: &Ctx<'_>,
    order: &str,
    rec: &OrderRecord,
    outcome: Outcome,
) -> Result<Option<(Standing, String, bool)>> {
    let eid = &rec.event_id;
    let (reason, note) = match outcome {
        Outcome::Released => {
            tracing::info!(%order, "released: the next start works it again");
            return Ok(None);
        }
        Outcome::Deliver { text, files } if text.is_empty() && files.is_empty() => {
            ("other", "The agent produced no delivery.".to_owned())
        }
        Outcome::Deliver { text, files } => {
            let d = Delivery {
                text: (!text.is_empty()).then_some(text),
                urls: Vec::new(),
                note: None,
                files,
            };
            match ctx.api.deliver(order, &format!("{eid}:deliver"), &d).await {
                Ok(answer) => {
                    if std::env::var_os("HEEPR_AGENT_TEST_CRASH_AFTER_DELIVER").is_some() {
                        // Test hook: dies as `kill -9` would, between the server's answer
                        // and any local record of it.
                        std::process::abort();
                    }
                    tracing::info!(%order, delivery = %answer.delivery.id, replayed = answer.replayed, "delivered");
                    return Ok(Some((
                        Standing::Delivered,
                        format!("delivered {}", answer.delivery.id),
                        true,
                    )));
                }
                // The key was used with another body: an earlier run delivered already.
                Err(e) if e.code() == Some("idempotency_key_reused") => {
                    tracing::info!(%order, "delivered on an earlier run");
                    return Ok(Some((Standing::Delivered, "delivered (earlier run)".to_owned(), false)));
                }
                Err(e) if e.code() == Some("payload_too_large") => {
                    ("other", "The delivery is larger than this server accepts.".to_owned())
                }
                Err(e) if e.is_transient() => return Err(e),
                Err(e @ AgentError::Api { status: 409, .. }) => {
                    tracing::warn!(%order, error = %e, "not deliverable now");
                    return Ok(Some((rec.standing, format!("deliver refused: {e}"), false)));
                }
                Err(AgentError::Api { message, .. }) => ("other", format!("The delivery was refused: {message}")),
                Err(e) => return Err(e),
            }
        }
        Outcome::Decline { reason, note } => (reason, note),
        Outcome::Flag { reason, note } => {
            let note = (!note.is_empty()).then_some(note);
            return match ctx
                .api
                .reason("flag", order, &format!("{eid}:flag"), reason, note.as_deref())
                .await
            {
                Ok(()) => Ok(Some((Standing::Flagged, format!("flagged: {reason}"), false))),
                Err(e) if e.is_transient() => Err(e),
                Err(e) => {
                    tracing::warn!(%order, error = %e, "flag refused");
                    Ok(Some((rec.standing, format!("flag refused: {e}"), false)))
                }
            };
        }
        Outcome::Crashed { status, note } => {
            tracing::warn!(%order, %status, "the command failed");
            let mut n = format!("The agent's command failed ({status}).");
            if !note.is_empty() {
                n = format!("{n} {note}");
            }
            ("other", n)
        }
        Outcome::TimedOut => {
            tracing::warn!(%order, "the command timed out");
            ("capacity", "The work did not finish before its time-out.".to_owned())
        }
    };
    let note: String = note
        .chars()
        .take(heepr_domain::limits::DECLINE_FLAG_NOTE_MAX_CHARS)
        .collect();
    let note = (!note.is_empty()).then_some(note);
    match ctx
        .api
        .reason("decline", order, &format!("{eid}:decline"), reason, note.as_deref())
        .await
    {
        Ok(()) => {
            tracing::info!(%order, reason, "declined");
            Ok(Some((Standing::Declined, format!("declined: {reason}"), false)))
        }
        Err(e) if e.code() == Some("idempotency_key_reused") => {
            Ok(Some((Standing::Declined, "declined (earlier run)".to_owned(), false)))
        }
        Err(e) if e.is_transient() => Err(e),
        Err(e) => {
            tracing::warn!(%order, error = %e, "decline refused");
            Ok(Some((rec.standing, format!("decline refused: {e}"), false)))
        }
    }
}
