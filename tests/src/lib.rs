//! End-to-end tests live in `tests/`; `src/bin/heepr-e2e-server.rs` is the server program under test.
