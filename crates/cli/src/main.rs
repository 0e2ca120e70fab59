//! The `kartoteka` binary: parses the command line and hands each command to its module.
//!
//! Exit codes (the contract in `shared/DESIGN.md`): 0 success, 1 the input or the data is wrong,
//! 2 usage (clap's own exit code for a bad command line). Each command module returns
//! `anyhow::Result`, and an error there is always about the input, so it maps to 1.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "kartoteka", version, about = "A card index of persons reconstructed from many lists")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: anyhow::Result<()> = match cli.command {};
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}
