//! The web app of a project: name-aware search, pages for persons, sources and records, a review
//! workflow whose decisions the next linkage run honours, local accounts with roles, a JSON API
//! with an OpenAPI document, and the W3C/OpenRefine Reconciliation Service API.
//!
//! Pages are rendered on the server and work without JavaScript. Everything reads the project's
//! register (`DIR/register.sqlite`); the web app computes no statistics itself: analyses are the
//! JSON files `kartoteka build` wrote under `DIR/out/analyses/`, and the static report is served
//! as built. Only files under `DIR/out/` are ever served from disk.

mod api;
pub mod auth;
pub mod clock;
pub mod cohorts;
pub mod db;
mod error;
mod html;
pub mod linking;
mod pages;
mod reconcile;
pub mod register;
pub mod review;
pub mod search;
pub mod sensitivity;

pub use auth::Role;
pub use db::Db;
pub use error::{ApiError, WebError};

use axum::Router;
use axum::http::{HeaderValue, header};
use sensitivity::Sensitivity;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tower_http::set_header::SetResponseHeaderLayer;

/// How the server runs.
#[derive(Clone, Debug)]
pub struct Config {
    pub project_dir: PathBuf,
    /// Decisions start as blind votes; two agreeing votes make a decision.
    pub double_review: bool,
    /// Anonymous clients (OpenRefine) may use `/reconcile`, seeing what a viewer sees.
    pub public_reconcile: bool,
}

impl Config {
    pub fn new(project_dir: &Path) -> Config {
        Config { project_dir: project_dir.to_owned(), double_review: false, public_reconcile: false }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub sensitivity: Arc<Sensitivity>,
    /// The cohorts the manifest declares (search can filter by them).
    pub cohorts: Arc<cohorts::Declared>,
    /// The password hash each HTTP Basic header (by its SHA-256) was verified against, so argon2
    /// runs once per client and password.
    pub basic_cache: Arc<Mutex<HashMap<String, String>>>,
    /// The newest file version and linkage run the search index was brought up to date with.
    indexed: Arc<Mutex<(i64, i64)>>,
}

/// The newest file version and linkage run of the register: both only ever grow (a changed
/// source file is a new version), and the current records change only with the first.
fn index_inputs(conn: &rusqlite::Connection) -> Result<(i64, i64), WebError> {
    Ok(conn.query_row(
        "SELECT (SELECT coalesce(max(file_id), 0) FROM source_files), (SELECT coalesce(max(run_id), 0) FROM link_runs)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

/// How often a serving app looks for what a `kartoteka build` beside it changed.
const WATCH_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// Brings the search index up to date when the register changed since it was (a `kartoteka
/// build` beside the server added file versions or linked again); says whether it looked.
/// [`serve`] calls it every [`WATCH_EVERY`], so new records are found without a restart and no
/// result points at a superseded record.
pub fn refresh_index(state: &AppState) -> Result<bool, WebError> {
    let now = state.db.read_blocking(index_inputs)?;
    if *state.indexed.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) == now {
        return Ok(false);
    }
    state.db.write_blocking(|conn| {
        if search::ensure_index(conn)? == search::IndexUpdate::Rebuilt {
            search::prepare_names(conn)?;
        }
        Ok(())
    })?;
    *state.indexed.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = now;
    Ok(true)
}

/// Opens the project: migrates the register, reads the manifest's sensitivity marks, links the
/// records if linkage never ran, brings the search index up to date and prepares its names.
pub fn open(config: Config) -> Result<AppState, WebError> {
    let db = Db::open(&config.project_dir.join(store::REGISTER_FILE))?;
    let sensitivity = Sensitivity::load(&config.project_dir)?;
    let cohorts = cohorts::Declared::load(&config.project_dir)?;
    let indexed = db.write_blocking(|conn| {
        if !linking::has_run(conn)? {
            linking::relink(conn, &config.project_dir, &clock::now())?;
        }
        let inputs = index_inputs(conn)?;
        search::ensure_index(conn)?;
        search::prepare_names(conn)?;
        Ok(inputs)
    })?;
    Ok(AppState {
        db,
        config: Arc::new(config),
        sensitivity: Arc::new(sensitivity),
        cohorts: Arc::new(cohorts),
        basic_cache: Arc::default(),
        indexed: Arc::new(Mutex::new(indexed)),
    })
}

/// The whole app, with security headers on every response. The reconciliation service is
/// called by OpenRefine from its own page (so it answers any origin, CORS, as the W3C API asks;
/// a cross-origin caller carries no credentials, so it sees what anonymous callers may) and shows
/// previews in a frame there; every other page refuses to be framed.
pub fn router(state: AppState) -> Router {
    let common = [(header::X_CONTENT_TYPE_OPTIONS, "nosniff"), (header::REFERRER_POLICY, "same-origin")];
    let own = [
        (header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ];
    let reconciliation = [
        (header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'"),
        (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
    ];
    let with = |mut routes: Router<AppState>, headers: &[(header::HeaderName, &'static str)]| {
        for (name, value) in common.iter().chain(headers) {
            routes = routes.layer(SetResponseHeaderLayer::if_not_present(name.clone(), HeaderValue::from_static(value)));
        }
        routes
    };
    let app = with(pages::routes().merge(api::routes()), &own).merge(with(reconcile::routes(), &reconciliation));
    app.with_state(state).layer(tower_http::limit::RequestBodyLimitLayer::new(1 << 20))
}

/// Serves the project until the process ends (blocking; starts its own runtime).
pub fn serve(config: Config, addr: SocketAddr, on_ready: impl FnOnce(SocketAddr)) -> Result<(), WebError> {
    let state = open(config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| WebError::Internal(e.to_string()))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| WebError::Internal(format!("cannot listen on {addr}: {e}")))?;
        let watched = state.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(WATCH_EVERY);
            loop {
                every.tick().await;
                let state = watched.clone();
                // A refresh that failed (the register busy with a build) is tried on the next tick.
                let _ = tokio::task::spawn_blocking(move || refresh_index(&state)).await;
            }
        });
        on_ready(listener.local_addr().map_err(|e| WebError::Internal(e.to_string()))?);
        axum::serve(listener, router(state)).await.map_err(|e| WebError::Internal(e.to_string()))
    })
}
