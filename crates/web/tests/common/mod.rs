//! A small simulated project for the web tests: three sources (a Cyrillic book of memory, a
//! Latin list of defectors with a sensitive column, a sensitive witness list), ingested through
//! the real manifest reader and register, with four accounts, served through the real router.

#![allow(dead_code)]

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use std::path::Path;
use tower::ServiceExt;
use web::{AppState, Config, Role};

pub const PASSWORD: &str = "password-123";

const MANIFEST: &str = r#"
title = "Web test project (simulated data)"

[[sources]]
id = "memorial"
title = "Книга памяти (simulated)"
kind = "book_of_memory"
notes = "Simulated entries in the style of a regional book of memory."
file = "memorial.csv"
[sources.columns]
"Фамилия" = "surname"
"Имя" = "given_name"
"Отчество" = "patronymic"
"Год рождения" = "birth_date"
"Место рождения" = "birth_place"
"Арест" = "arrest.date"
"Примечание" = "note"

[[sources]]
id = "defectors"
title = "List of defectors (simulated)"
kind = "emigre_press"
file = "defectors.csv"
[sources.columns]
surname = "surname"
given = "given_name"
born = "birth_date"
place = "birth_place"
informant = { field = "other", sensitive = true }

[[sources]]
id = "witnesses"
title = "Witness statements (simulated, sensitive)"
kind = "testimony"
file = "witnesses.csv"
sensitive = true
[sources.columns]
surname = "surname"
given = "given_name"
born = "birth_date"
"#;

const MEMORIAL: &str = "Фамилия,Имя,Отчество,Год рождения,Место рождения,Арест,Примечание
Ежов,Николай,Иванович,1895,Санкт-Петербург,10.04.1939,нарком
Бухарин,Николай,Иванович,1888,Москва,27.02.1937,
Иванов,Пётр,Сергеевич,1901,Горький,1938,
Иванов,Пётр,Семёнович,1902,Горький,1937,
Тухачевский,Михаил,Николаевич,1893,Александровское,22.05.1937,<script>alert('xss')</script>
Ягода,Генрих,Григорьевич,1891,Рыбинск,28.03.1937,
";

const DEFECTORS: &str = "surname,given,born,place,informant
Yezhov,Nikolai,1895,St Petersburg,agent Kestrel
Bukharin,Nikolai,1888,Moscow,agent Heron
Gordievsky,Oleg,1938,Moscow,agent Ovation
Ivanov,Petr,1901,Gorky,agent Finch
";

const WITNESSES: &str = "surname,given,born
Ежов,Николай,1895
Секретов,Свидетель,1910
";

pub struct TestProject {
    pub dir: tempfile::TempDir,
    pub state: AppState,
}

/// Ingests every source of the manifest in `dir` into its register.
pub fn ingest_project(dir: &Path) {
    let manifest = ingest::Manifest::load(dir).unwrap();
    let mut register = store::Register::open_in(dir).unwrap();
    for spec in &manifest.sources {
        let read = ingest::read_source(dir, spec).unwrap();
        let manifest_json = serde_json::json!({ "id": spec.id.as_str(), "notes": spec.notes }).to_string();
        let entry = store::SourceEntry { id: &spec.id, title: &spec.title, kind: spec.kind.as_str(), manifest_json: &manifest_json };
        let files: Vec<store::FileVersion> = read
            .files
            .iter()
            .map(|f| store::FileVersion {
                path: &f.summary.path,
                sha256: &f.summary.sha256,
                bytes: f.summary.bytes,
                records: &f.records,
                diagnostics: &f.summary.diagnostics,
            })
            .collect();
        register.ingest_source(&entry, &files, store::Policy::Lenient, "2024-01-01T00:00:00Z", &mut |_| {}).unwrap();
    }
}

/// A fresh folder holding `files` (name, text), a manifest among them, with every source of the
/// manifest ingested into its register.
pub fn ingested(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    ingest_project(dir.path());
    dir
}

/// The app opened on the project in `dir` with its configuration changed by `config`, and
/// `accounts` (name, role) added, each with [`PASSWORD`].
pub fn open_with(dir: tempfile::TempDir, config: impl FnOnce(&mut Config), accounts: &[(&str, Role)]) -> TestProject {
    let mut cfg = Config::new(dir.path());
    config(&mut cfg);
    let state = web::open(cfg).unwrap();
    for &(name, role) in accounts {
        state.db.write_blocking(|conn| web::auth::add_user(conn, name, role, PASSWORD)).unwrap();
    }
    TestProject { dir, state }
}

/// The app opened on the project in `dir` as configured by default, with `accounts`.
pub fn open(dir: tempfile::TempDir, accounts: &[(&str, Role)]) -> TestProject {
    open_with(dir, |_| {}, accounts)
}

/// The project with its accounts: ada (admin), rita and rolf (reviewers), vera (viewer).
pub fn project_with(config: impl FnOnce(&mut Config)) -> TestProject {
    let dir = ingested(&[("kartoteka.toml", MANIFEST), ("memorial.csv", MEMORIAL), ("defectors.csv", DEFECTORS), ("witnesses.csv", WITNESSES)]);
    open_with(dir, config, &[("ada", Role::Admin), ("rita", Role::Reviewer), ("rolf", Role::Reviewer), ("vera", Role::Viewer)])
}

pub fn project() -> TestProject {
    project_with(|_| {})
}

/// A response, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// A browser-like client: keeps the session cookie and the CSRF token of the last page.
#[derive(Clone, Default)]
pub struct Client {
    pub cookies: Vec<(String, String)>,
    pub csrf: String,
}

pub fn hidden(body: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker)? + marker.len();
    Some(body[start..].split('"').next()?.to_owned())
}

pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

pub fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

impl Client {
    pub async fn send(&mut self, project: &TestProject, request: Request<Body>) -> Reply {
        let (mut parts, body) = request.into_parts();
        if !self.cookies.is_empty() {
            let cookie = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
            parts.headers.insert(header::COOKIE, cookie.parse().unwrap());
        }
        let response = web::router(project.state.clone()).oneshot(Request::from_parts(parts, body)).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        for set in headers.get_all(header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            let (pair, _) = set.split_once(';').unwrap_or((set, ""));
            let (k, v) = pair.split_once('=').unwrap();
            self.cookies.retain(|(name, _)| name != k);
            if !v.is_empty() {
                self.cookies.push((k.to_owned(), v.to_owned()));
            }
        }
        let body = String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
        if let Some(token) = hidden(&body, "csrf") {
            self.csrf = token;
        }
        Reply { status, headers, body }
    }

    pub async fn get(&mut self, project: &TestProject, path: &str) -> Reply {
        self.send(project, Request::get(path).body(Body::empty()).unwrap()).await
    }

    pub async fn post(&mut self, project: &TestProject, path: &str, form: &[(&str, &str)]) -> Reply {
        let request = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form_encode(form)))
            .unwrap();
        self.send(project, request).await
    }

    /// Signs in through the login form, as a browser would.
    pub async fn signed_in(project: &TestProject, name: &str) -> Client {
        let mut client = Client::default();
        client.get(project, "/login").await;
        let token = client.csrf.clone();
        let reply = client.post(project, "/login", &[("csrf", &token), ("name", name), ("password", PASSWORD)]).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        // Load a page to learn the session's CSRF token.
        client.get(project, "/").await;
        client
    }
}
