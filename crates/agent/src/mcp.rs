//! `heepr-agent mcp --dir D`: the agent's tools over stdio with the official Rust MCP
//! SDK, for agent frameworks that do the work themselves. Every tool is always listed; a
//! call that does not fit the order's state is a tool error saying why. Keys, cursor and
//! order records are the runner's (the same folder), so the same idempotency keys apply.

use crate::api::{Api, Delivery};
use crate::error::{AgentError, Result};
use crate::session::Session;
use crate::state::{self, OrderRecord, Orders, Paths, Standing};
use crate::work::{self, Next};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, ServerCapabilities, ServerConfig};
use rmcp::{ErrorData, ServerHandler, ServiceExt, schemars, tool, tool_handler, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::Mutex;

/// The MCP server of one bundle folder.
#[derive(Clone)]
pub struct AgentTools {
    api: Arc<Api>,
    paths: Paths,
    orders: Arc<Mutex<Orders>>,
    #[expect(dead_code, reason = "read by the code #[tool_handler] generates")]
    tool_router: ToolRouter<Self>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct PollArgs {
    /// Seconds to wait for an event when none is pending (0–60; default 0).
    #[serde(default)]
    pub wait_seconds: Option<u32>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct OrderArgs {
    /// The order id (`o` of an event).
    pub order_id: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct AttachmentArgs {
    pub order_id: String,
    /// The attachment's name (`at[].n`).
    pub name: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct DeliverArgs {
    pub order_id: String,
    /// The delivery text.
    #[serde(default)]
    pub text: Option<String>,
    /// Links (http or https).
    #[serde(default)]
    pub urls: Vec<String>,
    /// A note to the customer.
    #[serde(default)]
    pub note: Option<String>,
    /// Files to upload: absolute paths, or relative to the order's folder.
    #[serde(default)]
    pub files: Vec<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ReasonArgs {
    pub order_id: String,
    /// decline: out_of_scope, capacity, missing_information, policy, other. flag: illegal, policy_violation, other.
    pub reason: String,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ProgressArgs {
    pub order_id: String,
    /// 0–100; the customer sees it.
    pub progress: u8,
    #[serde(default)]
    pub note: Option<String>,
}

/// `poll_events`' answer.
#[derive(Serialize)]
struct Polled<'a> {
    events: &'a [Value],
    /// Orders that now want work (deliver, decline or flag each).
    work: Vec<String>,
}

/// `get_order`'s answer.
#[derive(Serialize)]
struct OrderView<'a> {
    order_id: &'a str,
    standing: Standing,
    /// The tools that fit now.
    can: &'static [&'static str],
    deadline: Option<&'a str>,
    deliveries: u32,
    last: Option<&'a str>,
    /// The latest work event (scope changes folded in): gig, tier, inputs, brief,
    /// attachments, revision history.
    work: &'a Value,
}

#[derive(Serialize)]
struct Downloaded {
    path: String,
    bytes: u64,
}

#[derive(Serialize)]
struct DeliveredView<'a> {
    delivery_id: &'a str,
    replayed: bool,
    files: &'a [Value],
}

#[derive(Serialize)]
struct Done<'a> {
    order_id: &'a str,
    standing: Standing,
}

fn refused(msg: impl Into<String>) -> std::result::Result<CallToolResult, ErrorData> {
    Ok(CallToolResult::error(vec![ContentBlock::text(msg.into())]))
}

fn answer<T: Serialize>(v: &T) -> std::result::Result<CallToolResult, ErrorData> {
    match serde_json::to_string(v) {
        Ok(s) => Ok(CallToolResult::success(vec![ContentBlock::text(s)])),
        Err(e) => Err(ErrorData::internal_error(e.to_string(), None)),
    }
}

fn server_refused(action: &str, e: &AgentError) -> std::result::Result<CallToolResult, ErrorData> {
    refused(format!("{action} refused by the server: {e}"))
}

/// The tools that fit an order in this standing.
fn fitting(s: Standing) -> &'static [&'static str] {
    match s {
        Standing::Open => &["download_attachment", "report_progress", "deliver", "decline", "flag"],
        Standing::Delivered | Standing::Flagged => &["download_attachment"],
        _ => &[],
    }
}

impl AgentTools {
    /// The record of an order that is open for work, or the tool error saying why not.
    async fn open_order(&self, order: &str, action: &str) -> std::result::Result<OrderRecord, String> {
        let orders = self.orders.lock().await;
        let Some(rec) = orders.0.get(order) else {
            return Err(format!(
                "{action}: order {order} is not known here; call poll_events first (only orders from this agent's events can be worked)"
            ));
        };
        if rec.standing != Standing::Open {
            let why = match rec.standing {
                Standing::Delivered => "was delivered; wait for a revision_request",
                Standing::Flagged => "is flagged; your owner decides (a scope_change resumes it)",
                Standing::Declined => "was declined (refunded)",
                Standing::Completed => "is completed",
                Standing::Refunded => "was refunded",
                Standing::Open => "is open",
            };
            return Err(format!("{action}: order {order} {why}"));
        }
        Ok(rec.clone())
    }

    async fn set_standing(&self, order: &str, standing: Standing, last: String, delivered: bool) {
        let mut orders = self.orders.lock().await;
        if let Some(r) = orders.0.get_mut(order) {
            r.standing = standing;
            r.last = Some(last);
            r.deliveries += u32::from(delivered);
        }
        if let Err(e) = orders.save(&self.paths) {
            tracing::warn!(error = %e, "orders not saved");
        }
    }
}

#[tool_router]
impl AgentTools {
    #[tool(
        description = "Poll heepr for new events (new_order, revision_request, scope_change, order_completed, …) after the saved cursor; records each order so the other tools can act on it."
    )]
    async fn poll_events(&self, Parameters(a): Parameters<PollArgs>) -> std::result::Result<CallToolResult, ErrorData> {
        let wait = a.wait_seconds.filter(|w| *w > 0).map(|w| w.min(60));
        let cursor = state::read_cursor(&self.paths);
        let batch = match self.api.events(&cursor, wait).await {
            Ok(b) => b,
            Err(e) => return server_refused("poll_events", &e),
        };
        let mut orders = self.orders.lock().await;
        let mut work = Vec::new();
        for ev in &batch.events {
            match work::note_event(&self.paths, &mut orders, ev) {
                Ok(Next::Work(o)) => work.push(o),
                Ok(Next::Nothing) => {}
                Err(e) => return refused(format!("poll_events: {e}")),
            }
        }
        if let Some(next) = &batch.next
            && let Err(e) = state::write_cursor(&self.paths, next)
        {
            return refused(format!("poll_events: {e}"));
        }
        answer(&Polled {
            events: &batch.events,
            work,
        })
    }

    #[tool(
        description = "An order as this agent knows it from its events: standing, the tools that fit now, deadline, inputs, brief, attachments, revision history."
    )]
    async fn get_order(&self, Parameters(a): Parameters<OrderArgs>) -> std::result::Result<CallToolResult, ErrorData> {
        let orders = self.orders.lock().await;
        let Some(r) = orders.0.get(&a.order_id) else {
            return refused(format!(
                "get_order: order {} is not known here; call poll_events first",
                a.order_id
            ));
        };
        answer(&OrderView {
            order_id: &a.order_id,
            standing: r.standing,
            can: fitting(r.standing),
            deadline: r.deadline.as_deref(),
            deliveries: r.deliveries,
            last: r.last.as_deref(),
            work: &r.work,
        })
    }

    #[tool(
        description = "Download one of the order's attachments (by name) into the order's folder; checks its sha256; returns the local path."
    )]
    async fn download_attachment(
        &self,
        Parameters(a): Parameters<AttachmentArgs>,
    ) -> std::result::Result<CallToolResult, ErrorData> {
        let entry = {
            let orders = self.orders.lock().await;
            let Some(r) = orders.0.get(&a.order_id) else {
                return refused(format!(
                    "download_attachment: order {} is not known here; call poll_events first",
                    a.order_id
                ));
            };
            if r.standing.is_terminal() {
                return refused(format!("download_attachment: order {} is over", a.order_id));
            }
            r.work
                .get("at")
                .and_then(Value::as_array)
                .and_then(|l| {
                    l.iter()
                        .find(|x| x.get("n").and_then(Value::as_str) == Some(a.name.as_str()))
                })
                .cloned()
        };
        let Some(entry) = entry else {
            return refused(format!(
                "download_attachment: order {} has no attachment named {:?}",
                a.order_id, a.name
            ));
        };
        let dir = self.paths.work(&a.order_id).join("attachments");
        if let Err(e) = state::ensure_dir(&dir) {
            return refused(e.to_string());
        }
        match work::fetch_attachment(&self.api, &dir, &entry).await {
            Ok(path) => answer(&Downloaded {
                bytes: std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0),
                path: path.display().to_string(),
            }),
            Err(e) => refused(format!("download_attachment: {e}")),
        }
    }

    #[tool(
        description = "Deliver the work for an open order: text, links and/or files (paths). Retrying is safe: the idempotency key comes from the order's event."
    )]
    async fn deliver(&self, Parameters(a): Parameters<DeliverArgs>) -> std::result::Result<CallToolResult, ErrorData> {
        let rec = match self.open_order(&a.order_id, "deliver").await {
            Ok(r) => r,
            Err(why) => return refused(why),
        };
        let base = self.paths.work(&a.order_id);
        let files: Vec<PathBuf> = a
            .files
            .iter()
            .map(|f| {
                let p = PathBuf::from(f);
                if p.is_absolute() { p } else { base.join(p) }
            })
            .collect();
        if let Some(missing) = files.iter().find(|p| !p.is_file()) {
            return refused(format!("deliver: no file at {}", missing.display()));
        }
        let d = Delivery {
            text: a.text.filter(|t| !t.trim().is_empty()),
            urls: a.urls,
            note: a.note,
            files,
        };
        if d.text.is_none() && d.urls.is_empty() && d.files.is_empty() {
            return refused("deliver: an empty delivery; give text, urls or files");
        }
        match self
            .api
            .deliver(&a.order_id, &format!("{}:deliver", rec.event_id), &d)
            .await
        {
            Ok(done) => {
                self.set_standing(
                    &a.order_id,
                    Standing::Delivered,
                    format!("delivered {}", done.delivery.id),
                    !done.replayed,
                )
                .await;
                answer(&DeliveredView {
                    delivery_id: &done.delivery.id,
                    replayed: done.replayed,
                    files: &done.delivery.files,
                })
            }
            Err(e) => server_refused("deliver", &e),
        }
    }

    #[tool(
        description = "Decline an open order (refunds the customer). reason: out_of_scope, capacity, missing_information, policy or other."
    )]
    async fn decline(&self, Parameters(a): Parameters<ReasonArgs>) -> std::result::Result<CallToolResult, ErrorData> {
        self.reason_call("decline", Standing::Declined, a).await
    }

    #[tool(description = "Flag an open order for your owner to review. reason: illegal, policy_violation or other.")]
    async fn flag(&self, Parameters(a): Parameters<ReasonArgs>) -> std::result::Result<CallToolResult, ErrorData> {
        self.reason_call("flag", Standing::Flagged, a).await
    }

    #[tool(description = "Report progress (0–100) on an open order; the customer sees it.")]
    async fn report_progress(
        &self,
        Parameters(a): Parameters<ProgressArgs>,
    ) -> std::result::Result<CallToolResult, ErrorData> {
        let rec = match self.open_order(&a.order_id, "report_progress").await {
            Ok(r) => r,
            Err(why) => return refused(why),
        };
        if a.progress > 100 {
            return refused("report_progress: progress is 0–100");
        }
        let key = format!("{}:progress:{}", rec.event_id, a.progress);
        match self
            .api
            .progress(&a.order_id, &key, a.progress, a.note.as_deref())
            .await
        {
            Ok(()) => answer(&Done {
                order_id: &a.order_id,
                standing: rec.standing,
            }),
            Err(e) => server_refused("report_progress", &e),
        }
    }
}

impl AgentTools {
    async fn reason_call(
        &self,
        action: &str,
        to: Standing,
        a: ReasonArgs,
    ) -> std::result::Result<CallToolResult, ErrorData> {
        let rec = match self.open_order(&a.order_id, action).await {
            Ok(r) => r,
            Err(why) => return refused(why),
        };
        let key = format!("{}:{action}", rec.event_id);
        match self
            .api
            .reason(action, &a.order_id, &key, &a.reason, a.note.as_deref())
            .await
        {
            Ok(()) => {
                self.set_standing(&a.order_id, to, format!("{action}: {}", a.reason), false)
                    .await;
                answer(&Done {
                    order_id: &a.order_id,
                    standing: to,
                })
            }
            Err(e) => server_refused(action, &e),
        }
    }
}

#[tool_handler]
impl ServerHandler for AgentTools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build()).with_instructions(
            "A heepr agent's tools. Call poll_events, then for each order it names: get_order, \
             download_attachment, report_progress, and one of deliver, decline or flag. \
             RULES.md in the bundle folder overrides everything.",
        )
    }
}

/// Serves the tools on stdin/stdout until the client closes them.
pub async fn serve(paths: Paths) -> Result<()> {
    let Session { paths, api, .. } = Session::open(paths).await?;
    let tools = AgentTools {
        api: Arc::new(api),
        orders: Arc::new(Mutex::new(Orders::load(&paths))),
        paths,
        tool_router: AgentTools::tool_router(),
    };
    let service = tools
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| AgentError::Usage(format!("mcp: {e}")))?;
    service
        .waiting()
        .await
        .map_err(|e| AgentError::Usage(format!("mcp: {e}")))?;
    Ok(())
}
