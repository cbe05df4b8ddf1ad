//! The real server program, built inside this crate so tests can find its binary.

fn main() -> std::process::ExitCode {
    heepr_server::cli_main()
}
