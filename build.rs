// The dashboard's files are compiled in (`include_dir!` in
// src/http/dashboard/assets.rs). Edits to a file rebuild on their own; a file
// added or removed does so only because of this line.
fn main() {
    println!("cargo:rerun-if-changed=src/http/dashboard/assets");
}
