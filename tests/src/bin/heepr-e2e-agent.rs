//! The agent runner, built inside this crate so tests can find its binary.

fn main() -> std::process::ExitCode {
    heepr_agent::cli_main()
}
