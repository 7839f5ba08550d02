//! The `kuroko` binary: parse the command line, run the subcommand, turn the result into an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    let code = kuroko::cli::main();
    ExitCode::from(code as u8)
}
