//! With a window manager running (openbox), windows are listed and activated through EWMH:
//! activating the window behind brings it forward and the keys land in it.

use std::time::{Duration, Instant};

use crate::support::*;

#[allow(clippy::zombie_processes)]
fn start_openbox(x: &Xvfb) -> std::process::Child {
    let mut wm = x
        .command("openbox")
        .arg("--sm-disable")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Ready when it has announced itself on the root window.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let out = x
            .command("xprop")
            .args(["-root", "_NET_SUPPORTING_WM_CHECK"])
            .output()
            .unwrap();
        if String::from_utf8_lossy(&out.stdout).contains("window id") {
            return wm;
        }
        if Instant::now() > deadline {
            let _ = wm.kill();
            let _ = wm.wait();
            panic!("openbox did not start");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
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
