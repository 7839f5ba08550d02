//! `ui::` on Linux through AT-SPI, against real windows on a private Xvfb and session bus: a
//! GTK form (zenity) and the Qt 受付システム (examples/intake-app.py) — 300 municipal strings
//! set and read back exactly, fields found right of their labels, buttons pressed by name, the
//! status label waited for, a missing and an ambiguous control named clearly; and
//! `kuroko inspect`.

use std::time::Duration;

use crate::support::applications::registrations;
use crate::support::municipal::{municipal_strings, rhai_array};
use crate::support::*;

#[test]
fn a_gtk_form_is_filled_by_label_read_back_exactly_and_answered_by_its_ok_button() {
    let x = Xvfb::start();
    let bus = SessionBus::start(&x);
    let dir = temp_dir("x11_ui_gtk");
    let form = bus.zenity_form(&["氏名", "住所"]);
    let strings = municipal_strings(300);
    let s = scenario(
        &dir,
        "fill",
        MANIFEST,
        &format!(
            r#"let w = "申請入力";
ui::wait(#{{ window: w, role: "button", name: "OK" }}, #{{ timeout_s: 30 }});
let name = #{{ window: w, role: "text", right_of: "氏名" }};
for s in {} {{
    ui::set_text(name, s);
    let got = ui::get_text(name);
    if got != s {{ fail(`read back ${{got}}, not ${{s}}`); }}
}}
ui::set_text(#{{ window: w, role: "text", right_of: "住所" }}, "深谷市仲町１１－１ 𠮷野家ビル");
ui::click(#{{ window: w, role: "button", name: "OK" }});
ui::wait_gone(#{{ window: w, role: "button", name: "OK" }});
"#,
            rhai_array(&strings)
        ),
    );
    bus.run(&s).expect(0);
    let (code, out) = finish(form, Duration::from_secs(10));
    assert_eq!(code, Some(0), "zenity was not answered OK");
    assert_eq!(
        out,
        format!("{}|深谷市仲町１１－１ 𠮷野家ビル\n", strings[299])
    );
}

#[test]
fn the_qt_intake_system_registers_by_role_and_name_and_misses_are_named() {
    let x = Xvfb::start();
    let bus = SessionBus::start(&x);
    let dir = temp_dir("x11_ui_qt");
    let file = dir.join("registrations.jsonl");
    let mut app = bus.qt_intake(&file);
    let strings = municipal_strings(300);
    let s = scenario(
        &dir,
        "register",
        MANIFEST,
        &format!(
            r#"let w = "受付システム";
ui::click(#{{ window: w, role: "button", name: "新規", timeout_s: 30 }});
let name = #{{ window: w, role: "text", name: "氏名" }};
for s in {} {{
    ui::set_text(name, s);
    if ui::get_text(name) != s {{ fail(`read back ${{ui::get_text(name)}}, not ${{s}}`); }}
}}
ui::set_text(#{{ window: w, role: "text", right_of: "受付番号" }}, "UI-0001");
ui::set_text(name, "髙橋 𠮷男");
ui::set_text(#{{ window: w, role: "text", right_of: "フリガナ" }}, "ﾀｶﾊｼ ﾖｼｵ");
ui::set_text(#{{ window: w, role: "text", right_of: "生年月日" }}, "S50/01/02");
ui::set_text(#{{ window: w, role: "text", near: "住所" }}, "深谷市仲町１１－１");
ui::click(#{{ window: w, role: "button", name: "登録" }});
ui::wait(#{{ window: w, role: "label", name: "登録しました" }}, #{{ timeout_s: 20 }});
log::info(`status: ${{ui::get_text(#{{ window: w, role: "label", name_contains: "登録し" }})}}`);
"#,
            rhai_array(&strings)
        ),
    );
    bus.run(&s).expect(0).stderr_has("status: 登録しました");
    let rows = registrations(&file);
    assert_eq!(rows.len(), 1, "{rows:?}");
    for (k, v) in [
        ("受付番号", "UI-0001"),
        ("氏名", "髙橋 𠮷男"),
        ("フリガナ", "ﾀｶﾊｼ ﾖｼｵ"),
        ("生年月日", "S50/01/02"),
        ("住所", "深谷市仲町１１－１"),
    ] {
        assert_eq!(rows[0][k], v, "{k}");
    }

    // A missing control names the nearest ones; an ambiguous one lists its matches at once.
    std::fs::write(
        s.join("main.rhai"),
        "let w = \"受付システム\";\nui::click(#{ window: w, role: \"button\", name: \"登緑\", timeout_s: 1 });\n",
    )
    .unwrap();
    bus.run(&s)
        .expect(1)
        .stderr_has("main.rhai:2:")
        .stderr_has("found nothing within 1 s (AT-SPI); nearest: button \"登録\"");
    std::fs::write(
        s.join("main.rhai"),
        "ui::get_text(#{ window: \"受付システム\", role: \"text\" });\n",
    )
    .unwrap();
    bus.run(&s)
        .expect(1)
        .stderr_has("main.rhai:1:")
        .stderr_has("matches 6 controls")
        .stderr_has("add index");

    // inspect: the control at a point and every control of the window, with their selectors.
    let listed = Ran::from(
        bus.kuroko()
            .args(["inspect", "--window", "受付システム"])
            .output()
            .unwrap(),
    );
    listed
        .expect(0)
        .stdout_has("ui::click(#{window: \"受付システム — 住民票交付申請\", role: \"button\", name: \"登録\"});")
        .stdout_has("ui::set_text(#{window: \"受付システム — 住民票交付申請\", role: \"text\", name: \"住所\"}, \"…\");")
        .stdout_has("text \"深谷市仲町１１－１\"");
    let button = listed
        .stdout
        .lines()
        .find(|l| l.starts_with("button \"新規\""))
        .unwrap()
        .to_string();
    let (cx, cy) = inspected_centre(&button);
    let point = format!("{cx},{cy}");
    Ran::from(
        bus.kuroko()
            .args(["inspect", "--at", &point])
            .output()
            .unwrap(),
    )
    .expect(0)
    .stdout_has(&format!("at {point} (AT-SPI):"))
    .stdout_has("ui::click(#{window: \"受付システム — 住民票交付申請\", role: \"button\", name: \"新規\"});");
    Ran::from(
        bus.kuroko()
            .args(["inspect", "--at", "1270,790"])
            .output()
            .unwrap(),
    )
    .expect(1)
    .stderr_has("no control at 1270,790");
    let _ = app.kill();
    let _ = app.wait();
}
