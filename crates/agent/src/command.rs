//! Runs the owner's command for one round of work on one order: the event as JSON on
//! stdin, the order's folder as working directory, `out/` for files; stdout's `PROGRESS n`
//! lines are reported as they come, the rest is the delivery text (or the note of a
//! decline or flag). The exit code says which (README, "Exit codes").

use crate::error::{AgentError, Result};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;
use tokio::sync::watch;
use tokio::time::Instant;

/// The most stdout kept as delivery text (the server's limit).
const TEXT_MAX_CHARS: usize = heepr_domain::limits::DELIVERY_TEXT_MAX_CHARS;

/// What the process was asked, from outside, while it worked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    /// Keep going.
    No,
    /// SIGTERM: finish within the grace time, else release the order.
    Term,
    /// `heepr-agent stop`: finish the order in hand, however long it takes (up to its time-out).
    Stop,
}

/// How the command's run ended.
#[derive(Debug)]
pub enum Outcome {
    /// Exit 0: deliver `text` (stdout) and the files it left in `out/`.
    Deliver { text: String, files: Vec<PathBuf> },
    /// Exit 10–14: decline with this reason; stdout is the note.
    Decline { reason: &'static str, note: String },
    /// Exit 20–22: flag with this reason; stdout is the note.
    Flag { reason: &'static str, note: String },
    /// Another exit code, or killed by a signal.
    Crashed { status: String, note: String },
    /// Still running at the order's time-out: killed.
    TimedOut,
    /// SIGTERM and not done within the grace time: killed; the order stays unhandled.
    Released,
}

/// The decline reason of exit codes 10–14.
pub fn decline_reason(code: i32) -> Option<&'static str> {
    Some(match code {
        10 => "out_of_scope",
        11 => "capacity",
        12 => "missing_information",
        13 => "policy",
        14 => "other",
        _ => return None,
    })
}

/// The flag reason of exit codes 20–22.
pub fn flag_reason(code: i32) -> Option<&'static str> {
    Some(match code {
        20 => "illegal",
        21 => "policy_violation",
        22 => "other",
        _ => return None,
    })
}

/// One run of the command.
pub struct Job<'a> {
    pub argv: &'a [String],
    pub work_dir: &'a Path,
    pub stdin: Vec<u8>,
    pub env: Vec<(&'static str, String)>,
    pub timeout: Duration,
    pub grace: Duration,
}

/// A `PROGRESS n [note]` line of stdout.
pub fn progress_line(line: &str) -> Option<(u8, Option<String>)> {
    let rest = line.strip_prefix("PROGRESS ")?;
    let (n, note) = match rest.split_once(' ') {
        Some((n, note)) => (n, Some(note.trim().to_owned()).filter(|s| !s.is_empty())),
        None => (rest, None),
    };
    let n: u8 = n.trim().parse().ok()?;
    (n <= 100).then_some((n, note))
}

/// Text as the server takes it: no control characters but newline and tab.
pub fn clean_text(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Runs `job`; `on_progress` is called for each `PROGRESS` line, in order.
pub async fn run<F, Fut>(job: Job<'_>, mut shutdown: watch::Receiver<Shutdown>, mut on_progress: F) -> Result<Outcome>
where
    F: FnMut(u8, Option<String>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let out_dir = job.work_dir.join("out");
    if out_dir.exists() {
        std::fs::remove_dir_all(&out_dir).map_err(AgentError::io(&out_dir))?;
    }
    std::fs::create_dir_all(&out_dir).map_err(AgentError::io(&out_dir))?;
    let (program, args) = job
        .argv
        .split_first()
        .ok_or_else(|| AgentError::Usage("no command given after `--`".to_owned()))?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(job.work_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .process_group(0)
        .kill_on_drop(true);
    for (k, v) in &job.env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| AgentError::Usage(format!("cannot start {program}: {e}")))?;
    let pid = child.id().map(|p| Pid::from_raw(p as i32));
    let kill = || {
        if let Some(pid) = pid {
            // The whole group: a shell script's children go too.
            let _ = killpg(pid, Signal::SIGKILL);
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its stdin closes it early: not an error.
        let _ = stdin.write_all(&job.stdin).await;
    }
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| AgentError::Usage("no stdout".to_owned()))?;
    let mut lines = BufReader::new(stdout).lines();
    let mut text = String::new();
    let deadline = Instant::now() + job.timeout;
    let mut grace_until: Option<Instant> = None;
    let mut stdout_open = true;
    let status = loop {
        let until = grace_until.map_or(deadline, |g| g.min(deadline));
        tokio::select! {
            line = lines.next_line(), if stdout_open => match line {
                Ok(Some(line)) => match progress_line(&line) {
                    Some((n, note)) => on_progress(n, note).await,
                    None => {
                        if text.len() < TEXT_MAX_CHARS * 4 {
                            text.push_str(&line);
                            text.push('\n');
                        }
                    }
                },
                _ => stdout_open = false,
            },
            st = child.wait(), if !stdout_open => break st.map_err(AgentError::io(program))?,
            _ = tokio::time::sleep_until(until) => {
                kill();
                let _ = child.wait().await;
                return Ok(if grace_until.is_some_and(|g| g < deadline) { Outcome::Released } else { Outcome::TimedOut });
            }
            changed = shutdown.changed(), if grace_until.is_none() => {
                if changed.is_err() || *shutdown.borrow() == Shutdown::Term {
                    grace_until = Some(Instant::now() + job.grace);
                }
            }
        }
    };
    let text: String = clean_text(&text).chars().take(TEXT_MAX_CHARS).collect();
    let note: String = text
        .chars()
        .take(heepr_domain::limits::DECLINE_FLAG_NOTE_MAX_CHARS)
        .collect();
    let Some(code) = status.code() else {
        return Ok(Outcome::Crashed {
            status: format!("{status}"),
            note,
        });
    };
    if code == 0 {
        let mut files = Vec::new();
        let entries = std::fs::read_dir(&out_dir).map_err(AgentError::io(&out_dir))?;
        for e in entries.map_while(std::result::Result::ok) {
            if e.file_type().is_ok_and(|t| t.is_file()) {
                files.push(e.path());
            }
        }
        files.sort();
        return Ok(Outcome::Deliver { text, files });
    }
    if let Some(reason) = decline_reason(code) {
        return Ok(Outcome::Decline { reason, note });
    }
    if let Some(reason) = flag_reason(code) {
        return Ok(Outcome::Flag { reason, note });
    }
    Ok(Outcome::Crashed {
        status: format!("exit code {code}"),
        note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_are_a_number_from_0_to_100_and_an_optional_note() {
        assert_eq!(progress_line("PROGRESS 40"), Some((40, None)));
        assert_eq!(
            progress_line("PROGRESS 100 all done"),
            Some((100, Some("all done".to_owned())))
        );
        assert_eq!(progress_line("PROGRESS 101"), None);
        assert_eq!(progress_line("PROGRESS x"), None);
        assert_eq!(progress_line("progress 5"), None);
    }

    #[test]
    fn exit_codes_name_their_reasons() {
        assert_eq!(decline_reason(12), Some("missing_information"));
        assert_eq!(flag_reason(20), Some("illegal"));
        assert_eq!(decline_reason(1), None);
        assert_eq!(flag_reason(0), None);
    }

    #[test]
    fn terminal_escapes_are_dropped_from_text() {
        assert_eq!(clean_text("\u{1b}[1mbold\u{1b}[0m\nline\t2\r\n"), "[1mbold[0m\nline\t2");
    }
}
