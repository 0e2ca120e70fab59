//! `kartoteka user add DIR --name N --role R`: local accounts of the web app. The password is
//! read from standard input (one line), never from the command line where `ps` would show it.

use anyhow::{Context, Result, bail};
use std::io::BufRead;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: UserCommand,
}

#[derive(clap::Subcommand)]
pub enum UserCommand {
    /// Add a user, or set an existing user's role and password (ends their sessions).
    Add {
        /// The project folder.
        dir: PathBuf,
        #[arg(long)]
        name: String,
        /// admin, reviewer or viewer.
        #[arg(long)]
        role: web::Role,
        /// Read the password from standard input (the default; kept for scripts that say so).
        #[arg(long)]
        password_stdin: bool,
    },
}

pub fn run(args: &Args) -> Result<()> {
    match &args.command {
        UserCommand::Add { dir, name, role, password_stdin: _ } => {
            if !dir.join("kartoteka.toml").is_file() && !dir.join(store::REGISTER_FILE).is_file() {
                bail!("{}: not a project folder (no kartoteka.toml or register.sqlite)", dir.display());
            }
            let mut password = String::new();
            std::io::stdin().lock().read_line(&mut password).context("reading the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']);
            let db = web::Db::open(&dir.join(store::REGISTER_FILE)).context("opening the register")?;
            db.write_blocking(|conn| web::auth::add_user(conn, name, *role, password)).map_err(|e| anyhow::anyhow!("{e}"))?;
            eprintln!("user {name} ({role}) saved in {}", dir.display());
            Ok(())
        }
    }
}
