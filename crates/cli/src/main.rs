//! The `kartoteka` binary: parses the command line and hands each command to its module.
//!
//! Exit codes (the contract in `shared/DESIGN.md`): 0 success, 1 the input or the data is wrong,
//! 2 usage (clap's own exit code for a bad command line). Each command module returns
//! `anyhow::Result`, and an error there is always about the input, so it maps to 1.

mod build;
mod estimate;
mod eval;
#[cfg(feature = "distributed")]
mod executor;
mod link;
mod names;
#[cfg(feature = "distributed")]
mod scheduler;
mod serve;
mod simulate;
mod standard_csv;
mod user;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "kartoteka", version, about = "A card index of persons reconstructed from many lists")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Names across scripts: compare two names, show a name's keys, transliterate.
    Names(names::Args),
    /// Link files in the standard record schema into persons (clusters.csv, pairs.csv).
    Link(link::Args),
    /// Write a simulated multi-list register with its truth.
    Simulate(simulate::Args),
    /// Ingest a project's sources into its register and write the report and exports to DIR/out/.
    Build(build::Args),
    /// Estimate how many persons no list recorded, from the overlaps of the lists (MSE).
    Estimate(estimate::Args),
    /// Score a clustering against truth (pairwise and B-cubed precision, recall, F1).
    Eval(eval::Args),
    /// Serve the web app (search, pages, review, APIs) on a project's register.
    Serve(serve::Args),
    /// Manage the web app's local accounts.
    User(user::Args),
    /// Run the scheduler of a linkage cluster (see docs/distributed.md).
    #[cfg(feature = "distributed")]
    Scheduler(scheduler::Args),
    /// Run an executor of a linkage cluster, registered with a scheduler.
    #[cfg(feature = "distributed")]
    Executor(executor::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: anyhow::Result<()> = match cli.command {
        Command::Names(args) => names::run(&args),
        Command::Link(args) => link::run(&args),
        Command::Simulate(args) => simulate::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::Estimate(args) => estimate::run(&args),
        Command::Build(args) => build::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::User(args) => user::run(&args),
        #[cfg(feature = "distributed")]
        Command::Scheduler(args) => scheduler::run(&args),
        #[cfg(feature = "distributed")]
        Command::Executor(args) => executor::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", message(&err));
            ExitCode::from(1)
        }
    }
}

/// The error and its causes, each said once: library errors often write their cause into their
/// own message as well as chaining it (`cannot read the file: No such file or directory (os error
/// 2)`), which `{:#}` would then repeat.
fn message(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain().map(ToString::to_string) {
        if !text.contains(&cause) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&cause);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::message;

    /// As a thiserror `#[error("register database: {0}")] Wrapping(#[from] io::Error)` is.
    #[derive(Debug)]
    struct Wrapping(std::io::Error);

    impl std::fmt::Display for Wrapping {
        fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "register database: {}", self.0)
        }
    }

    impl std::error::Error for Wrapping {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_cause_the_message_already_says_is_not_repeated() {
        let io = || std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let said_twice = anyhow::Error::from(Wrapping(io())).context("kgb-list");
        let said_once = anyhow::Error::from(io()).context("data/a.csv: cannot read");
        assert_eq!(
            [message(&said_twice), message(&said_once)],
            ["kgb-list: register database: no such file", "data/a.csv: cannot read: no such file"]
        );
    }
}
