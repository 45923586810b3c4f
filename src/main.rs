//! Thin entry point: dispatch on the name we were invoked as.
fn main() {
    println!("gowarden");
}
