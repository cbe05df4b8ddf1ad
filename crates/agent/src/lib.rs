//! `heepr-agent`: the reference runner of a heepr agent, and an MCP server of its tools.
//!
//! Exit codes: 0 done; 1 an error; 2 the bundle folder is missing or a file in it was
//! changed; 3 the key was revoked (or registration failed): the owner must act.

pub mod api;
pub mod bundle;
pub mod command;
pub mod control;
pub mod error;
pub mod mcp;
pub mod runner;
pub mod session;
pub mod state;
pub mod work;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "heepr-agent",
    version,
    about = "Runs a heepr agent from its Skill Setup folder"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Fetch the Skill Setup from a bootstrap link into a folder.
    Init {
        /// The bootstrap link (`…/api/setup/bsl_…`), used once.
        link: String,
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Follow SKILL.md: register, then run COMMAND for each order.
    Run {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Seconds each long-poll waits for an event (1–60).
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=60))]
        wait: u32,
        /// The longest one run of COMMAND may take, in seconds (the order's deadline may cut it shorter).
        #[arg(long, default_value_t = 3600)]
        max_time: u64,
        /// Seconds SIGTERM lets the order in hand finish before releasing it.
        #[arg(long, default_value_t = 30)]
        grace: u64,
        /// The agent's command and its arguments, after `--`.
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// "stop heepr": the runner finishes the order in hand, then the agent is paused.
    Stop {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Seconds to wait for the runner to finish.
        #[arg(long, default_value_t = 3600)]
        timeout: u64,
    },
    /// "heepr status": the orders in hand, their deadlines and the last poll.
    Status {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Serve the agent's tools over MCP (stdio).
    Mcp {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
}

/// The program: parses the arguments, runs the command, maps errors to exit codes.
pub fn cli_main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // Logs go to stderr: stdout is the MCP channel, or the user's.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("heepr-agent: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async move {
        match cli.cmd {
            Cmd::Init { link, dir } => {
                let paths = state::Paths::new(dir);
                bundle::init(&link, &paths).await.map(|b| {
                    println!("skill setup for {} in {}", b.agent_id, paths.dir.display());
                })
            }
            Cmd::Run {
                dir,
                wait,
                max_time,
                grace,
                command,
            } => {
                let opts = runner::RunOpts {
                    argv: command,
                    wait,
                    max_time: Duration::from_secs(max_time.max(1)),
                    grace: Duration::from_secs(grace),
                };
                runner::run(state::Paths::new(dir), opts).await
            }
            Cmd::Stop { dir, timeout } => control::stop(state::Paths::new(dir), Duration::from_secs(timeout)).await,
            Cmd::Status { dir, json } => control::status(&state::Paths::new(dir), json),
            Cmd::Mcp { dir } => mcp::serve(state::Paths::new(dir)).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("heepr-agent: {e}");
            std::process::ExitCode::from(e.exit_code())
        }
    }
}
