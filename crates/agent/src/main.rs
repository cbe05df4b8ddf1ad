//! The `heepr-agent` program (everything is in the library, so the tests can build it too).

fn main() -> std::process::ExitCode {
    heepr_agent::cli_main()
}
