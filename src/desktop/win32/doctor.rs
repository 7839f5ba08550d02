//! The Windows part of `kuroko doctor`: display scale, IME, keyboard layout, elevation, remote
//! session, and the typing self-test — kuroko opens a window with an edit control of its own,
//! types the probe text into it through the same SendInput path scenarios use, and reads it
//! back with WM_GETTEXT, so a PC where input or the IME mangles text is found before a run.

use std::time::{Duration, Instant};

use windows_sys::Win32::Foundation::{HWND, LPARAM, LRESULT, WPARAM};
use windows_sys::Win32::System::LibraryLoader::GetModuleHandleW;
use windows_sys::Win32::UI::HiDpi::{GetDpiForSystem, GetDpiForWindow};
use windows_sys::Win32::UI::Input::KeyboardAndMouse::{GetKeyboardLayout, SetFocus};
use windows_sys::Win32::UI::WindowsAndMessaging::{
    CreateWindowExW, DefWindowProcW, DestroyWindow, DispatchMessageW, GetSystemMetrics, MSG,
    PM_REMOVE, PeekMessageW, PostQuitMessage, SM_REMOTESESSION, SetForegroundWindow,
    TranslateMessage, WM_DESTROY, WS_BORDER, WS_CAPTION, WS_CHILD, WS_OVERLAPPED, WS_VISIBLE,
};

use super::{GdiScreen, window_title};
use crate::desktop::doctor::{Finding, PROBE_TEXT, Verdict};
use crate::desktop::{Desktop, Rect, Screen};

const TITLE: &str = "kuroko doctor — 入力の自己診断";

pub fn examine(desktop: &mut Desktop, findings: &mut Vec<Finding>) {
    // SAFETY: plain queries.
    let (dpi, remote, layout) = unsafe {
        (
            GetDpiForSystem(),
            GetSystemMetrics(SM_REMOTESESSION) != 0,
            GetKeyboardLayout(0) as usize & 0xFFFF,
        )
    };
    let scale = dpi * 100 / 96;
    findings.push(if scale == 100 {
        Finding::new(Verdict::Ok, "表示の拡大率", "100%")
    } else {
        Finding::new(
            Verdict::Note,
            "表示の拡大率",
            format!(
                "{scale}%。kuroko は実際のピクセルで動きます。画像はこの拡大率の PC で切り取ってください（別の拡大率の PC の画像は見つかりません）"
            ),
        )
    });
    findings.push(Finding::new(
        Verdict::Info,
        "キーボード",
        match layout {
            0x0411 => "日本語 (0x0411)".to_string(),
            other => {
                format!("言語 {other:#06x}（日本語は 0x0411）。文字は配列に関係なく入力されます")
            }
        },
    ));
    findings.push(match super::uipi::own_level() {
        Some(level) if level >= 0x3000 => Finding::new(
            Verdict::Note,
            "管理者権限",
            "kuroko は管理者として動いています。ふだんは不要です（管理者として動くアプリを操作するときだけ必要です）",
        ),
        Some(_) => Finding::new(
            Verdict::Info,
            "管理者権限",
            "なし（管理者として動くアプリには入力できません。そのときは kuroko がそう伝えます）",
        ),
        None => Finding::new(Verdict::Info, "管理者権限", "確かめられません"),
    });
    findings.push(Finding::new(
        Verdict::Info,
        "リモートデスクトップ",
        if remote {
            "リモートセッションです。ウィンドウを最小化したり切断したりすると入力も画面の取り込みも止まります"
        } else {
            "ローカルのセッションです"
        },
    ));
    let ime = super::ime::open_status(None);
    findings.push(Finding::new(
        Verdict::Info,
        "IME",
        match ime {
            Some(true) => {
                "前面のウィンドウで オン。kuroko は入力する間だけオフにし、あとで元に戻します"
            }
            Some(false) => "前面のウィンドウで オフ",
            None => "前面のウィンドウに IME はありません",
        },
    ));
    findings.push(typing_self_test(desktop));
}

unsafe extern "system" fn window_proc(
    hwnd: HWND,
    msg: u32,
    wparam: WPARAM,
    lparam: LPARAM,
) -> LRESULT {
    // SAFETY: the default handling of kuroko's own self-test window.
    unsafe {
        if msg == WM_DESTROY {
            PostQuitMessage(0);
            return 0;
        }
        DefWindowProcW(hwnd, msg, wparam, lparam)
    }
}

/// Runs this thread's messages for `time`.
fn pump(time: Duration) {
    let until = Instant::now() + time;
    // SAFETY: this thread's own queue.
    unsafe {
        let mut msg: MSG = std::mem::zeroed();
        while Instant::now() < until {
            while PeekMessageW(&mut msg, std::ptr::null_mut(), 0, 0, PM_REMOVE) != 0 {
                TranslateMessage(&msg);
                DispatchMessageW(&msg);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Opens kuroko's own window, types the probe into its edit control and reads it back.
fn typing_self_test(desktop: &mut Desktop) -> Finding {
    const TOPIC: &str = "入力と読み取り";
    // SAFETY: a window and an edit control of this thread, destroyed before returning; the
    // message loop runs on this thread between steps.
    unsafe {
        let window = super::own_window(
            "kuroko-doctor",
            TITLE,
            WS_OVERLAPPED | WS_CAPTION | WS_VISIBLE,
            std::ptr::null_mut(),
            (60, 60, 520, 140),
            Some(window_proc),
        );
        if window.is_null() {
            return Finding::new(
                Verdict::Fail,
                TOPIC,
                format!("ウィンドウを開けません ({})", super::last_error()),
            );
        }
        let edit_class = super::wide("EDIT");
        let edit = CreateWindowExW(
            0,
            edit_class.as_ptr(),
            std::ptr::null(),
            WS_CHILD | WS_VISIBLE | WS_BORDER,
            10,
            10,
            480,
            30,
            window,
            std::ptr::null_mut(),
            GetModuleHandleW(std::ptr::null()),
            std::ptr::null(),
        );
        pump(Duration::from_millis(200));
        SetForegroundWindow(window);
        SetFocus(edit);
        pump(Duration::from_millis(200));
        let dpi = GetDpiForWindow(window);
        let typed = desktop.keyboard.type_text(PROBE_TEXT);
        // The keys arrive through this thread's queue: let them in.
        let mut got = String::new();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            pump(Duration::from_millis(50));
            got = window_title(edit);
            if got == PROBE_TEXT {
                break;
            }
        }
        let _ = desktop.keyboard.release_all();
        // The typed text on screen: the capture must show something, not a blank.
        let mut rect = windows_sys::Win32::Foundation::RECT {
            left: 0,
            top: 0,
            right: 0,
            bottom: 0,
        };
        windows_sys::Win32::UI::WindowsAndMessaging::GetWindowRect(edit, &mut rect);
        let shown = GdiScreen
            .capture_region(Rect {
                x: rect.left.max(0) as u32,
                y: rect.top.max(0) as u32,
                w: (rect.right - rect.left).max(1) as u32,
                h: (rect.bottom - rect.top).max(1) as u32,
            })
            .map(|img| {
                let first = *img.get_pixel(0, 0);
                img.pixels().any(|p| *p != first)
            });
        DestroyWindow(window);
        pump(Duration::from_millis(50));
        if let Err(e) = typed {
            return Finding::new(Verdict::Fail, TOPIC, format!("入力できません: {e}"));
        }
        if got != PROBE_TEXT {
            return Finding::new(
                Verdict::Fail,
                TOPIC,
                format!(
                    "「{PROBE_TEXT}」を入力しましたが「{got}」が入りました。IME やキーボードの設定を確かめてください"
                ),
            );
        }
        let scale = if dpi > 0 {
            format!("（このウィンドウの拡大率 {}%）", dpi * 100 / 96)
        } else {
            String::new()
        };
        match shown {
            Ok(true) => Finding::new(
                Verdict::Ok,
                TOPIC,
                format!(
                    "自分のウィンドウに「{PROBE_TEXT}」を入力し、同じ文字を読み返しました。画面にも映っています{scale}"
                ),
            ),
            Ok(false) => Finding::new(
                Verdict::Note,
                TOPIC,
                format!(
                    "「{PROBE_TEXT}」は正しく入りましたが、取り込んだ画面には何も映っていません{scale}"
                ),
            ),
            Err(e) => Finding::new(
                Verdict::Fail,
                TOPIC,
                format!("文字は入りましたが画面を取り込めません: {e}"),
            ),
        }
    }
}
