//! `kuroko doctor`: what this PC offers a scenario, checked on the PC itself in a minute —
//! the screen and its scale, capture, the windows, and (on Windows) the IME, the keyboard
//! layout, elevation, a remote session, and a typing self-test in a window of kuroko's own
//! that must read back 髙橋 𠮷野家 ｶﾞｯｺｳ exactly. The findings are in Japanese for the office.

use super::{Backend, Desktop};

/// The text the typing self-test types and reads back: a rare kanji, a character outside the
/// BMP (a surrogate pair) and half-width kana with a voiced mark.
pub const PROBE_TEXT: &str = "髙橋 𠮷野家 ｶﾞｯｺｳ";

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    /// Works, but something may trouble scenarios (e.g. a display scale other than 100 %).
    Note,
    Fail,
    /// Facts without a verdict.
    Info,
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub verdict: Verdict,
    /// What was checked (Japanese, short).
    pub topic: String,
    /// What was found and, when it matters, what to do.
    pub detail: String,
}

impl Finding {
    pub fn new(verdict: Verdict, topic: &str, detail: impl Into<String>) -> Self {
        Finding {
            verdict,
            topic: topic.into(),
            detail: detail.into(),
        }
    }
}

/// Examines this PC through its real desktop.
pub fn examine() -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut desktop = match super::connect_real() {
        Ok(d) => d,
        Err(e) => {
            findings.push(Finding::new(
                Verdict::Fail,
                "デスクトップ",
                format!("接続できません: {e}"),
            ));
            return findings;
        }
    };
    findings.push(Finding::new(
        Verdict::Info,
        "デスクトップ",
        format!(
            "{}（{}）",
            backend_name(desktop.backend),
            std::env::consts::OS
        ),
    ));
    screen(&mut desktop, &mut findings);
    windows(&mut desktop, &mut findings);
    #[cfg(windows)]
    super::win32::doctor::examine(&mut desktop, &mut findings);
    #[cfg(not(windows))]
    findings.push(Finding::new(
        Verdict::Info,
        "入力の自己診断",
        "Windows で行います（Linux では scripts/test.sh が GTK と Qt の画面で確かめます）",
    ));
    findings
}

fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Windows => "Windows（SendInput、GDI）",
        Backend::X11 => "X11",
        Backend::Fake => "仮想",
    }
}

fn screen(desktop: &mut Desktop, findings: &mut Vec<Finding>) {
    match desktop.screen.size() {
        Ok((w, h)) => findings.push(Finding::new(
            Verdict::Ok,
            "画面",
            format!("{w}×{h} ピクセル"),
        )),
        Err(e) => {
            findings.push(Finding::new(Verdict::Fail, "画面", e.to_string()));
            return;
        }
    }
    match desktop.screen.capture() {
        Ok(image) => {
            let first = image.get_pixel(0, 0);
            if image.pixels().all(|p| p == first) {
                findings.push(Finding::new(
                    Verdict::Note,
                    "画面の取り込み",
                    "一色だけの画像でした。画面がロックされているか、リモートデスクトップが最小化されていると画像認識は動きません",
                ));
            } else {
                findings.push(Finding::new(
                    Verdict::Ok,
                    "画面の取り込み",
                    "取り込めました",
                ));
            }
        }
        Err(e) => findings.push(Finding::new(Verdict::Fail, "画面の取り込み", e.to_string())),
    }
}

fn windows(desktop: &mut Desktop, findings: &mut Vec<Finding>) {
    match desktop.windows.list() {
        Ok(list) => findings.push(Finding::new(
            Verdict::Ok,
            "ウィンドウ一覧",
            format!("{} 個のウィンドウが見えます", list.len()),
        )),
        Err(e) => findings.push(Finding::new(Verdict::Fail, "ウィンドウ一覧", e.to_string())),
    }
}
