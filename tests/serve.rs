//! `kuroko serve`, the clerk launcher, as a real server process: who may talk to it
//! (loopback, token, Host, Origin), what it serves (evidence only from run folders), and its
//! queue through the JSON API (one run at a time, stop, a killed run, cancel). The page itself
//! is driven in a real Chromium in `serve_browser.rs`.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::http::{Served, request};
use crate::support::postgres::{Store, TestLedger};
use crate::support::*;

crate::both_stores!(
    runs_queue_one_at_a_time_stop_within_a_second_and_a_killed_run_is_interrupted,
    schedules_and_closure_days_are_edited_through_the_api_and_kept_in_the_ledger,
    a_schedule_missed_while_the_launcher_was_down_runs_once_at_start_up_or_is_skipped,
);

/// A scenario whose items take `ms` each, named in Japanese.
pub fn paced(dir: &Path, id: &str, name: &str, items: u32, ms: u32) {
    paced_in(dir, id, name, ("情報政策課", "試験"), items, ms);
}

/// `paced`, for a department (課) and task (業務).
pub fn paced_in(
    dir: &Path,
    id: &str,
    name: &str,
    (department, task): (&str, &str),
    items: u32,
    ms: u32,
) {
    let manifest = MANIFEST
        .replace("\"test\"", &format!("\"{id}\""))
        .replace("\"テスト\"", &format!("\"{name}\""))
        .replace("情報政策課", department)
        .replace("\"試験\"", &format!("\"{task}\""));
    scenario(
        &dir.join("scenarios"),
        id,
        &manifest,
        &format!(
            "task::set_total({items}); for i in 1..={items} {{ log::info(`${{i}} 件目を処理中`); sleep({ms}); task::item_done(i); }}"
        ),
    );
}

/// A scenario that asks for a CSV in `input/` (`[[ask]]`) and does one item per row.
pub fn asking(dir: &Path, id: &str, name: &str) {
    let manifest = MANIFEST
        .replace("\"test\"", &format!("\"{id}\""))
        .replace("\"テスト\"", &format!("\"{name}\""))
        .replace("outputs = ", "inputs = [\"input\"]\noutputs = ")
        + "\n[[ask]]\nvar = \"file\"\nlabel = \"申請一覧\"\nfolder = \"input\"\nextensions = [\"csv\"]\nmax_mb = 0.01\n";
    scenario(
        &dir.join("scenarios"),
        id,
        &manifest,
        r#"for row in sheet::read(task::get_var("file")) { log::info(row["氏名"]); task::item_done(row["番号"]); }"#,
    );
}

/// The local address of every listening TCP socket on `port` (from /proc/net/tcp and tcp6).
fn listening_addresses(port: u16) -> Vec<String> {
    let mut found = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.len() > 3 && cols[3] == "0A" {
                let (addr, p) = cols[1].split_once(':').unwrap();
                if u16::from_str_radix(p, 16).unwrap() == port {
                    found.push(addr.to_string());
                }
            }
        }
    }
    found
}

#[test]
fn only_the_browser_with_the_token_on_this_pc_gets_in() {
    let dir = temp_dir("serve_access");
    paced(&dir, "jukyo", "住所変更の入力", 1, 0);
    // A broken scenario is listed with its problem, not offered.
    scenario(
        &dir.join("scenarios"),
        "kowareta",
        "id = \"kowareta\"\nname = \"壊れた\"\nmanual_minutes_per_itme = 1\n",
        "",
    );
    let s = Served::start(&dir, None);
    let cards = s.get("/api/scenarios").json();
    let broken = cards
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "kowareta")
        .unwrap();
    assert!(
        broken["problem"]
            .as_str()
            .unwrap()
            .contains("manual_minutes_per_itme"),
        "{broken}"
    );
    assert_eq!(s.post("/api/scenarios/kowareta/run", "{}").status, 404);
    // Loopback only: one listening socket, 127.0.0.1 (0100007F in /proc's byte order).
    assert_eq!(listening_addresses(s.port), ["0100007F"]);

    let host = s.host();
    let get =
        |target: &str, headers: &[(&str, &str)]| request(&s.addr, "GET", target, headers, None);
    // No token, a wrong one, or the token for an API call in the query: refused.
    assert_eq!(get("/", &[("Host", &host)]).status, 401);
    assert_eq!(get("/?token=0000", &[("Host", &host)]).status, 401);
    assert_eq!(
        get(
            &format!("/api/scenarios?token={}", s.token),
            &[("Host", &host)]
        )
        .status,
        401
    );
    // The printed URL: a cookie (HttpOnly, SameSite=Strict), and the page without the token.
    let first = get(&format!("/?token={}", s.token), &[("Host", &host)]);
    assert_eq!(first.status, 303);
    assert_eq!(first.header("location"), Some("/"));
    let cookie = first.header("set-cookie").unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let page = s.get("/");
    assert_eq!(page.status, 200);
    assert!(page.text().contains("kuroko"), "{}", page.text());
    assert_eq!(s.get("/api/scenarios").json()[0]["name"], "住所変更の入力");
    assert!(s.get("/api/scenarios").json()[0]["problem"].is_null());
    // A script may use the token as a bearer header instead.
    let bearer = format!("Bearer {}", s.token);
    assert_eq!(
        get(
            "/api/scenarios",
            &[("Host", &host), ("Authorization", &bearer)]
        )
        .status,
        200
    );

    // DNS rebinding: the right cookie but another Host.
    let cookie = s.cookie();
    for bad_host in [
        format!("evil.example:{}", s.port),
        "127.0.0.1".into(),
        format!("127.0.0.1:{}", s.port + 1),
    ] {
        let r = get(
            "/api/scenarios",
            &[("Host", &bad_host), ("Cookie", &cookie)],
        );
        assert_eq!(r.status, 403, "Host {bad_host}");
    }
    // CSRF: a POST from another site, or one that does not say where it comes from.
    let post = |headers: &[(&str, &str)]| {
        request(
            &s.addr,
            "POST",
            "/api/scenarios/jukyo/run",
            headers,
            Some(b"{}"),
        )
    };
    assert_eq!(
        post(&[
            ("Host", &host),
            ("Cookie", &cookie),
            ("Origin", "http://evil.example")
        ])
        .status,
        403
    );
    assert_eq!(
        post(&[
            ("Host", &host),
            ("Cookie", &cookie),
            ("Sec-Fetch-Site", "cross-site")
        ])
        .status,
        403
    );
    assert_eq!(post(&[("Host", &host), ("Cookie", &cookie)]).status, 403);
    // A change is a POST: GET on it is not allowed.
    assert_eq!(s.get("/api/scenarios/jukyo/run").status, 405);
    // No CORS: a preflight gets no Access-Control headers, and neither does anything else.
    let preflight = request(
        &s.addr,
        "OPTIONS",
        "/api/scenarios/jukyo/run",
        &[
            ("Host", &host),
            ("Origin", "http://evil.example"),
            ("Access-Control-Request-Method", "POST"),
        ],
        None,
    );
    assert_ne!(preflight.status, 200);
    for r in [&preflight, &page, &first] {
        assert!(
            !r.headers
                .iter()
                .any(|(k, _)| k.to_ascii_lowercase().starts_with("access-control-")),
            "{:?}",
            r.headers
        );
    }
    // Nothing ran: every refused POST was refused before it reached the queue.
    assert!(s.get("/api/requests").json().as_array().unwrap().is_empty());
}

fn runs_queue_one_at_a_time_stop_within_a_second_and_a_killed_run_is_interrupted(store: Store) {
    let x = Xvfb::start();
    let dir = temp_dir(&format!("serve_queue_{store:?}"));
    paced(&dir, "nagai", "長い処理", 200, 300);
    paced(&dir, "jukyo", "住所変更の入力", 3, 50);
    let ledger = TestLedger::new(store, &dir);
    let s = Served::start_on(&dir, Some(&x.display), ledger.arg().clone(), &[]);

    let long = s.post("/api/scenarios/nagai/run", "{}").json()["request_id"]
        .as_u64()
        .unwrap();
    let quick = s.post("/api/scenarios/jukyo/run", "{}").json()["request_id"]
        .as_u64()
        .unwrap();
    assert_eq!(s.post("/api/scenarios/nosuch/run", "{}").status, 404);
    let running = s.wait_json(&format!("/api/requests/{long}"), "3 items done", |r| {
        r["state"] == "running" && r["progress"]["items_done"].as_u64() >= Some(3)
    });
    // 200 items in all at about 0.3 s each: the time left is the items left at this pace.
    assert_eq!(running["progress"]["items_total"], 200);
    let eta = running["eta_ms"].as_u64().expect("an estimate");
    let done = running["progress"]["items_done"].as_u64().unwrap();
    let per_item = running["running_ms"].as_u64().unwrap() as f64 / done as f64;
    let expected = per_item * (200 - done) as f64;
    assert!(
        (eta as f64 - expected).abs() < expected * 0.2,
        "eta {eta} ms, expected about {expected}: {running}"
    );
    assert_eq!(
        running["progress"]["step"]
            .as_str()
            .map(|t| t.ends_with("件目を処理中")),
        Some(true),
        "{running}"
    );
    let waiting = s.get(&format!("/api/requests/{quick}")).json();
    assert_eq!(
        (
            waiting["state"].as_str(),
            waiting["queue_position"].as_u64()
        ),
        (Some("queued"), Some(1)),
        "not at once: {waiting}"
    );

    // 停止: aborted in the ledger within a second; the page's status says so.
    let asked = Instant::now();
    assert_eq!(
        s.post(&format!("/api/requests/{long}/stop"), "").status,
        200
    );
    wait_until("the ledger says aborted", || {
        ledger_rows(&s.ledger)
            .iter()
            .any(|r| r.0 == "nagai" && r.1 == "aborted")
    });
    eprintln!(
        "stop requested → aborted in the ledger: {:?}",
        asked.elapsed()
    );
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "aborted after {:?}",
        asked.elapsed()
    );
    let stopped = s.wait_json(&format!("/api/requests/{long}"), "finished", |r| {
        r["state"] == "finished"
    });
    assert_eq!(stopped["outcome"], "aborted");

    // The queue moved on: the waiting one ran to the end.
    let done = s.wait_json(&format!("/api/requests/{quick}"), "quick finished", |r| {
        r["state"] == "finished"
    });
    assert_eq!(done["outcome"], "succeeded", "{done}");
    assert_eq!(done["progress"]["items_done"], 3);

    // A run whose process is killed shows as interrupted, and the next one runs.
    let doomed = s.post("/api/scenarios/nagai/run", "{}").json()["request_id"]
        .as_u64()
        .unwrap();
    let next = s.post("/api/scenarios/jukyo/run", "{}").json()["request_id"]
        .as_u64()
        .unwrap();
    let cancelled = s.post("/api/scenarios/jukyo/run", "{}").json()["request_id"]
        .as_u64()
        .unwrap();
    assert_eq!(
        s.post(&format!("/api/requests/{cancelled}/cancel"), "")
            .status,
        200
    );
    let r = s.wait_json(&format!("/api/requests/{doomed}"), "doomed running", |r| {
        r["pid"].as_u64().is_some() && r["progress"]["items_done"].as_u64() >= Some(1)
    });
    signal(r["pid"].as_u64().unwrap() as u32, "KILL");
    let killed = s.wait_json(&format!("/api/requests/{doomed}"), "doomed ended", |r| {
        r["state"] == "finished"
    });
    assert_eq!(killed["outcome"], "interrupted", "{killed}");
    let after = s.wait_json(&format!("/api/requests/{next}"), "next finished", |r| {
        r["state"] == "finished"
    });
    assert_eq!(after["outcome"], "succeeded");
    assert_eq!(
        s.get(&format!("/api/requests/{cancelled}")).json()["state"],
        "cancelled"
    );

    let mut rows: Vec<(String, String)> = ledger_rows(&s.ledger)
        .into_iter()
        .map(|r| (r.0, r.1))
        .collect();
    rows.sort();
    let expected: Vec<(String, String)> = [
        ("jukyo", "succeeded"),
        ("jukyo", "succeeded"),
        ("nagai", "aborted"),
        ("nagai", "interrupted"),
    ]
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .into();
    assert_eq!(rows, expected);

    // History and evidence: the run's log is served; nothing outside run folders is.
    let history = s.get("/api/history").json();
    let run = history
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["scenario_id"] == "jukyo")
        .unwrap()
        .clone();
    let run_id = run["run_id"].as_str().unwrap();
    assert!(
        run["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "run.log"),
        "{run}"
    );
    let log = s.get(&format!("/api/runs/{run_id}/files/run.log"));
    assert_eq!(log.status, 200);
    assert!(log.text().contains("3 件目を処理中"), "{}", log.text());
    for bad in [
        format!("/api/runs/{run_id}/files/..%2F..%2F..%2Fledger.sqlite3"),
        format!("/api/runs/{run_id}/files/%2Fetc%2Fpasswd"),
        format!("/api/runs/{run_id}/files/../../ledger.sqlite3"),
        "/api/runs/..%2F..%2F/files/ledger.sqlite3".into(),
        "/api/runs/%2Fetc/files/passwd".into(),
        format!("/api/runs/{run_id}/files/events.jsonl%00.png"),
        "/../ledger.sqlite3".into(),
        "/etc/passwd".into(),
    ] {
        assert_eq!(s.get(&bad).status, 404, "{bad}");
    }
    // Hours saved per 課, and the xlsx report for managers.
    let summary = s.get("/api/summary").json();
    let dept = &summary["month"]["departments"][0];
    assert_eq!(dept["department"], "情報政策課", "{summary}");
    assert_eq!(dept["runs"], 4, "{summary}");
    let month = summary["month"]["slug"].as_str().unwrap().to_string();
    let report = s.get(&format!("/api/report?month={month}"));
    assert_eq!(report.status, 200, "{}", report.text());
    assert!(report.body.starts_with(b"PK"), "an xlsx (zip) file");
    assert_eq!(
        report.header("content-disposition"),
        Some(format!("attachment; filename=\"kuroko-report-{month}.xlsx\"").as_str())
    );
    // Twelve downloads at once (a manager's double clicks, several managers): each whole.
    // They shared one file on disk: one got 500, others 0- or 49-byte bodies.
    let (addr, host, cookie) = (s.addr.clone(), s.host(), s.cookie());
    let target = format!("/api/report?month={month}");
    let bodies: Vec<(u16, Vec<u8>)> = std::thread::scope(|scope| {
        let downloads: Vec<_> = (0..12)
            .map(|_| {
                scope.spawn(|| {
                    let r = request(
                        &addr,
                        "GET",
                        &target,
                        &[("Host", &host), ("Cookie", &cookie)],
                        None,
                    );
                    (r.status, r.body)
                })
            })
            .collect();
        downloads.into_iter().map(|d| d.join().unwrap()).collect()
    });
    for (status, body) in &bodies {
        assert_eq!(*status, 200);
        assert!(
            body.starts_with(b"PK") && body.len() > 3000,
            "{} bytes",
            body.len()
        );
        calamine::open_workbook_auto_from_rs(std::io::Cursor::new(body.clone()))
            .expect("a whole xlsx");
    }
    assert!(
        !s.runs.join("reports").exists(),
        "no report files are left behind"
    );
    assert_eq!(s.get("/api/report?month=2024-13").status, 400);
    assert_eq!(s.get("/api/report").status, 400);
    assert!(!s.stderr_text().contains("panicked"), "{}", s.stderr_text());
}

#[test]
fn a_file_the_scenario_asks_for_is_uploaded_into_its_folder_only_and_passed_to_the_run() {
    let x = Xvfb::start();
    let dir = temp_dir("serve_upload");
    asking(&dir, "kofu", "交付申請の一括処理");
    let s = Served::start(&dir, Some(&x.display));
    let input = dir.join("scenarios/kofu/input");
    let asks = &s.get("/api/scenarios").json()[0]["asks"];
    assert_eq!(asks[0]["label"], "申請一覧", "{asks}");

    let upload = |name: &str, bytes: &[u8]| {
        let (host, cookie, origin) = (s.host(), s.cookie(), s.origin());
        let target = format!("/api/scenarios/kofu/files/file?name={name}");
        request(
            &s.addr,
            "POST",
            &target,
            &[("Host", &host), ("Cookie", &cookie), ("Origin", &origin)],
            Some(bytes),
        )
    };
    let csv = "番号,氏名\n1,髙橋一郎\n2,𠮷田花子\n";
    let ok = upload("%E5%9B%9B%E6%9C%88.csv", csv.as_bytes());
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(ok.json()["name"], "四月.csv");
    assert_eq!(
        std::fs::read_to_string(input.join("四月.csv")).unwrap(),
        csv
    );
    // Refused: a path, another type, too large (the limit is 0.01 MB), the same name again.
    for (name, bytes, status) in [
        ("..%2F..%2Fevil.csv", b"1".to_vec(), 400),
        ("%2Ftmp%2Fevil.csv", b"1".to_vec(), 400),
        ("run.sh", b"1".to_vec(), 400),
        ("big.csv", vec![b'1'; 20_000], 413),
        ("%E5%9B%9B%E6%9C%88.csv", b"other".to_vec(), 409),
    ] {
        let r = upload(name, &bytes);
        assert_eq!(r.status, status, "{name}: {}", r.text());
    }
    assert_eq!(
        s.post("/api/scenarios/kofu/files/other?name=a.csv", "1")
            .status,
        404
    );
    let names: Vec<String> = std::fs::read_dir(&input)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["四月.csv"], "nothing else written");
    assert!(!dir.join("evil.csv").exists() && !Path::new("/tmp/evil.csv").exists());
    assert_eq!(
        s.get("/api/scenarios/kofu/files/file").json()[0]["name"],
        "四月.csv"
    );

    // A run must name one of the offered files.
    assert_eq!(s.post("/api/scenarios/kofu/run", "{}").status, 400);
    assert_eq!(
        s.post(
            "/api/scenarios/kofu/run",
            r#"{"vars":{"file":"../scenario.toml"}}"#
        )
        .status,
        400
    );
    assert_eq!(
        s.post(
            "/api/scenarios/kofu/run",
            r#"{"vars":{"file":"nosuch.csv"}}"#
        )
        .status,
        400
    );
    let id = s
        .post("/api/scenarios/kofu/run", r#"{"vars":{"file":"四月.csv"}}"#)
        .json()["request_id"]
        .as_u64()
        .unwrap();
    let done = s.wait_json(&format!("/api/requests/{id}"), "the run", |r| {
        r["state"] == "finished"
    });
    assert_eq!(
        (
            done["outcome"].as_str(),
            done["progress"]["items_done"].as_u64()
        ),
        (Some("succeeded"), Some(2)),
        "{done}"
    );
}

fn schedules_and_closure_days_are_edited_through_the_api_and_kept_in_the_ledger(store: Store) {
    let dir = temp_dir(&format!("serve_schedules_{store:?}"));
    paced(&dir, "jukyo", "住所変更の入力", 1, 0);
    let ledger = TestLedger::new(store, &dir);
    let s = Served::start_on(&dir, None, ledger.arg().clone(), &[]);
    let bad = s.post(
        "/api/schedules",
        r#"{"scenario_id":"jukyo","spec":"hourly 09:00"}"#,
    );
    assert_eq!(bad.status, 400);
    assert!(
        bad.json()["error"]
            .as_str()
            .unwrap()
            .contains("unknown repetition")
    );
    assert_eq!(
        s.post(
            "/api/schedules",
            r#"{"scenario_id":"nosuch","spec":"daily 09:00"}"#
        )
        .status,
        404
    );
    let added = s
        .post(
            "/api/schedules",
            r#"{"scenario_id":"jukyo","spec":"cron 0 7 * * *"}"#,
        )
        .json();
    assert_eq!(added["id"], "jukyo-1");
    let next = added["next_run"].as_str().unwrap().to_string();
    assert!(next.ends_with(" 07:00"), "{added}");
    // Closing the day of the next run moves it on.
    let day = &next[..10];
    let closed = s.post(
        "/api/closed-days",
        &format!(r#"{{"day":"{day}","reason":"停電"}}"#),
    );
    assert_eq!(closed.status, 200, "{}", closed.text());
    let moved = s.get("/api/schedules").json()[0]["next_run"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(moved.as_str() > next.as_str(), "{moved} after {next}");
    assert_eq!(
        s.get("/api/closed-days").json(),
        serde_json::json!([{ "day": day, "reason": "停電" }])
    );
    assert_eq!(
        s.post("/api/closed-days", r#"{"day":"2027-02-30"}"#).status,
        400
    );
    // The command line sees the same ledger.
    let listed = Ran::from(
        kuroko()
            .args(["schedule", "list", "--ledger"])
            .arg(&s.ledger)
            .output()
            .unwrap(),
    );
    listed
        .expect(0)
        .stdout_has("jukyo-1")
        .stdout_has("cron 0 7 * * *");
    assert_eq!(
        s.post(&format!("/api/closed-days/{day}/remove"), "").status,
        200
    );
    assert_eq!(s.post("/api/schedules/jukyo-1/remove", "").status, 200);
    assert_eq!(s.post("/api/schedules/jukyo-1/remove", "").status, 404);
    assert!(
        s.get("/api/schedules")
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
}

fn a_schedule_missed_while_the_launcher_was_down_runs_once_at_start_up_or_is_skipped(store: Store) {
    let x = Xvfb::start();
    let dir = temp_dir(&format!("serve_missed_{store:?}"));
    paced(&dir, "jukyo", "住所変更の入力", 2, 0);
    paced(&dir, "nagai", "転入届の一括入力", 2, 0);
    let test_ledger = TestLedger::new(store, &dir);
    let ledger = test_ledger.arg();
    for (scenario, when) in [
        ("jukyo", "daily 09:00"),
        ("nagai", "daily 09:00 skip-missed"),
    ] {
        Ran::from(
            kuroko()
                .args(["schedule", "add", "--ledger"])
                .arg(ledger)
                .arg(dir.join("scenarios").join(scenario))
                .arg(when)
                .output()
                .unwrap(),
        )
        .expect(0);
    }
    // The launcher last looked on Tuesday evening and starts again on Friday at noon:
    // Wednesday's to Friday's 09:00 runs were missed.
    test_ledger.execute("UPDATE schedules SET last_checked = '2026-11-24T18:00:00.000'");
    let s = Served::start_on(
        &dir,
        Some(&x.display),
        ledger.clone(),
        &["--pretend-now", "2026-11-27T12:00"],
    );
    let made_up = s.wait_json("/api/requests", "the made-up run", |r| {
        r.as_array()
            .unwrap()
            .iter()
            .any(|q| q["state"] == "finished")
    });
    assert_eq!(
        made_up.as_array().unwrap().len(),
        1,
        "once, and only the one that makes up: {made_up}"
    );
    assert_eq!(made_up[0]["scenario_id"], "jukyo");
    assert_eq!(made_up[0]["trigger"], "scheduled");
    assert_eq!(made_up[0]["outcome"], "succeeded");
    assert_eq!(
        ledger_rows(ledger),
        [(
            "jukyo".into(),
            "succeeded".into(),
            2,
            3.0,
            "scheduled".into()
        )]
    );
    assert!(
        s.stderr_text().contains("made up: 3 missed"),
        "{}",
        s.stderr_text()
    );
}

#[test]
fn stopping_the_launcher_stops_its_run_first() {
    let x = Xvfb::start();
    let dir = temp_dir("serve_exit");
    paced(&dir, "nagai", "長い処理", 200, 300);
    let mut s = Served::start(&dir, Some(&x.display));
    let id = s.post("/api/scenarios/nagai/run", "{}").json()["request_id"]
        .as_u64()
        .unwrap();
    let r = s.wait_json(&format!("/api/requests/{id}"), "running", |r| {
        r["progress"]["items_done"].as_u64() >= Some(1)
    });
    let pid = r["pid"].as_u64().unwrap();
    assert_eq!(s.terminate(), Some(0));
    assert_eq!(
        ledger_rows(&s.ledger)
            .into_iter()
            .map(|r| r.1)
            .collect::<Vec<_>>(),
        ["aborted"]
    );
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "the run outlived the launcher"
    );
}

#[test]
fn an_upload_past_its_limit_is_not_read_into_memory() {
    use std::io::{BufRead, BufReader, Write};
    let dir = temp_dir("serve_upload_memory");
    asking(&dir, "kofu", "交付申請の一括処理");
    let s = Served::start(&dir, None);
    let before = s.peak_mb();
    // 150 MB announced to an ask that takes 0.01 MB: it used to be read whole (and 335 MB of
    // a 190 MB upload stayed in use afterwards).
    let size = 150 * 1024 * 1024;
    let mut stream = std::net::TcpStream::connect(&s.addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let head = format!(
        "POST /api/scenarios/kofu/files/file?name=big.csv HTTP/1.1\r\nHost: {}\r\nCookie: {}\r\nOrigin: {}\r\nConnection: close\r\nContent-Length: {size}\r\n\r\n",
        s.host(),
        s.cookie(),
        s.origin()
    );
    stream.write_all(head.as_bytes()).unwrap();
    let chunk = vec![b'1'; 1 << 20];
    for _ in 0..150 {
        // The server answers and closes without reading the rest.
        if stream.write_all(&chunk).is_err() {
            break;
        }
    }
    let mut status = String::new();
    BufReader::new(&stream).read_line(&mut status).unwrap();
    assert!(status.contains(" 413 "), "{status}");
    let grown = s.peak_mb() - before;
    eprintln!("server peak before {before:.0} MB, grown by {grown:.0} MB");
    assert!(grown < 20.0, "the server grew by {grown:.0} MB");
    assert!(
        std::fs::read_dir(dir.join("scenarios/kofu/input"))
            .map(|d| d.count())
            .unwrap_or(0)
            == 0,
        "nothing was left in the input folder"
    );
}

#[test]
fn a_connection_that_dribbles_its_headers_is_closed() {
    use std::io::{Read, Write};
    let dir = temp_dir("serve_slow_headers");
    paced(&dir, "jukyo", "住所変更の入力", 1, 0);
    let s = Served::start(&dir, None);
    let mut stream = std::net::TcpStream::connect(&s.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let started = Instant::now();
    stream.write_all(b"GET / HTTP/1.1\r\nHost: ").unwrap();
    // One byte a second, never finishing the head: the server gives up after 5 s.
    let mut closed = false;
    for _ in 0..15 {
        std::thread::sleep(Duration::from_secs(1));
        if stream.write_all(b"x").is_err() {
            closed = true;
            break;
        }
    }
    let mut answer = Vec::new();
    let read = stream.read_to_end(&mut answer);
    assert!(
        closed || read.is_ok(),
        "the connection stayed open: {read:?}"
    );
    let text = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
    assert!(started.elapsed() < Duration::from_secs(15));
    // The server still serves everyone else.
    assert_eq!(s.get("/api/scenarios").status, 200);
}

#[test]
fn every_error_is_json_and_a_nul_in_a_variable_is_refused_before_the_run() {
    let dir = temp_dir("serve_json_errors");
    paced(&dir, "jukyo", "住所変更の入力", 1, 0);
    let s = Served::start(&dir, None);
    let (host, cookie, origin) = (s.host(), s.cookie(), s.origin());
    let send = |method: &str, target: &str, content_type: &str, body: &[u8]| {
        request(
            &s.addr,
            method,
            target,
            &[
                ("Host", &host),
                ("Cookie", &cookie),
                ("Origin", &origin),
                ("Content-Type", content_type),
            ],
            Some(body),
        )
    };
    for (what, r) in [
        (
            "not JSON",
            send("POST", "/api/schedules", "application/json", b"{not json"),
        ),
        (
            "wrong content type",
            send("POST", "/api/schedules", "text/plain", b"x"),
        ),
        (
            "missing fields",
            send("POST", "/api/schedules", "application/json", b"{}"),
        ),
        (
            "wrong method",
            send("DELETE", "/api/scenarios", "application/json", b""),
        ),
        (
            "a NUL in a variable",
            send(
                "POST",
                "/api/scenarios/jukyo/run",
                "application/json",
                br#"{"vars": {"month": "2024\u0000-04"}}"#,
            ),
        ),
    ] {
        assert!(r.status >= 400, "{what}: {}", r.status);
        assert_eq!(
            r.header("content-type"),
            Some("application/json"),
            "{what}: {}",
            r.text()
        );
        let error = r.json()["error"].as_str().unwrap_or_default().to_string();
        assert!(!error.is_empty(), "{what}: {}", r.text());
    }
    // The refused run never reached the queue.
    assert_eq!(s.get("/api/requests").json().as_array().unwrap().len(), 0);
}

#[test]
fn no_response_shows_where_this_pc_keeps_its_files() {
    let dir = temp_dir("serve_no_paths");
    paced(&dir, "jukyo", "住所変更の入力", 1, 0);
    scenario(
        &dir.join("scenarios"),
        "kowareta",
        "id = \"kowareta\"\nname = \"壊れた\"\nmanual_minutes_per_itme = 1\n",
        "",
    );
    // A report an earlier version left behind is cleaned at start.
    std::fs::create_dir_all(dir.join("runs/reports")).unwrap();
    std::fs::write(dir.join("runs/reports/kuroko-report-2024-04.xlsx"), b"PK").unwrap();
    let s = Served::start(&dir, None);
    assert!(
        !dir.join("runs/reports").exists(),
        "old reports are cleaned"
    );
    // A command-line run into the same ledger, with its run folder elsewhere.
    let cli_runs = dir.join("cli-runs");
    kuroko()
        .arg("run")
        .arg(dir.join("scenarios/jukyo"))
        .arg("--runs-dir")
        .arg(&cli_runs)
        .arg("--ledger")
        .arg(&s.ledger)
        .output()
        .unwrap();
    let id = s.post("/api/scenarios/jukyo/run", "{}").json()["request_id"]
        .as_u64()
        .unwrap();
    wait_until("the run ends", || {
        s.get(&format!("/api/requests/{id}")).json()["state"] == "finished"
    });
    let secret = dir.canonicalize().unwrap().display().to_string();
    for target in [
        "/api/scenarios".to_string(),
        format!("/api/requests/{id}"),
        "/api/requests".to_string(),
        "/api/history".to_string(),
    ] {
        let body = s.get(&target).text();
        assert!(!body.contains(&secret), "{target} shows {secret}: {body}");
    }
    let history = s.get("/api/history").json();
    let rows = history.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{history}");
    assert!(
        rows.iter().any(|r| r["run_dir"].is_null()),
        "the command-line run's folder is not shown: {history}"
    );
    assert!(
        rows.iter().any(|r| r["run_dir"]
            .as_str()
            .is_some_and(|d| d.starts_with("runs/"))),
        "{history}"
    );
}

#[test]
fn start_at_logon_writes_an_autostart_entry_for_this_user_and_removes_it() {
    let dir = temp_dir("serve_logon");
    let scenarios = dir.join("scenarios");
    std::fs::create_dir_all(&scenarios).unwrap();
    let config = dir.join("config");
    let logon = |flag: &str| {
        Ran::from(
            kuroko()
                .args(["serve", "--scenarios"])
                .arg(&scenarios)
                .arg(flag)
                .env("XDG_CONFIG_HOME", &config)
                .output()
                .unwrap(),
        )
    };
    logon("--start-at-logon")
        .expect(0)
        .stdout_has("ログオン時に起動画面を開きます");
    let entry = std::fs::read_to_string(config.join("autostart/kuroko.desktop")).unwrap();
    let exec = entry.lines().find(|l| l.starts_with("Exec=")).unwrap();
    assert!(
        exec.ends_with(&format!(
            "serve --open --scenarios \"{}\"",
            scenarios.canonicalize().unwrap().display()
        )),
        "{exec}"
    );
    logon("--no-start-at-logon")
        .expect(0)
        .stdout_has("やめました");
    assert!(!config.join("autostart/kuroko.desktop").exists());
    logon("--no-start-at-logon")
        .expect(0)
        .stdout_has("登録されていません");
}
