//! Placeholder: the simulated UPS card is being written.
fn main() {}
