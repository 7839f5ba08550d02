//! Japanese typed through a real IME — fcitx5 with Mozc, on as in every Japanese office — into
//! a GTK form: `kuroko record` writes the 漢字 the IME committed, not the romaji, the
//! conversion key or the Enter that committed it; and the replay, with the IME still on, gives
//! the form the same answer. And kuroko's own typing with the IME on arrives exactly: its keys
//! with the IME turned off for them (and on again after the run), its paste of Japanese not lost
//! to fcitx5's clipboard, which asks for every new clipboard before the paste does.

use std::time::Duration;

use crate::support::ime::ImeSession;
use crate::support::*;

#[test]
fn japanese_typed_through_the_ime_is_recorded_as_the_committed_kanji_and_replays_with_it_on() {
    let s = ImeSession::start("x11_ime_record");
    let w = "申請入力";
    let form = || s.zenity_form(&["氏名"]);
    let first = form();
    let field = s.control_centre(w, "right_of: \"氏名\"");
    let ok = s.control_centre(w, "name: \"OK\"");
    let work = s.work_dir("record");
    let scenario = work.join("ime");
    let recorder = s.recorder(&scenario, &["--name", "氏名入力"]);
    recording(&s.x);
    s.click(field);
    s.ime_on();
    s.x.xdotool(&["type", "--delay", "50", "takahashi"]);
    std::thread::sleep(Duration::from_millis(300));
    // 変換 (space), then 確定 (Enter), each after a pause as a person makes.
    s.x.xdotool(&["key", "space"]);
    std::thread::sleep(Duration::from_millis(700));
    s.x.xdotool(&["key", "Return"]);
    std::thread::sleep(Duration::from_millis(700));
    s.wait_candidates_closed();
    s.click(ok);
    let (code, answered) = finish(first, Duration::from_secs(20));
    assert_eq!(code, Some(0), "zenity was not answered OK");
    assert_eq!(answered, "高橋\n", "the IME did not commit 高橋");
    s.x.xdotool(&["key", "shift+Escape"]);
    ended(recorder).expect(0).stdout_has("ok: ");
    let script = std::fs::read_to_string(scenario.join("main.rhai")).unwrap_or_default();
    assert!(
        script.contains(
            "ui::set_text(#{window: \"申請入力\", role: \"text\", right_of: \"氏名\"}, \"高橋\");"
        ),
        "{script}"
    );
    for absent in ["takahashi", "keyboard::press", "sleep"] {
        assert!(!script.contains(absent), "{absent} in\n{script}");
    }

    // The replay with the IME on: ui::set_text sets the value itself, so nothing goes through
    // the composition.
    let again = form();
    s.ime_on();
    s.run(&scenario).expect(0);
    let (code, replayed) = finish(again, Duration::from_secs(20));
    assert_eq!(code, Some(0), "the replay did not answer OK");
    assert_eq!(replayed, answered);
}

#[test]
fn text_typed_by_kuroko_with_the_ime_on_arrives_exactly_and_the_ime_is_on_again_after() {
    let s = ImeSession::start("x11_ime_paste");
    let answer = s.zenity_form(&["氏名"]);
    s.ime_on();
    let work = s.work_dir("paste");
    let scenario = scenario(
        &work,
        "paste",
        MANIFEST,
        r#"let field = #{ window: "申請入力", role: "text", right_of: "氏名" };
ui::click(field);
keyboard::type_text("R7-0042 abc ");
keyboard::type_text("髙橋 𠮷男");
keyboard::type_text("深谷市仲町１１－１", #{ method: "paste" });
ui::click(#{ window: "申請入力", role: "button", name: "OK" });
"#,
    );
    crate::support::ime::give_to_session_user(&work);
    s.run(&scenario).expect(0);
    let (code, out) = finish(answer, Duration::from_secs(20));
    assert_eq!(code, Some(0), "zenity was not answered OK");
    assert_eq!(out, "R7-0042 abc 髙橋 𠮷男深谷市仲町１１－１\n");
    // kuroko turned the IME off for its keys and on again when the run ended.
    assert!(s.ime_is_on(), "the IME was left off");
}
