//! The report in headless Chromium (Debian's `chromium`; `.ci/run` installs it): the defectors
//! example's `out/index.html`, its person page and an analysis page are rendered offline from
//! `file://` with no console messages and no requests to the network (Chromium's net log); the
//! DOM Chromium built holds the persons count, the links to the analyses and the SVG charts; and
//! the screenshots are drawn: the main page is not blank, the analysis page shows its chart's
//! columns (pixels of their colour).

mod common;

use common::{build, copy_project, example_dir};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Output};

const CHROMIUM: &str = "/usr/bin/chromium";
/// The colour of every bar and column in the report's charts (`report::svg`).
const BAR: [u8; 3] = [0x4a, 0x7a, 0xb5];

/// Runs headless Chromium on a page with a fresh profile and no network services.
fn chromium(page: &Path, extra: &[&str]) -> Output {
    assert!(Path::new(CHROMIUM).exists(), "install chromium (.ci/run does)");
    let profile = tempfile::tempdir().unwrap();
    Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs")
}

/// Hosts Chromium itself calls (updates, accounts, time) whatever the page: not the report's.
const BROWSER_OWN_HOSTS: [&str; 3] = ["clients2.google.com", "update.googleapis.com", "accounts.google.com"];

/// The DOM of a page after Chromium parsed and laid it out, checking on the way that the page
/// wrote nothing to the console and requested nothing from the network.
fn dom(page: &Path) -> String {
    let log = tempfile::tempdir().unwrap();
    let net_log = log.path().join("net.json");
    let output = chromium(page, &["--dump-dom", "--enable-logging=stderr", "--v=0", &format!("--log-net-log={}", net_log.display())]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let console: Vec<&str> = stderr.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "{} wrote to the console: {console:?}", page.display());
    let net = std::fs::read_to_string(&net_log).unwrap();
    let requested: std::collections::BTreeSet<&str> = net
        .split("\"url\":\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|url| url.starts_with("http") && !BROWSER_OWN_HOSTS.iter().any(|host| url.split('/').nth(2) == Some(host)))
        .collect();
    assert!(requested.is_empty(), "{} made external requests: {requested:?}", page.display());
    String::from_utf8(output.stdout).unwrap()
}

/// An 8-bit RGB or RGBA PNG decoded to rows of RGB pixels.
fn decode_png(bytes: &[u8]) -> (usize, usize, Vec<[u8; 3]>) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG file");
    let (mut width, mut height, mut channels, mut data) = (0, 0, 0, Vec::new());
    let mut at = 8;
    while at + 8 <= bytes.len() {
        let length = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let (kind, body) = (&bytes[at + 4..at + 8], &bytes[at + 8..at + 8 + length]);
        match kind {
            b"IHDR" => {
                width = u32::from_be_bytes(body[0..4].try_into().unwrap()) as usize;
                height = u32::from_be_bytes(body[4..8].try_into().unwrap()) as usize;
                assert_eq!(body[8], 8, "8 bits per channel");
                channels = match body[9] {
                    2 => 3,
                    6 => 4,
                    other => panic!("colour type {other}"),
                };
            }
            b"IDAT" => data.extend_from_slice(body),
            _ => {}
        }
        at += 12 + length;
    }
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&data[..]).read_to_end(&mut raw).unwrap();
    let stride = width * channels;
    let mut previous = vec![0u8; stride];
    let mut pixels = Vec::with_capacity(width * height);
    for line in raw.chunks(stride + 1).take(height) {
        let (filter, line) = (line[0], &line[1..]);
        let mut current = vec![0u8; stride];
        for i in 0..stride {
            let a = if i >= channels { current[i - channels] } else { 0 };
            let (b, c) = (previous[i], if i >= channels { previous[i - channels] } else { 0 });
            let predicted = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                4 => {
                    let p = i16::from(a) + i16::from(b) - i16::from(c);
                    let (pa, pb, pc) = ((p - i16::from(a)).abs(), (p - i16::from(b)).abs(), (p - i16::from(c)).abs());
                    if pa <= pb && pa <= pc { a } else if pb <= pc { b } else { c }
                }
                other => panic!("filter {other}"),
            };
            current[i] = line[i].wrapping_add(predicted);
        }
        pixels.extend(current.chunks(channels).map(|p| [p[0], p[1], p[2]]));
        previous = current;
    }
    (width, height, pixels)
}

#[test]
fn the_report_renders_in_chromium_with_its_numbers_and_charts() {
    let dir = tempfile::tempdir().unwrap();
    copy_project(&example_dir(), dir.path());
    let output = build(dir.path(), &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let out = dir.path().join("out").canonicalize().unwrap();
    let persons: std::collections::BTreeSet<String> =
        std::fs::read_to_string(out.join("clusters.csv")).unwrap().lines().skip(1).map(|l| l.rsplit(',').next().unwrap().to_owned()).collect();

    let index = dom(&out.join("index.html"));
    assert!(index.contains(&format!("<b id=\"persons-count\">{}</b> persons linked from 88 records", persons.len())), "{index}");
    assert!(index.contains("<a href=\"analyses/index.html\">Analyses</a>") && index.contains("<a href=\"analyses/defections-per-year.html\">"), "{index}");
    assert!(index.contains("<svg") && index.contains("<rect "), "the persons chart is in the DOM");
    let people = dom(&out.join("persons/1.html"));
    assert_eq!(people.matches("<section id=\"P").count(), persons.len(), "every person has a section on the first page");
    let series = dom(&out.join("analyses/defections-per-year.html"));
    assert!(series.contains("<svg") && series.contains(">Khrushchev</td>"), "{series}");

    let shots = tempfile::tempdir().unwrap();
    let screenshot = |page: &Path, name: &str| {
        let png = shots.path().join(name);
        let output = chromium(page, &[&format!("--screenshot={}", png.display()), "--window-size=1280,1200"]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let (width, height, pixels) = decode_png(&std::fs::read(&png).unwrap());
        assert_eq!((width, height), (1280, 1200));
        pixels
    };
    let close = |p: &[u8; 3], q: [u8; 3]| p.iter().zip(q).all(|(a, b)| a.abs_diff(b) <= 8);
    let index = screenshot(&out.join("index.html"), "index.png");
    let ink = index.iter().filter(|p| !close(p, [0xff; 3])).count();
    assert!(ink > index.len() / 100, "the main page is drawn: {ink} of {} pixels not white", index.len());
    // The analysis page has no other blue than its chart's columns.
    let series = screenshot(&out.join("analyses/defections-per-year.html"), "series.png");
    let columns = series.iter().filter(|p| close(p, BAR)).count();
    assert!(columns > 5_000, "the time series' columns are drawn: {columns} pixels of their colour");
}
