//! Image search against real windows: the OK button of one zenity dialog, captured as a
//! template, is found and clicked in another dialog laid out differently; a button that reads
//! "0K" instead of "OK" is refused.

use std::process::Child;
use std::time::{Duration, Instant};

use crate::support::*;

fn geometry(x: &Xvfb, title: &str, dialog: &mut Child) -> (u32, u32, u32, u32) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = x
            .command("xdotool")
            .args([
                "search",
                "--onlyvisible",
                "--name",
                title,
                "getwindowgeometry",
                "--shell",
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let get = |k: &str| {
            text.lines().find_map(|l| {
                l.strip_prefix(&format!("{k}="))
                    .and_then(|v| v.parse().ok())
            })
        };
        if let (Some(a), Some(b), Some(c), Some(d)) =
            (get("X"), get("Y"), get("WIDTH"), get("HEIGHT"))
        {
            return (a, b, c, d);
        }
        assert!(Instant::now() < deadline, "no window {title}");
        if let Some(status) = dialog.try_wait().unwrap() {
            panic!("zenity {title} exited with {status} before its window was seen");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn question(x: &Xvfb, title: &str, ok: &str, width: &str) -> Child {
    x.zenity(&[
        "--question",
        &format!("--title={title}"),
        "--text=登録しますか",
        &format!("--ok-label={ok}"),
        "--cancel-label=Cancel",
        &format!("--width={width}"),
    ])
}

/// Captures the OK button (its label and lower edge) of a first dialog as images/ok.png.
fn capture_ok_template(x: &Xvfb, scenario: &std::path::Path) {
    let mut dialog = question(x, "kuroko-capture", "OK", "190");
    let (wx, wy, ww, wh) = geometry(x, "kuroko-capture", &mut dialog);
    std::thread::sleep(Duration::from_millis(300)); // let it finish drawing
    let shot = scenario.join("full.png");
    assert!(
        x.command("import")
            .args(["-window", "root"])
            .arg(&shot)
            .status()
            .unwrap()
            .success()
    );
    let full = image::open(&shot).unwrap().to_rgba8();
    let ok = image::imageops::crop_imm(&full, wx + ww - 66, wy + wh - 32, 40, 24).to_image();
    ok.save(scenario.join("images/ok.png")).unwrap();
    let _ = dialog.kill();
    let _ = dialog.wait();
}

#[test]
fn the_ok_button_is_found_by_image_and_clicked_and_a_look_alike_is_refused() {
    let x = Xvfb::start();
    let dir = temp_dir("x11_images");
    let click = scenario(
        &dir,
        "click",
        MANIFEST,
        "window::wait(\"kuroko-confirm\", 20);\nsleep(300);\nlet m = screen::click_image(\"images/ok.png\");\nlog::info(`clicked at ${m.cx},${m.cy} score ${m.score}`);\n",
    );
    capture_ok_template(&x, &click);

    // A wider dialog: the button is elsewhere; clicking it makes zenity return 0 (OK).
    let confirm = question(&x, "kuroko-confirm", "OK", "420");
    run_scenario(&click, Some(&x.display), &[])
        .expect(0)
        .stderr_has("clicked at");
    let (code, _) = finish(confirm, Duration::from_secs(10));
    assert_eq!(code, Some(0), "zenity was not answered OK");

    // "0K" (zero) instead of "OK": not found, nothing clicked, the dialog stays open.
    let mut lookalike = question(&x, "kuroko-lookalike", "0K", "420");
    let refuse = scenario(
        &dir,
        "refuse",
        MANIFEST,
        "window::wait(\"kuroko-lookalike\", 20);\nsleep(300);\nif screen::exists(\"images/ok.png\") { fail(\"matched the look-alike\"); }\nscreen::click_image(\"images/ok.png\", #{ timeout_s: 0.5 });\n",
    );
    std::fs::copy(click.join("images/ok.png"), refuse.join("images/ok.png")).unwrap();
    run_scenario(&refuse, Some(&x.display), &[])
        .expect(1)
        .stderr_has("main.rhai:4:9: images/ok.png was not found within 0.5 s, so nothing was clicked (best score")
        .stderr_has("the screen is saved in");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        lookalike.try_wait().unwrap().is_none(),
        "the look-alike dialog was answered"
    );
    let _ = lookalike.kill();
    let _ = lookalike.wait();
}

#[test]
fn image_functions_report_bad_input_with_positions() {
    let dir = temp_dir("images_bad_input");
    let cases = [
        (
            "screen::find(\"images/missing.png\");",
            "main.rhai:1:9: file not found: \"images/missing.png\"",
        ),
        (
            "screen::find(\"images/t.png\", #{ confidense: 0.9 });",
            "unknown option `confidense` (did you mean `confidence`?)",
        ),
        (
            "screen::find(\"images/t.png\", #{ confidence: 1.5 });",
            "confidence = 1.5 must be between 0 and 1",
        ),
        (
            "screen::find(\"images/t.png\", #{ scales: \"big\" });",
            "option scales: \"big\"",
        ),
        (
            "screen::find(\"images/t.png\", #{ region: #{ x: 1900, y: 0, w: 100, h: 100 } });",
            "is not inside the 1920x1080 screen",
        ),
        (
            "screen::find(\"images/broken.png\");",
            "cannot read the image \"images/broken.png\"",
        ),
        (
            "screen::find(\"/etc/passwd\");",
            "reading \"/etc/passwd\" is not allowed",
        ),
    ];
    for (i, (script, expected)) in cases.iter().enumerate() {
        let s = scenario(&dir, &format!("s{i}"), MANIFEST, script);
        image::RgbaImage::from_fn(20, 10, |x, y| {
            image::Rgba([(x * 12) as u8, (y * 25) as u8, 0, 255])
        })
        .save(s.join("images/t.png"))
        .unwrap();
        std::fs::write(s.join("images/broken.png"), b"\x89PNG not really").unwrap();
        // --screen: a real picture as the fake screen, so searches really run in a dry run.
        let screen = s.join("screen.png");
        image::RgbaImage::from_pixel(1920, 1080, image::Rgba([50, 50, 50, 255]))
            .save(&screen)
            .unwrap();
        run_scenario(
            &s,
            None,
            &["--dry-run", "--screen", screen.to_str().unwrap()],
        )
        .expect(1)
        .stderr_has(expected);
    }
}

#[test]
fn a_dry_run_without_a_screen_picture_pretends_images_are_there() {
    let dir = temp_dir("images_dry_run");
    let s = scenario(
        &dir,
        "s",
        MANIFEST,
        "let m = screen::click_image(\"images/t.png\");\nif m.cx != 960 || m.cy != 540 { fail(`at ${m.cx},${m.cy}`); }\nscreen::wait_gone(\"images/t.png\");\n",
    );
    image::RgbaImage::from_fn(20, 10, |x, y| {
        image::Rgba([(x * 12) as u8, (y * 25) as u8, 0, 255])
    })
    .save(s.join("images/t.png"))
    .unwrap();
    run_scenario(&s, None, &["--dry-run"])
        .expect(0)
        .stderr_has("dry run: pretending images/t.png is on the screen")
        .stderr_has("click_image images/t.png at 960 540");
}
