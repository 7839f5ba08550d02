//! Real input into real windows on a private Xvfb — GTK (zenity) and Qt (a PyQt5 line edit):
//! what arrives is compared exactly.

use std::time::Duration;

use crate::support::*;

/// Every printable ASCII character, including the ones that need Shift.
const ASCII: &str = "Hello, World! 0123456789 ~`!@#$%^&*()_+-={}|[]\\:\";'<>?,./ ABCXYZ abcxyz";

/// Types into the window titled `title` (an app started by `app`, whose stdout is what the
/// window received): text, then Ctrl+A to select it, then every ASCII character and Enter.
fn type_ascii_into(x: &Xvfb, name: &str, title: &str, app: std::process::Child) {
    let dir = temp_dir(name);
    let script = format!(
        r#"window::wait("{title}", 20);
window::activate("{title}");
keyboard::type_text("this will be replaced");
keyboard::hotkey(["Ctrl", "a"]);
keyboard::type_text({ASCII:?});
keyboard::press("Enter");
"#
    );
    let s = scenario(&dir, "s", MANIFEST, &script);
    run_scenario(&s, Some(&x.display), &[]).expect(0);
    let (code, out) = finish(app, Duration::from_secs(10));
    assert_eq!(
        code,
        Some(0),
        "{title} did not return OK (scripts/test.sh installs zenity and python3-pyqt5)"
    );
    assert_eq!(out.trim_end_matches('\n'), ASCII);
}

#[test]
fn typing_keys_and_a_hotkey_arrive_exactly_in_a_gtk_entry() {
    let x = Xvfb::start();
    let zenity = x.zenity(&["--entry", "--title=kuroko-entry", "--text=type here"]);
    type_ascii_into(&x, "x11_typing", "kuroko-entry", zenity);
}

#[test]
fn typing_keys_and_a_hotkey_arrive_exactly_in_a_qt_line_edit() {
    let x = Xvfb::start();
    let app = x.qt_entry("kuroko-qt", &[]);
    type_ascii_into(&x, "x11_typing_qt", "kuroko-qt", app);
}

#[test]
fn tab_moves_between_fields_and_a_click_presses_ok() {
    let x = Xvfb::start();
    let dir = temp_dir("x11_tab");
    let zenity = x.zenity(&[
        "--forms",
        "--title=kuroko-form",
        "--add-entry=name",
        "--add-entry=address",
    ]);
    let s = scenario(&dir, "s", MANIFEST, crate::dry_run::FORM_SCRIPT);
    run_scenario(&s, Some(&x.display), &[])
        .expect(0)
        .stderr_has("1 item(s) done");
    let (code, out) = finish(zenity, Duration::from_secs(10));
    assert_eq!(code, Some(0));
    assert_eq!(out.trim_end(), "Sato Hanako|1-2-3 Chuo");
}

#[test]
fn clicking_at_coordinates_focuses_the_right_field() {
    let x = Xvfb::start();
    let dir = temp_dir("x11_mouse");
    let zenity = x.zenity(&[
        "--forms",
        "--title=kuroko-mouse",
        "--add-entry=first",
        "--add-entry=second",
    ]);
    // The second field first, then the first: only real focus changes put the text in order.
    let script = r#"
let w = window::wait("kuroko-mouse", 20);
window::activate("kuroko-mouse");
mouse::click(w.x + w.w - 99, w.y + 93);
keyboard::type_text("into second");
mouse::click(w.x + w.w - 99, w.y + 53);
keyboard::type_text("into first");
let p = mouse::position();
if p.x != w.x + w.w - 99 || p.y != w.y + 53 { fail(`pointer at ${p.x},${p.y}`); }
mouse::click(w.x + w.w - 51, w.y + w.h - 25);
"#;
    let s = scenario(&dir, "s", MANIFEST, script);
    run_scenario(&s, Some(&x.display), &[]).expect(0);
    let (code, out) = finish(zenity, Duration::from_secs(10));
    assert_eq!(code, Some(0));
    assert_eq!(out.trim_end(), "into first|into second");
}

#[test]
fn screen_functions_read_the_real_display() {
    let x = Xvfb::start();
    let dir = temp_dir("x11_screen");
    let script = r##"
let s = screen::size();
if s.width != 1280 || s.height != 800 { fail(`size ${s.width}x${s.height}`); }
let p = screen::pixel(5, 5);
if p.hex != "#000000" { fail(`pixel ${p.hex}`); }
screen::save("output/screen.png");
let titles = window::list();
"##;
    let s = scenario(&dir, "s", MANIFEST, script);
    run_scenario(&s, Some(&x.display), &[]).expect(0);
    let png = image::open(s.join("output/screen.png")).unwrap();
    assert_eq!((png.width(), png.height()), (1280, 800));
}

#[test]
fn waiting_for_a_window_that_never_comes_fails_with_a_screenshot() {
    let x = Xvfb::start();
    let dir = temp_dir("x11_wait_fail");
    let s = scenario(
        &dir,
        "s",
        MANIFEST,
        "log::info(\"waiting\");\nwindow::wait(\"no such window\", 0.3);\n",
    );
    run_scenario(&s, Some(&x.display), &[])
        .expect(1)
        .stderr_has(
            "main.rhai:2:9: no window with \"no such window\" in its title appeared within 0.3 s",
        );
    let run_dir = only_run_dir(&dir);
    let shot = image::open(run_dir.join("failure.png")).unwrap();
    assert_eq!(shot.width(), 1280);
}

#[test]
fn doctor_reports_the_screen_capture_and_windows_of_a_real_display() {
    let x = Xvfb::start();
    let mut zenity = x.zenity(&["--entry", "--title=kuroko-doctor"]);
    wait_until("the zenity window to be painted", || {
        std::thread::sleep(Duration::from_millis(50));
        Ran::from(
            kuroko()
                .arg("doctor")
                .env("DISPLAY", &x.display)
                .output()
                .unwrap(),
        )
        .stdout
        .contains("[OK]   画面の取り込み")
    });
    let ran = Ran::from(
        kuroko()
            .arg("doctor")
            .env("DISPLAY", &x.display)
            .output()
            .unwrap(),
    );
    ran.expect(0)
        .stdout_has("[情報] デスクトップ: X11")
        .stdout_has("[OK]   画面: ")
        .stdout_has("[OK]   ウィンドウ一覧: ")
        .stdout_has("結果: すべての確認を通りました");
    let _ = zenity.kill();
    let _ = zenity.wait();
}
