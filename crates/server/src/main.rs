//! `heepr-server`: runs the marketplace, or an admin command.

// glibc malloc showed up at ~15 % of server CPU in the lifecycle profile (many small,
// short-lived allocations across threads); mimalloc's per-thread heaps cut that.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    heepr_server::cli_main()
}
