// embed_migrations! does not notice edited SQL files on its own.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
