//! `kartoteka link --cluster` and `kartoteka build --cluster` against a real cluster: one
//! scheduler and two executors started as separate processes of our binary on loopback, each with
//! its own ports and work directory. The cluster gives the local run's persons and pairs (and a
//! build's register and exports) byte for byte; an executor killed mid-job never yields a partial
//! result; an unreachable scheduler is a clear error.
#![cfg(feature = "distributed")]

mod common;

use common::{build, copy_project, example_dir, kartoteka, out_files};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    free_ports(1)[0]
}

/// Distinct free ports: all are held until all are chosen, so none is handed out twice.
fn free_ports(n: usize) -> Vec<u16> {
    let held: Vec<TcpListener> = (0..n).map(|_| TcpListener::bind("127.0.0.1:0").expect("a free port")).collect();
    held.iter().map(|l| l.local_addr().expect("address").port()).collect()
}

/// Processes that are killed when the test ends, however it ends.
struct Processes(Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _already_gone = child.kill();
            let _status = child.wait();
        }
    }
}

struct Cluster {
    url: String,
    port: u16,
    _scheduler: Processes,
    executors: Processes,
    executor_dirs: Vec<PathBuf>,
}

/// `GET path` on the scheduler's HTTP port: (status, body).
fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default()))
}

fn start_cluster(dir: &Path, executors: usize) -> Cluster {
    let ports = free_ports(1 + 2 * executors);
    let port = ports[0];
    let scheduler = kartoteka()
        .args(["scheduler", "--bind", &format!("127.0.0.1:{port}"), "--executor-timeout", "6"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the scheduler");
    let scheduler = Processes(vec![scheduler]);
    let mut children = Vec::new();
    let mut executor_dirs = Vec::new();
    for e in 0..executors {
        let work = dir.join(format!("executor-{e}"));
        let child = kartoteka()
            .args(["executor", "--scheduler", &format!("127.0.0.1:{port}")])
            .args(["--bind", &format!("127.0.0.1:{}", ports[1 + 2 * e]), "--grpc-port", &ports[2 + 2 * e].to_string()])
            .args(["--concurrent-tasks", "2", "--heartbeat", "1"])
            .arg("--work-dir")
            .arg(&work)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start an executor");
        children.push(child);
        executor_dirs.push(work);
    }
    let executors_processes = Processes(children);
    let started = Instant::now();
    let wanted = format!("ready: {executors} executors registered");
    loop {
        if let Some((200, body)) = http_get(port, "/readyz")
            && body.trim() == wanted
        {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(300), "the cluster did not come up: {:?}", http_get(port, "/readyz"));
        std::thread::sleep(Duration::from_millis(200));
    }
    Cluster { url: format!("df://127.0.0.1:{port}"), port, _scheduler: scheduler, executors: executors_processes, executor_dirs }
}

/// A simulated register of a few thousand records, written once per test.
fn simulate(dir: &Path) -> PathBuf {
    let out = dir.join("register");
    let status = kartoteka()
        .args(["simulate", "--persons", "1500", "--lists", "3", "--seed", "17", "--out"])
        .arg(&out)
        .status()
        .expect("run simulate");
    assert!(status.success());
    out.join("records.csv")
}

fn link(records: &Path, out: &Path, cluster: Option<&str>) -> Output {
    let mut cmd = kartoteka();
    cmd.arg("link").arg(records).arg("--out").arg(out);
    if let Some(url) = cluster {
        cmd.args(["--cluster", url, "--cluster-partitions", "4"]);
    }
    cmd.output().expect("run link")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_cluster_gives_the_local_persons_and_pairs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let records = simulate(dir.path());
    let local = link(&records, &dir.path().join("local"), None);
    assert!(local.status.success(), "{}", String::from_utf8_lossy(&local.stderr));
    let cluster = start_cluster(dir.path(), 2);
    let remote = link(&records, &dir.path().join("remote"), Some(&cluster.url));
    let stderr = String::from_utf8_lossy(&remote.stderr);
    assert!(remote.status.success(), "{stderr}");
    assert!(stderr.contains("ready: 2 executors registered"), "the run reports the cluster's health: {stderr}");
    for (file, at_least) in [("clusters.csv", 1000), ("pairs.csv", 100)] {
        let (l, r) = (read(&dir.path().join("local").join(file)), read(&dir.path().join("remote").join(file)));
        assert!(l.lines().count() > at_least, "{file} has content");
        assert!(l == r, "{file} differs between the local run and the cluster");
    }
    let report: serde_json::Value = serde_json::from_str(&read(&dir.path().join("remote/link_report.json"))).expect("JSON");
    let local_report: serde_json::Value = serde_json::from_str(&read(&dir.path().join("local/link_report.json"))).expect("JSON");
    assert_eq!(report["candidate_pairs"], local_report["candidate_pairs"]);
    assert_eq!(report["model"], local_report["model"]);
    assert!(report["cluster"]["kept_pairs"].as_u64().is_some_and(|n| n > 0));
    // Both executors did shuffle work, each in its own work directory.
    let shuffle_files = |d: &Path| walk(d).len();
    assert!(cluster.executor_dirs.iter().all(|d| shuffle_files(d) > 0), "every executor wrote shuffle files");
    assert!(!dir.path().join("remote/.cluster-input").exists(), "the scratch inputs are removed");
    drop(cluster);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                files.extend(walk(&p));
            } else {
                files.push(p);
            }
        }
    }
    files
}

#[test]
fn an_executor_killed_mid_job_never_gives_a_partial_result() {
    let dir = tempfile::tempdir().expect("temp dir");
    let records = simulate(dir.path());
    let local = link(&records, &dir.path().join("local"), None);
    assert!(local.status.success());
    let mut cluster = start_cluster(dir.path(), 2);
    let remote_out = dir.path().join("remote");
    let mut run = kartoteka()
        .arg("link")
        .arg(&records)
        .arg("--out")
        .arg(&remote_out)
        .args(["--cluster", &cluster.url, "--cluster-partitions", "4"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start link");
    // Kill one executor as soon as the scheduler runs a job of ours.
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(120) {
        let running = http_get(cluster.port, "/api/jobs")
            .is_some_and(|(_, body)| body.contains("kartoteka-link") && body.contains("\"Running\""));
        if running || run.try_wait().expect("poll link").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let victim = &mut cluster.executors.0[0];
    victim.kill().expect("kill an executor");
    victim.wait().expect("reap it");
    let mut stderr = String::new();
    run.stderr.take().expect("stderr").read_to_string(&mut stderr).expect("read stderr");
    let status = run.wait().expect("link ends");
    if status.success() {
        // Ballista re-ran the lost tasks: the result is the whole result.
        for file in ["clusters.csv", "pairs.csv"] {
            assert!(read(&dir.path().join("local").join(file)) == read(&remote_out.join(file)), "{file} differs: {stderr}");
        }
    } else {
        assert_eq!(status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("error: cluster job kartoteka-link-"), "the error names the failed job: {stderr}");
        assert!(!remote_out.join("clusters.csv").exists(), "no partial result is written");
    }
    drop(cluster);
}

#[test]
fn an_unreachable_scheduler_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let records = simulate(dir.path());
    let url = format!("df://127.0.0.1:{}", free_port());
    let out = link(&records, &dir.path().join("out"), Some(&url));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("error: cannot reach the scheduler at {url}")), "{stderr}");
    assert!(stderr.contains("is `kartoteka scheduler` running there?"), "{stderr}");
    assert!(!dir.path().join("out/clusters.csv").exists());
    let port = free_port();
    let executor = kartoteka()
        .args(["executor", "--scheduler", &format!("127.0.0.1:{port}"), "--scheduler-wait", "1"])
        .args(["--bind", &format!("127.0.0.1:{}", free_port())])
        .output()
        .expect("runs the executor");
    let stderr = String::from_utf8_lossy(&executor.stderr);
    assert_eq!(executor.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("error: cannot reach the scheduler at 127.0.0.1:{port}")), "{stderr}");
    assert!(stderr.contains("(waited 1 s)"), "{stderr}");
}

/// What a build leaves in the register: persons, scored pairs (with waterfalls) and the run's
/// model, spec and history, each as rows of text.
fn register_contents(dir: &Path) -> Vec<Vec<String>> {
    let conn = rusqlite::Connection::open(dir.join(store::REGISTER_FILE)).expect("the register opens");
    [
        "SELECT record_key, person_id, content_sha256 FROM person_records ORDER BY record_key",
        "SELECT record_key_l, record_key_r, match_weight, match_probability, explanation_json FROM link_pairs ORDER BY 1, 2",
        "SELECT records, persons, pairs, decisions, events_json, inputs_sha256, model_json, spec_json FROM link_runs ORDER BY run_id",
    ]
    .iter()
    .map(|sql| {
        let mut stmt = conn.prepare(sql).expect("a query of the register");
        let columns = stmt.column_count();
        stmt.query_map([], |row| {
            (0..columns).map(|i| row.get::<_, rusqlite::types::Value>(i).map(|v| format!("{v:?}"))).collect::<Result<Vec<_>, _>>()
        })
        .expect("rows")
        .map(|r| r.expect("a row").join("|"))
        .collect()
    })
    .collect()
}

fn must_build(dir: &Path, extra: &[&str]) -> String {
    let out = build(dir, extra);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

#[test]
fn build_on_the_cluster_gives_the_local_register_and_exports() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (local, remote) = (dir.path().join("local"), dir.path().join("remote"));
    for project in [&local, &remote] {
        std::fs::create_dir_all(project).expect("project folder");
        copy_project(&example_dir(), project);
    }
    must_build(&local, &[]);
    let cluster = start_cluster(dir.path(), 2);
    let on_cluster = ["--cluster", cluster.url.as_str(), "--cluster-partitions", "2"];
    let stderr = must_build(&remote, &on_cluster);
    assert!(stderr.contains("ready: 2 executors registered") && stderr.contains("pairs kept"), "the pairs were scored on the cluster: {stderr}");
    let same = |when: &str| {
        let (l, r) = (register_contents(&local), register_contents(&remote));
        assert!(l[0].len() == 88 && !l[1].is_empty(), "{when}: persons and pairs stored");
        assert!(l == r, "{when}: the register differs between the local build and the cluster's");
        let (l, r) = (out_files(&local), out_files(&remote));
        assert_eq!(l.iter().map(|(name, _)| name).collect::<Vec<_>>(), r.iter().map(|(name, _)| name).collect::<Vec<_>>());
        for ((name, a), (_, b)) in l.iter().zip(&r) {
            assert!(a == b, "{when}: out/{name} differs between the local build and the cluster's");
        }
    };
    same("first build");
    assert!(!remote.join(".cluster-input").exists(), "the scratch inputs are removed");
    // A reviewer splits a pair: the next build links everything again, on the cluster, honouring it
    // (the model is refined by the decision and the persons keep their ids).
    for project in [&local, &remote] {
        rusqlite::Connection::open(project.join(store::REGISTER_FILE))
            .expect("the register opens")
            .execute(
                "INSERT INTO decisions (item, action, kind, record_key_l, record_key_r, who, decided_at, why)
                 VALUES ('pair', 'split', 'cannot_link', 'kgb-list:data/installment-1.csv:3', 'western-press:data/western-press.csv:4',
                         'tester', '2024-01-01T00:00:00Z', 'test')",
                [],
            )
            .expect("a decision");
    }
    must_build(&local, &[]);
    let stderr = must_build(&remote, &on_cluster);
    assert!(stderr.contains("pairs kept"), "the second build ran on the cluster: {stderr}");
    same("after a decision");
    drop(cluster);
}
