//! The `ups2mqtt` binary: everything is in the library; see [`ups2mqtt::cli`].

fn main() -> std::process::ExitCode {
    ups2mqtt::cli::main()
}
