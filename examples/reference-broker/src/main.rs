//! The reference broker (work in progress).

fn main() {
    eprintln!("reference-broker: not written yet");
    std::process::exit(1);
}
