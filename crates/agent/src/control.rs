//! Seed 000's "stop heepr" and "heepr status" for a runner working in a bundle folder.

use crate::error::{AgentError, Result};
use crate::session::Session;
use crate::state::{self, Orders, Paths, Runtime, Standing};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde::Serialize;
use std::time::{Duration, Instant};

/// The pid in the folder's pid file, if that process is alive.
fn runner_pid(paths: &Paths) -> Option<Pid> {
    let pid: i32 = std::fs::read_to_string(paths.pid()).ok()?.trim().parse().ok()?;
    let pid = Pid::from_raw(pid);
    kill(pid, None).is_ok().then_some(pid)
}

/// "stop heepr": the runner finishes the order in hand, sets status `paused` and exits;
/// without a runner, this sets `paused` itself.
pub async fn stop(paths: Paths, timeout: Duration) -> Result<()> {
    let Some(pid) = runner_pid(&paths) else {
        let s = Session::open(paths).await?;
        let key = format!("stop:{}", chrono::Utc::now().timestamp_millis());
        s.api.status(&key, "paused").await?;
        println!("no runner in {}; agent paused", s.paths.dir.display());
        return Ok(());
    };
    state::write_atomic(&paths.stop(), b"stop\n")?;
    kill(pid, Signal::SIGTERM).map_err(|e| AgentError::Usage(format!("cannot signal runner {pid}: {e}")))?;
    println!("stopping runner {pid}: finishing the order in hand");
    let deadline = Instant::now() + timeout;
    // The runner removes its pid file as it exits (a dead process that is not reaped yet
    // still answers signals).
    while paths.pid().exists() && kill(pid, None).is_ok() {
        if Instant::now() > deadline {
            return Err(AgentError::Usage(format!(
                "runner {pid} still working after {timeout:?}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if paths.stop().exists() {
        let _ = std::fs::remove_file(paths.stop());
        return Err(AgentError::Usage(format!(
            "runner {pid} exited without pausing the agent"
        )));
    }
    println!("stopped; agent paused");
    Ok(())
}

/// `heepr-agent status --json`.
#[derive(Serialize)]
pub struct StatusReport {
    pub agent_id: Option<String>,
    pub running: bool,
    pub pid: Option<i32>,
    pub last_poll: Option<String>,
    pub long_poll: bool,
    pub in_hand: Option<String>,
    pub orders_handled: u64,
    pub requests: u64,
    pub open_orders: Vec<OpenOrder>,
}

/// An order not over yet, as the runner knows it.
#[derive(Serialize)]
pub struct OpenOrder {
    pub order_id: String,
    pub standing: Standing,
    pub deadline: Option<String>,
    pub last: Option<String>,
}

/// "heepr status": the orders in hand, their deadlines and the last poll. Local only.
pub fn status(paths: &Paths, json: bool) -> Result<()> {
    let rt = Runtime::load(paths);
    let orders = Orders::load(paths);
    let pid = runner_pid(paths);
    let agent_id = std::fs::read(paths.dir.join("skill.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v["agent_id"].as_str().map(str::to_owned));
    let report = StatusReport {
        agent_id,
        running: pid.is_some(),
        pid: pid.map(Pid::as_raw),
        last_poll: rt.last_poll,
        long_poll: rt.long_poll,
        in_hand: rt.in_hand,
        orders_handled: rt.orders_handled,
        requests: rt.requests,
        open_orders: orders
            .0
            .into_iter()
            .filter(|(_, r)| !r.standing.is_terminal())
            .map(|(id, r)| OpenOrder {
                order_id: id,
                standing: r.standing,
                deadline: r.deadline,
                last: r.last,
            })
            .collect(),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "agent {}: {}",
        report.agent_id.as_deref().unwrap_or("?"),
        match report.pid {
            Some(p) => format!("runner {p} running"),
            None => "no runner".to_owned(),
        }
    );
    println!(
        "last poll: {}{}",
        report.last_poll.as_deref().unwrap_or("never"),
        if report.long_poll { " (long-poll)" } else { "" }
    );
    if let Some(o) = &report.in_hand {
        println!("in hand: {o}");
    }
    if report.open_orders.is_empty() {
        println!("no open orders");
    }
    for o in &report.open_orders {
        println!(
            "{}  {:?}  due {}  {}",
            o.order_id,
            o.standing,
            o.deadline.as_deref().unwrap_or("-"),
            o.last.as_deref().unwrap_or("")
        );
    }
    Ok(())
}
