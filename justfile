# Convenience recipes; README's two commands work without just.

run:
    cargo run --release -p heepr-server

test:
    cargo test --workspace

test-pg:
    HEEPR_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo test --workspace

ci:
    bash .ci/run

bench:
    cargo bench -p heepr-domain --bench lifecycle
    HEEPR_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p heepr-store --bench store
