//! Japanese text typed into real GTK (zenity) and Qt (PyQt5) windows on a private Xvfb arrives
//! exactly — 300 generated municipal strings with rare kanji (髙﨑𠮷邊), half-width kana with
//! voiced marks, full-width digits and －, ㈱, 〒 — and the clipboard a clerk had is put back.

use std::process::{Child, Stdio};
use std::time::Duration;

use crate::support::*;

use crate::support::municipal::*;

fn qt_lines(x: &Xvfb, title: &str) -> Child {
    x.qt_entry(title, &["--lines"])
}

#[test]
fn the_generated_strings_are_municipal_and_distinct() {
    let s = municipal_strings(300);
    let distinct: std::collections::HashSet<&String> = s.iter().collect();
    assert_eq!(distinct.len(), 300);
    let all = s.concat();
    for needle in [
        "髙", "﨑", "𠮷", "邊", "ｶﾞ", "ﾊﾟ", "ｳﾞ", "－", "㈱", "〒", "①", "～", "３",
    ] {
        assert!(all.contains(needle), "{needle}");
    }
}

#[test]
fn three_hundred_municipal_strings_arrive_exactly_in_a_gtk_text_view() {
    let x = Xvfb::start();
    let dir = temp_dir("x11_japanese_gtk");
    let strings = municipal_strings(300);
    let zenity = x.zenity(&[
        "--text-info",
        "--editable",
        "--title=kuroko-ja",
        "--width=900",
        "--height=600",
    ]);
    let script = format!(
        r#"let w = window::wait("kuroko-ja", 20);
window::activate("kuroko-ja");
mouse::click(w.x + w.w / 2, w.y + 100);
for s in {} {{
    keyboard::type_text(s);
    keyboard::type_text("\n");
}}
sleep(500);
mouse::click(w.x + w.w - 51, w.y + w.h - 25);   // OK
"#,
        rhai_array(&strings)
    );
    let s = scenario(&dir, "s", MANIFEST, &script);
    run_scenario(&s, Some(&x.display), &[]).expect(0);
    let (code, out) = finish(zenity, Duration::from_secs(20));
    assert_eq!(code, Some(0));
    let got: Vec<&str> = out.lines().collect();
    let mut wrong = Vec::new();
    for (i, want) in strings.iter().enumerate() {
        if got.get(i) != Some(&want.as_str()) {
            wrong.push(format!("#{i}: typed {want:?}, got {:?}", got.get(i)));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of 300 differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn three_hundred_municipal_strings_arrive_exactly_in_a_qt_line_edit_each_verified() {
    let x = Xvfb::start();
    let dir = temp_dir("x11_japanese_qt");
    let strings = municipal_strings(300);
    let app = qt_lines(&x, "kuroko-ja-qt");
    let script = format!(
        r#"window::wait("kuroko-ja-qt", 20);
window::activate("kuroko-ja-qt");
for s in {} {{
    keyboard::type_text(s, #{{ verify: true }});
    keyboard::press("Enter");
}}
keyboard::press("Escape");
"#,
        rhai_array(&strings)
    );
    let s = scenario(&dir, "s", MANIFEST, &script);
    run_scenario(&s, Some(&x.display), &[]).expect(0);
    let (code, out) = finish(app, Duration::from_secs(20));
    assert_eq!(code, Some(0));
    let got: Vec<&str> = out.lines().collect();
    assert_eq!(got.len(), 300);
    for (want, got) in strings.iter().zip(&got) {
        assert_eq!(want, got);
    }
}

#[test]
fn keys_typed_after_a_paste_land_after_it_and_verify_catches_a_difference() {
    let x = Xvfb::start();
    let dir = temp_dir("x11_japanese_order");
    let app = qt_lines(&x, "kuroko-order");
    let script = r#"window::wait("kuroko-order", 20);
window::activate("kuroko-order");
for i in 0..20 {
    keyboard::type_text("山田");
    keyboard::type_text("abc");
    keyboard::type_text("髙");
    keyboard::type_text("1");
    keyboard::press("Enter");
}
keyboard::type_text("already here");
keyboard::type_text(" 追加", #{ verify: true });
"#;
    let s = scenario(&dir, "s", MANIFEST, script);
    run_scenario(&s, Some(&x.display), &[])
        .expect(1)
        .stderr_has("main.rhai:11:")
        .stderr_has("the field holds \"already here 追加\", not \" 追加\" as typed");
    x.xdotool(&["key", "Escape"]);
    let (code, out) = finish(app, Duration::from_secs(10));
    assert_eq!(code, Some(0));
    assert_eq!(out, "山田abc髙1\n".repeat(20));
}

/// Puts `text` on the clipboard with xclip (which keeps serving it in the background).
fn set_clipboard(x: &Xvfb, text: &str) {
    let mut xclip = x
        .command("xclip")
        .args(["-selection", "clipboard", "-i"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    xclip
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    xclip.wait().unwrap();
}

fn clipboard(x: &Xvfb) -> String {
    let out = x
        .command("xclip")
        .args(["-selection", "clipboard", "-o"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_clipboard_a_clerk_had_is_back_after_a_paste() {
    let x = Xvfb::start();
    let dir = temp_dir("x11_japanese_clipboard");
    set_clipboard(&x, "課長への報告メモ 2024");
    let app = qt_lines(&x, "kuroko-clip");
    let script = r#"window::wait("kuroko-clip", 20);
window::activate("kuroko-clip");
keyboard::type_text("深谷市役所", #{ verify: true });
keyboard::press("Enter");
keyboard::press("Escape");
log::info("typed");
sleep(3000);
"#;
    let s = scenario(&dir, "s", MANIFEST, script);
    let runs = dir.join("runs");
    let run = spawn_run(&s, &runs, dir.join("ledger.sqlite3"), &x.display);
    // While the run still goes on, and after it ended: the clerk's text.
    wait_until("the run to type", || events_so_far(&runs).contains("typed"));
    assert_eq!(clipboard(&x), "課長への報告メモ 2024");
    let (code, _) = finish(app, Duration::from_secs(10));
    assert_eq!(code, Some(0));
    assert_eq!(finish(run, Duration::from_secs(20)).0, Some(0));
    assert_eq!(
        clipboard(&x),
        "課長への報告メモ 2024",
        "kept after kuroko exits"
    );
}
