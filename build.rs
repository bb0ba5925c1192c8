// `sqlx::migrate!` embeds the migrations when the crate compiles; a new migration file must
// make it compile again (sqlx's documented advice).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
