//! Typing into a real GTK entry (`zenity --entry`) on $DISPLAY, as the peers' typing script
//! does with xdotool and pyautogui: the same 200 ASCII characters and the same Japanese string,
//! plus a 1,000-character Japanese text, each into a fresh entry; time to type and whether
//! exactly that text arrived. One JSON line per case (median of REPS).
//! On Windows the entry is a Win32 edit control (examples/win32-intake.rs `--lines`, named by
//! KUROKO_INTAKE_EXE), which writes each line it gets to a file.
//! Usage: cargo bench --bench typing [-- REPS]   (needs DISPLAY; scripts/bench.sh starts Xvfb;
//! scripts/bench-windows.sh runs it under Wine)

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kuroko::desktop::typing::{self, Method, Saved};
use kuroko::desktop::{self, Key, NamedKey};

fn main() {
    let reps: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    let ascii: String = (1..=6)
        .map(|i| format!("Fukaya City resident record {i:03}; "))
        .collect::<String>()
        .chars()
        .take(200)
        .collect();
    let japanese = "深谷市花園１－２－３ 髙橋 𠮷田 ㈱ ｶﾞｯｺｳ 令和6年4月1日".to_string();
    let long: String = "埼玉県深谷市仲町１１－１ 髙橋𠮷男 ㈱深谷商事 ｶﾞｯｺｳ ①②③ 〒３６６－８５０１ "
        .repeat(30)
        .chars()
        .take(1000)
        .collect();
    let mut desktop = desktop::connect_real().expect("a display (DISPLAY) is needed");
    for (case, text) in [
        ("ascii200", &ascii),
        ("japanese", &japanese),
        ("japanese1000", &long),
    ] {
        let mut times = Vec::new();
        let mut exact = true;
        let mut method = "";
        for _ in 0..reps {
            let entry = Entry::open(&mut desktop);
            let pieces = typing::plan(text, Method::Auto, &mut |c| desktop.keyboard.has_key_for(c));
            method = if pieces.iter().any(|p| matches!(p, typing::Piece::Paste(_))) {
                "paste"
            } else {
                "keys"
            };
            let mut saved = Saved::default();
            let t0 = Instant::now();
            for piece in &pieces {
                typing::perform(&mut desktop, piece, &mut saved).unwrap();
            }
            times.push(t0.elapsed().as_secs_f64());
            saved.restore(&mut desktop).unwrap();
            std::thread::sleep(Duration::from_millis(200));
            desktop
                .keyboard
                .key_down(Key::Named(NamedKey::Enter))
                .unwrap();
            desktop
                .keyboard
                .key_up(Key::Named(NamedKey::Enter))
                .unwrap();
            exact &= entry.received() == text.as_str();
        }
        times.sort_by(f64::total_cmp);
        let s = times[times.len() / 2];
        let chars = text.chars().count();
        println!(
            "{{\"area\": \"typing\", \"tool\": \"kuroko-{method}\", \"case\": \"{case}\", \"chars\": {chars}, \"ms\": {:.1}, \"chars_per_s\": {:.1}, \"exact\": {exact}, \"reps\": {reps}}}",
            s * 1000.0,
            chars as f64 / s
        );
    }
}

/// A fresh text field on the desktop, activated, and what it received after Enter.
struct Entry {
    child: std::process::Child,
    #[cfg(windows)]
    out: std::path::PathBuf,
}

fn find_and_activate(desktop: &mut desktop::Desktop, title: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let window = loop {
        if let Ok(Some(w)) = desktop.windows.find(title) {
            break w;
        }
        assert!(Instant::now() < deadline, "no window {title:?}");
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(Duration::from_millis(300));
    desktop.windows.activate(&window).unwrap();
}

impl Entry {
    #[cfg(not(windows))]
    fn open(desktop: &mut desktop::Desktop) -> Entry {
        let child = Command::new("zenity")
            .args(["--entry", "--title=kuroko-bench", "--text=kuroko-bench"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("zenity");
        find_and_activate(desktop, "kuroko-bench");
        Entry { child }
    }

    #[cfg(not(windows))]
    fn received(mut self) -> String {
        use std::io::Read;
        let mut got = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut got)
            .unwrap();
        let _ = self.child.wait();
        got.trim_end_matches('\n').to_string()
    }

    #[cfg(windows)]
    fn open(desktop: &mut desktop::Desktop) -> Entry {
        let exe = std::env::var("KUROKO_INTAKE_EXE")
            .expect("KUROKO_INTAKE_EXE: the Win32 intake program");
        let out =
            std::env::temp_dir().join(format!("kuroko-bench-typing-{}.txt", std::process::id()));
        let _ = std::fs::remove_file(&out);
        let child = Command::new(exe)
            .arg("--lines")
            .arg(&out)
            .arg("kuroko-bench")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("win32-intake");
        find_and_activate(desktop, "kuroko-bench");
        Entry { child, out }
    }

    #[cfg(windows)]
    fn received(mut self) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        let got = loop {
            if let Ok(text) = std::fs::read_to_string(&self.out)
                && text.ends_with('\n')
            {
                break text;
            }
            if Instant::now() > deadline {
                break String::new();
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.out);
        got.trim_end_matches('\n').to_string()
    }
}
