//! `kuroko record` on X11: clicks and typing driven by xdotool into the Qt 受付システム and a
//! GTK form (zenity) while the recorder runs and shows its indicator (Japanese entered as text,
//! through a paste), ended with Shift+Escape; the scenario it writes passes `check`, has no
//! sleep, and replayed against a fresh instance makes the same registration or answer, exactly.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::support::applications::registrations;
use crate::support::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn click(x: &Xvfb, (cx, cy): (u32, u32)) {
    x.xdotool(&["mousemove", &cx.to_string(), &cy.to_string(), "click", "1"]);
    std::thread::sleep(Duration::from_millis(300));
}

/// ASCII as keys; Japanese as text, the way an IME or a paste delivers it: through the
/// clipboard and Ctrl+V (xdotool's own typing of characters the keymap lacks remaps keys, which
/// Qt sometimes reads late).
fn type_text(x: &Xvfb, text: &str) {
    if text.is_ascii() {
        x.xdotool(&["type", "--delay", "30", text]);
    } else {
        let mut xclip = x
            .command("xclip")
            .args(["-selection", "clipboard"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut xclip.stdin.take().unwrap(), text.as_bytes()).unwrap();
        // xclip goes on serving the clipboard in the background; it ends with the display.
        xclip.wait().unwrap();
        x.xdotool(&["key", "ctrl+v"]);
    }
    std::thread::sleep(Duration::from_millis(300));
}

const FIELDS: [&str; 5] = ["受付番号", "氏名", "フリガナ", "生年月日", "住所"];

/// Records one registration into the running 受付システム: 新規, each field clicked and its
/// value entered, 登録, then Shift+Escape. Returns what `kuroko record` printed.
fn record_registration(
    x: &Xvfb,
    bus: &SessionBus,
    scenario: &Path,
    extra: &[&str],
    values: &[&str; 5],
    registered: &Path,
) -> Ran {
    let w = "受付システム";
    let new = bus.control_centre(w, "button \"新規\"");
    let mut args = vec!["--department", "市民課", "--task", "受付入力"];
    args.extend(extra);
    let recorder = bus.recorder(scenario, &args);
    recording(x);
    click(x, new);
    for (field, text) in FIELDS.iter().zip(values) {
        click(x, bus.control_centre(w, &format!("text \"{field}\"")));
        type_text(x, text);
    }
    click(x, bus.control_centre(w, "button \"登録\""));
    wait_until("the registration", || registrations(registered).len() == 1);
    std::thread::sleep(Duration::from_millis(500));
    x.xdotool(&["key", "shift+Escape"]);
    let ran = ended(recorder);
    assert_eq!(indicators(x), 0, "the recording indicator stayed");
    ran
}

#[test]
fn a_registration_recorded_once_replays_exactly_against_a_fresh_system() {
    let x = Xvfb::start();
    let bus = SessionBus::start(&x);
    let dir = temp_dir("x11_record");
    let recorded = dir.join("recorded.jsonl");
    let mut app = bus.qt_intake(&recorded);
    let scenario = dir.join("受付");
    let values = [
        "R6-00001",
        "髙橋 𠮷男",
        "ﾀｶﾊｼ ﾖｼｵ",
        "S50/01/02",
        "深谷市仲町１１－１",
    ];
    record_registration(
        &x,
        &bus,
        &scenario,
        &["--id", "uketsuke"],
        &values,
        &recorded,
    )
    .expect(0)
    .stderr_has("記録中")
    .stderr_has("新規 をクリック")
    .stdout_has("ok: ");
    let script = std::fs::read_to_string(scenario.join("main.rhai")).unwrap();
    assert!(!script.contains("sleep"), "{script}");
    assert!(
        script.contains("ui::click(#{window: \"受付システム — 住民票交付申請\", role: \"button\", name: \"新規\"});"),
        "{script}"
    );
    assert!(
        script.contains("role: \"text\", name: \"氏名\"}, \"髙橋 𠮷男\");"),
        "{script}"
    );
    assert!(script.contains("// 1. 新規 をクリック"), "{script}");
    let manifest = std::fs::read_to_string(scenario.join("scenario.toml")).unwrap();
    assert!(manifest.contains("department = \"市民課\""), "{manifest}");
    assert!(manifest.contains("要記入"), "{manifest}");
    Ran::from(bus.kuroko().arg("check").arg(&scenario).output().unwrap()).expect(0);
    let _ = app.kill();
    let _ = app.wait();

    // The replay, against a fresh instance: the same registration.
    let replayed = dir.join("replayed.jsonl");
    let mut fresh = bus.qt_intake(&replayed);
    bus.run(&scenario).expect(0);
    wait_until("the replayed registration", || {
        registrations(&replayed).len() == 1
    });
    let (mut a, mut b) = (
        registrations(&recorded).remove(0),
        registrations(&replayed).remove(0),
    );
    a.remove("registered_at");
    b.remove("registered_at");
    assert_eq!(a, b);
    assert_eq!(a["氏名"], "髙橋 𠮷男");
    let _ = fresh.kill();
    let _ = fresh.wait();
}

#[test]
fn one_application_recorded_with_data_enters_every_row_of_the_sheet_once() {
    let x = Xvfb::start();
    let bus = SessionBus::start(&x);
    let dir = temp_dir("x11_record_data");
    // Ten applications as an xlsx, written by kuroko itself.
    let names = [
        "髙橋 𠮷男",
        "渡邊 花子",
        "齋藤 一郎",
        "佐々木 ﾐﾂｺ",
        "山﨑 健",
        "中村 さくら",
        "小林 ①太",
        "加藤 次郎",
        "吉田 美咲",
        "𠮷田 翔",
    ];
    let kana = [
        "ﾀｶﾊｼ ﾖｼｵ",
        "ﾜﾀﾅﾍﾞ ﾊﾅｺ",
        "ｻｲﾄｳ ｲﾁﾛｳ",
        "ｻｻｷ ﾐﾂｺ",
        "ﾔﾏｻﾞｷ ｹﾝ",
        "ﾅｶﾑﾗ ｻｸﾗ",
        "ｺﾊﾞﾔｼ ｲﾁﾀ",
        "ｶﾄｳ ｼﾞﾛｳ",
        "ﾖｼﾀﾞ ﾐｻｷ",
        "ﾖｼﾀﾞ ｼｮｳ",
    ];
    let rows: Vec<String> = names
        .iter()
        .zip(kana)
        .enumerate()
        .map(|(i, (name, kana))| {
            format!(
                "#{{ \"受付番号\": \"R6-{:05}\", \"氏名\": \"{name}\", \"フリガナ\": \"{kana}\", \"生年月日\": \"S50/01/{:02}\", \"住所\": \"深谷市仲町{}－１\" }}",
                i + 1,
                i + 1,
                i + 1
            )
        })
        .collect();
    let maker = scenario(
        &dir,
        "maker",
        MANIFEST,
        &format!(
            "sheet::write(\"output/申請.xlsx\", [{}], #{{ columns: [\"受付番号\", \"氏名\", \"フリガナ\", \"生年月日\", \"住所\"] }});\n",
            rows.join(", ")
        ),
    );
    run_scenario(&maker, None, &[]).expect(0);
    let sheet = maker.join("output/申請.xlsx");

    let recorded = dir.join("recorded.jsonl");
    let mut app = bus.qt_intake(&recorded);
    let scenario = dir.join("shinsei");
    let first = [
        "R6-00001",
        "髙橋 𠮷男",
        "ﾀｶﾊｼ ﾖｼｵ",
        "S50/01/01",
        "深谷市仲町1－１",
    ];
    record_registration(
        &x,
        &bus,
        &scenario,
        &["--data", sheet.to_str().unwrap()],
        &first,
        &recorded,
    )
    .expect(0)
    .stdout_has("ok: ");
    let script = std::fs::read_to_string(scenario.join("main.rhai")).unwrap();
    assert!(script.contains("for row in rows {"), "{script}");
    assert!(script.contains("}, row[\"氏名\"]);"), "{script}");
    assert!(
        script.contains("task::item_done(row[\"受付番号\"]);"),
        "{script}"
    );
    assert!(scenario.join("input/申請.xlsx").is_file());
    let _ = app.kill();
    let _ = app.wait();

    let replayed = dir.join("replayed.jsonl");
    let mut fresh = bus.qt_intake(&replayed);
    bus.run(&scenario).expect(0).stderr_has("10 item(s) done");
    wait_until("ten registrations", || registrations(&replayed).len() == 10);
    let got = registrations(&replayed);
    for (i, name) in names.iter().enumerate() {
        let number = format!("R6-{:05}", i + 1);
        let rows: Vec<_> = got.iter().filter(|r| r["受付番号"] == number).collect();
        assert_eq!(rows.len(), 1, "{number}: {got:?}");
        assert_eq!(rows[0]["氏名"], *name);
        assert_eq!(rows[0]["生年月日"], format!("S50/01/{:02}", i + 1));
    }
    // Run again: every row is done, nothing is entered twice.
    bus.run(&scenario).expect(0);
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(registrations(&replayed).len(), 10);
    let _ = fresh.kill();
    let _ = fresh.wait();
}

/// The window of twins.py, with accessibility off; returns it and the rectangle of the 登録
/// beside `label`.
fn twins(x: &Xvfb, label: &str) -> (Child, (u32, u32, u32, u32)) {
    let mut child = x
        .command(&format!("{ROOT}/tests/fixtures/qt/twins.py"))
        .env("QT_ACCESSIBILITY", "0")
        .env_remove("QT_LINUX_ACCESSIBILITY_ALWAYS_ON")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
    let mut rect = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line == "ready" {
            break;
        }
        let parts: Vec<&str> = line.split(' ').collect();
        if parts[0] == label {
            let n: Vec<u32> = parts[1..].iter().map(|p| p.parse().unwrap()).collect();
            rect = Some((n[0], n[1], n[2], n[3]));
        }
    }
    // Shown is not yet painted on a busy machine: the recorder must see the buttons.
    let (bx, by, bw, bh) = rect.expect("twins.py printed no rectangle");
    wait_until("the twins' 登録 to be painted", || {
        let out = x
            .command("import")
            .args([
                "-window",
                "root",
                "-crop",
                &format!("{bw}x{bh}+{bx}+{by}"),
                "png:-",
            ])
            .output()
            .unwrap();
        image::load_from_memory(&out.stdout).is_ok_and(|shot| {
            let shot = shot.to_rgba8();
            let first = shot.get_pixel(0, 0);
            shot.pixels().filter(|p| *p != first).count() > 50
        })
    });
    // The rest of its output (the label a click prints) is read by the caller.
    let out = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
    child.stdout = None;
    TWINS_OUT.with(|o| *o.borrow_mut() = Some(out));
    (child, rect.expect("twins.py printed no rectangle"))
}

thread_local! {
    static TWINS_OUT: std::cell::RefCell<Option<std::thread::JoinHandle<Vec<String>>>> =
        const { std::cell::RefCell::new(None) };
}

/// What the last twins.py printed after "ready", once it exited.
fn twins_printed(child: Child) -> Vec<String> {
    let (code, _) = finish(child, Duration::from_secs(20));
    assert_eq!(code, Some(0), "twins.py was not clicked");
    TWINS_OUT.with(|o| o.borrow_mut().take().unwrap().join().unwrap())
}

#[test]
fn a_button_that_is_on_the_screen_twice_is_recorded_by_a_picture_that_takes_in_its_label() {
    let x = Xvfb::start();
    let bus = SessionBus::start(&x);
    let dir = temp_dir("x11_record_twins");
    let (app, (bx, by, bw, bh)) = twins(&x, "転出");
    let scenario = dir.join("twins");
    let recorder = bus.recorder(&scenario, &["--name", "双子"]);
    recording(&x);
    click(&x, (bx + bw / 2 + 10, by + bh / 2));
    assert_eq!(twins_printed(app), ["転出"]);
    x.xdotool(&["key", "shift+Escape"]);
    ended(recorder).expect(0);
    let script = std::fs::read_to_string(scenario.join("main.rhai")).unwrap();
    assert!(
        script.contains(
            "screen::click_image(\"images/001_クリック.png\", #{ timeout_s: 15, offset: #{ x: "
        ),
        "{script}"
    );
    // The picture is wider than the button: it grew left to take in 転出.
    let picture = image::open(scenario.join("images/001_クリック.png"))
        .unwrap()
        .to_rgba8();
    assert!(
        picture.width() > bw,
        "{}x{}",
        picture.width(),
        picture.height()
    );
    Ran::from(bus.kuroko().arg("check").arg(&scenario).output().unwrap()).expect(0);

    // Replayed against a fresh window: the 登録 beside 転出, not the one beside 転入.
    let (fresh, _) = twins(&x, "転出");
    bus.run(&scenario).expect(0);
    assert_eq!(twins_printed(fresh), ["転出"]);
}

#[test]
fn a_gtk_form_recorded_once_is_answered_the_same_by_the_replay() {
    let x = Xvfb::start();
    let bus = SessionBus::start(&x);
    let dir = temp_dir("x11_record_gtk");
    let form = bus.zenity_form(&["氏名", "住所"]);
    let w = "申請入力";
    let name = bus.control_centre(w, "right_of: \"氏名\"");
    let address = bus.control_centre(w, "right_of: \"住所\"");
    let ok = bus.control_centre(w, "name: \"OK\"");
    let scenario = dir.join("form");
    let recorder = bus.recorder(&scenario, &["--name", "申請入力"]);
    recording(&x);
    click(&x, name);
    type_text(&x, "髙橋 𠮷男");
    click(&x, address);
    type_text(&x, "Fukaya ");
    type_text(&x, "深谷市仲町１１－１");
    click(&x, ok);
    let (code, answered) = finish(form, Duration::from_secs(20));
    assert_eq!(code, Some(0), "zenity was not answered OK");
    assert_eq!(answered, "髙橋 𠮷男|Fukaya 深谷市仲町１１－１\n");
    x.xdotool(&["key", "shift+Escape"]);
    ended(recorder).expect(0);
    assert_eq!(indicators(&x), 0, "the recording indicator stayed");
    let script = std::fs::read_to_string(scenario.join("main.rhai")).unwrap();
    assert!(!script.contains("sleep"), "{script}");
    for want in [
        "// 2. 氏名 に「髙橋 𠮷男」を入力",
        "role: \"text\", right_of: \"氏名\"}, \"髙橋 𠮷男\");",
        "role: \"text\", right_of: \"住所\"}, \"Fukaya 深谷市仲町１１－１\");",
        "role: \"button\", name: \"OK\"});",
    ] {
        assert!(script.contains(want), "{want} not in\n{script}");
    }
    Ran::from(bus.kuroko().arg("check").arg(&scenario).output().unwrap()).expect(0);

    // Replayed against a fresh form: the same answer, exactly.
    let fresh = bus.zenity_form(&["氏名", "住所"]);
    bus.run(&scenario).expect(0);
    let (code, replayed) = finish(fresh, Duration::from_secs(20));
    assert_eq!(code, Some(0), "the replay did not answer OK");
    assert_eq!(replayed, answered);
}
