//! With a window manager running (openbox), windows are listed and activated through EWMH:
//! activating the window behind brings it forward and the keys land in it.

use std::time::{Duration, Instant};

use crate::support::*;

/// Starts openbox and waits until it has announced itself on the root window; a start that
/// dies (the X server sometimes drops a client connecting while others start) is retried.
fn start_openbox(x: &Xvfb) -> std::process::Child {
    for _ in 0..3 {
        let mut wm = x
            .command("openbox")
            .arg("--sm-disable")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            let out = x
                .command("xprop")
                .args(["-root", "_NET_SUPPORTING_WM_CHECK"])
                .output()
                .unwrap();
            if String::from_utf8_lossy(&out.stdout).contains("window id") {
                return wm;
            }
            if wm.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = wm.kill();
        let _ = wm.wait();
    }
    panic!("openbox did not start");
}

#[test]
fn activation_goes_through_the_window_manager() {
    let x = Xvfb::start();
    let mut wm = start_openbox(&x);
    let dir = temp_dir("x11_wm");
    let behind = x.zenity(&["--entry", "--title=kuroko-behind"]);
    std::thread::sleep(Duration::from_millis(300));
    let front = x.zenity(&["--entry", "--title=kuroko-front"]);
    let script = r#"
window::wait("kuroko-behind", 20);
window::wait("kuroko-front", 20);
let titles = window::list().map(|w| w.title);
if !titles.contains("kuroko-behind") || !titles.contains("kuroko-front") { fail(`listed: ${titles}`); }
window::activate("kuroko-behind");
keyboard::type_text("to the one behind");
keyboard::press("Enter");
window::activate("kuroko-front");
keyboard::type_text("to the front one");
keyboard::press("Enter");
"#;
    let s = scenario(&dir, "s", MANIFEST, script);
    run_scenario(&s, Some(&x.display), &[]).expect(0);
    let (_, out_behind) = finish(behind, Duration::from_secs(10));
    let (_, out_front) = finish(front, Duration::from_secs(10));
    assert_eq!(out_behind.trim_end(), "to the one behind");
    assert_eq!(out_front.trim_end(), "to the front one");
    let _ = wm.kill();
    let _ = wm.wait();
}
