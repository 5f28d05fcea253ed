//! The `wawebctl` binary; everything lives in the library.

fn main() -> std::process::ExitCode {
    wawebctl::main()
}
