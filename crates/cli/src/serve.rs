//! `kartoteka serve DIR [--addr 127.0.0.1:8080]`: the web app on a project's register.

use anyhow::{Context, Result, bail};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The project folder (holds kartoteka.toml and register.sqlite).
    pub dir: PathBuf,
    /// Where to listen; localhost by default, so nothing is exposed unless asked.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Blind double review: each pair needs two agreeing reviewers; disagreements go to an admin.
    #[arg(long)]
    pub double_review: bool,
    /// Let anonymous clients (OpenRefine) use /reconcile, seeing only what a viewer sees.
    #[arg(long)]
    pub public_reconcile: bool,
}

pub fn run(args: &Args) -> Result<()> {
    if !args.dir.join(store::REGISTER_FILE).is_file() {
        bail!("{}: no register here; run `kartoteka build {}` first", args.dir.display(), args.dir.display());
    }
    let mut config = web::Config::new(&args.dir);
    config.double_review = args.double_review;
    config.public_reconcile = args.public_reconcile;
    web::serve(config, args.addr, |addr| eprintln!("kartoteka: serving {} on http://{addr}/", args.dir.display()))
        .with_context(|| format!("serving {}", args.dir.display()))
}
