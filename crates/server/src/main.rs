//! `heepr-server`: runs the marketplace, or an admin command.

fn main() -> std::process::ExitCode {
    heepr_server::cli_main()
}
