//! Browser tests in headless Chromium (Debian's `chromium` + `chromedriver`; `.ci/run` installs
//! them): sign in, search in Cyrillic and in Latin, open a person, review a pair, re-link, and
//! see the decision honoured. WebDriver is spoken over a few lines of HTTP/1.0, so the test
//! needs no WebDriver crate.

mod common;

use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> std::io::Result<Value> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let payload = body.map(Value::to_string).unwrap_or_default();
    // chromedriver accepts only `Host: localhost` and keeps the connection open: read by length.
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{payload}",
        payload.len()
    )?;
    let mut received = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        let n = stream.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        received.extend_from_slice(&buffer[..n]);
        let text = String::from_utf8_lossy(&received);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("content-length")).map(|(_, v)| v.trim().parse::<usize>().unwrap_or(0)));
            if length.is_some_and(|len| body.len() >= len) {
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&received);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    Ok(serde_json::from_str(body).unwrap_or(Value::Null))
}

/// A chromedriver process and one browser session; both end when dropped.
struct Browser {
    driver: Child,
    port: u16,
    session: String,
    _profile: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Browser {
    fn start() -> Browser {
        assert!(std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists(), "install chromium and chromium-driver (.ci/run does)");
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER).arg(format!("--port={port}")).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while http(port, "GET", "/status", None).map(|s| s["value"]["ready"] != true).unwrap_or(true) {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            &format!("--user-data-dir={}", profile.path().display()),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {"binary": CHROMIUM, "args": args}}}});
        let created = http(port, "POST", "/session", Some(&capabilities)).unwrap();
        let session = created["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {created}")).to_owned();
        let browser = Browser { driver, port, session, _profile: profile };
        // Elements of a page still loading (a re-link takes a moment) are waited for, up to 20 s.
        browser.command("POST", "/timeouts", Some(json!({"implicit": 20_000, "pageLoad": 60_000})));
        browser
    }

    fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let reply = http(self.port, method, &format!("/session/{}{path}", self.session), body.as_ref()).unwrap();
        assert!(reply["value"].get("error").is_none(), "{method} {path}: {reply}");
        reply["value"].clone()
    }

    fn goto(&self, url: &str) {
        self.command("POST", "/url", Some(json!({ "url": url })));
    }

    fn find(&self, css: &str) -> String {
        let found = self.command("POST", "/element", Some(json!({"using": "css selector", "value": css})));
        found["element-6066-11e4-a52e-4f735466cecf"].as_str().unwrap().to_owned()
    }

    fn click(&self, css: &str) {
        let id = self.find(css);
        self.command("POST", &format!("/element/{id}/click"), Some(json!({})));
    }

    /// Clicks something that loads a new page and waits until that page has loaded: a `goto`
    /// straight after a form's click would otherwise abort the form's request (the sign-in
    /// cookie never set), and a `find` could answer from the page being left.
    fn click_and_load(&self, css: &str) {
        self.command("POST", "/execute/sync", Some(json!({"script": "window.kartotekaPageLeft = true;", "args": []})));
        self.click(css);
        let deadline = Instant::now() + Duration::from_secs(60);
        let loaded = json!({"script": "return !window.kartotekaPageLeft && document.readyState === 'complete';", "args": []});
        // A script sent mid-navigation may fail ("context destroyed"): that is "not yet".
        let path = format!("/session/{}/execute/sync", self.session);
        while http(self.port, "POST", &path, Some(&loaded)).map(|reply| reply["value"] != Value::Bool(true)).unwrap_or(true) {
            assert!(Instant::now() < deadline, "clicking {css} loaded no new page within 60 s");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.command("POST", &format!("/element/{id}/value"), Some(json!({ "text": text })));
    }

    fn attribute(&self, css: &str, name: &str) -> String {
        let id = self.find(css);
        self.command("GET", &format!("/element/{id}/attribute/{name}"), None).as_str().unwrap_or("").to_owned()
    }

    fn text(&self, css: &str) -> String {
        let id = self.find(css);
        self.command("GET", &format!("/element/{id}/text"), None).as_str().unwrap_or("").to_owned()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = http(self.port, "DELETE", &format!("/session/{}", self.session), None);
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Serves the project on an ephemeral loopback port from a thread of its own.
fn serve(project: &common::TestProject) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let app = web::router(project.state.clone());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async move { axum::serve(tokio::net::TcpListener::from_std(listener).unwrap(), app).await.unwrap() });
    });
    format!("http://{addr}")
}

fn person_of(project: &common::TestProject, record_key: &str) -> String {
    project
        .state
        .db
        .read_blocking(|conn| Ok(conn.query_row("SELECT person_id FROM person_records WHERE record_key = ?1", [record_key], |r| r.get(0))?))
        .unwrap()
}

#[test]
fn sign_in_search_open_a_person_review_a_pair_and_see_it_honoured() {
    let project = common::project();
    let base = serve(&project);
    let browser = Browser::start();

    browser.goto(&format!("{base}/login"));
    browser.type_into("#name", "ada");
    browser.type_into("#password", common::PASSWORD);
    browser.click_and_load("#signin");

    // Cyrillic and Latin spellings find the same person.
    browser.goto(&format!("{base}/"));
    browser.type_into("#q", "Ежов");
    browser.click_and_load("#go");
    let cyrillic = browser.attribute("#results a.person", "href");
    browser.goto(&format!("{base}/?q=Yezhov"));
    let latin = browser.attribute("#results a.person", "href");
    assert!(cyrillic.contains("/persons/P"), "{cyrillic}");
    assert_eq!(cyrillic, latin);

    // The person's page shows the profile and the assertions with their sources.
    browser.click_and_load("#results a.person");
    assert!(browser.text("h1").contains("Ежов") || browser.text("h1").contains("Yezhov"));
    assert!(browser.text("#profile").contains("birth_date"));

    // Review the most informative pair.
    browser.goto(&format!("{base}/review"));
    browser.click_and_load("#queue a.pair");
    let l = browser.attribute("input[name=l]", "value");
    let r = browser.attribute("input[name=r]", "value");
    let linked_before = person_of(&project, &l) == person_of(&project, &r);
    browser.click(if linked_before { "#reject" } else { "#accept" });
    browser.type_into("#why", "checked in the browser");
    browser.click_and_load("#submit");
    assert!(browser.text("#decisions").contains("checked in the browser"));

    // Re-link: the decision is honoured.
    browser.goto(&format!("{base}/review"));
    browser.click_and_load("#relink");
    assert!(browser.text("#relinked").contains("1 decisions honoured"), "{}", browser.text("#relinked"));
    assert_eq!(person_of(&project, &l) == person_of(&project, &r), !linked_before);
}
