//! 受付システム for Windows — the Win32 twin of `examples/intake-app.py`, for kuroko.exe to
//! automate in the Windows demo and tests: real Win32 edit controls and buttons, 新規/登録/照会,
//! a slow save like a busy server, and every registration appended to a file this program owns
//! (one JSON object per line, synced before "登録しました" shows). Like many real systems it
//! does not refuse a number registered before: entering one twice is the robot's mistake.
//!
//! A second mode, `--lines OUT TITLE`, is a one-field window for typing tests: Enter appends
//! the field's text and a newline to OUT and empties the field; Escape closes the window.
//!
//! Usage: win32-intake REGISTRATIONS.jsonl [--save-delay SECONDS]
//!        win32-intake --lines OUT.txt TITLE

#[cfg(not(windows))]
fn main() {
    eprintln!("win32-intake is a Windows program: build it for x86_64-pc-windows-gnu");
    std::process::exit(2);
}

#[cfg(windows)]
fn main() {
    app::main();
}

#[cfg(windows)]
mod app {
    use std::cell::RefCell;
    use std::io::Write;
    use std::path::PathBuf;

    use windows_sys::Win32::Foundation::{COLORREF, HWND, LPARAM, LRESULT, WPARAM};
    use windows_sys::Win32::Graphics::Gdi::{
        COLOR_BTNFACE, CreateFontW, DEFAULT_CHARSET, GetSysColorBrush, HBRUSH, HDC, HFONT,
        SetBkMode, SetTextColor, TRANSPARENT,
    };
    use windows_sys::Win32::System::LibraryLoader::GetModuleHandleW;
    use windows_sys::Win32::UI::HiDpi::{
        DPI_AWARENESS_CONTEXT_PER_MONITOR_AWARE_V2, SetProcessDpiAwarenessContext,
    };
    use windows_sys::Win32::UI::Input::KeyboardAndMouse::{
        EnableWindow, GetAsyncKeyState, GetKeyState, SetFocus,
    };
    use windows_sys::Win32::UI::WindowsAndMessaging::*;

    const ID_LOOKUP: usize = 100;
    const ID_NEW: usize = 101;
    const ID_SAVE: usize = 102;
    const TIMER_SAVE: usize = 1;
    const FIELDS: [(&str, &str); 5] = [
        ("受付番号", "number"),
        ("氏名", "name"),
        ("フリガナ", "kana"),
        ("生年月日", "born"),
        ("住所", "address"),
    ];
    const EM_SETSEL: u32 = 0x00B1;

    #[derive(Default)]
    struct App {
        main: usize,
        font: usize,
        lookup: usize,
        look_button: usize,
        edits: Vec<usize>,
        new_button: usize,
        save_button: usize,
        status: usize,
        status_color: COLORREF,
        /// The values being saved while the slow save runs.
        pending: Option<Vec<(String, String)>>,
        registrations: PathBuf,
        delay_ms: u32,
        /// `--lines` mode: the output file.
        lines: Option<PathBuf>,
    }

    thread_local! {
        static APP: RefCell<App> = RefCell::new(App::default());
    }

    fn wide(s: &str) -> Vec<u16> {
        s.encode_utf16().chain(std::iter::once(0)).collect()
    }

    fn h(v: usize) -> HWND {
        v as HWND
    }

    fn text_of(hwnd: usize) -> String {
        // SAFETY: reads a control's text into a buffer of its length.
        unsafe {
            let len = GetWindowTextLengthW(h(hwnd));
            let mut buf = vec![0u16; len.max(0) as usize + 1];
            let got = GetWindowTextW(h(hwnd), buf.as_mut_ptr(), buf.len() as i32);
            String::from_utf16_lossy(&buf[..got.max(0) as usize])
        }
    }

    fn set_text(hwnd: usize, text: &str) {
        // SAFETY: a NUL-terminated string that outlives the call.
        unsafe { SetWindowTextW(h(hwnd), wide(text).as_ptr()) };
    }

    fn control(
        parent: HWND,
        class: &str,
        text: &str,
        style: u32,
        ex: u32,
        rect: (i32, i32, i32, i32),
        id: usize,
        font: usize,
    ) -> usize {
        // SAFETY: creates a child control of `parent` and gives it the font.
        unsafe {
            let hwnd = CreateWindowExW(
                ex,
                wide(class).as_ptr(),
                wide(text).as_ptr(),
                WS_CHILD | WS_VISIBLE | style,
                rect.0,
                rect.1,
                rect.2,
                rect.3,
                parent,
                id as _,
                GetModuleHandleW(std::ptr::null()),
                std::ptr::null(),
            );
            SendMessageW(hwnd, WM_SETFONT, font, 1);
            hwnd as usize
        }
    }

    fn say(app: &mut App, text: &str, color: COLORREF) {
        app.status_color = color;
        set_text(app.status, text);
    }

    fn rgb(r: u8, g: u8, b: u8) -> COLORREF {
        u32::from(r) | (u32::from(g) << 8) | (u32::from(b) << 16)
    }

    fn set_editing(app: &App, on: bool) {
        // SAFETY: enables or disables controls of this window.
        unsafe {
            for e in &app.edits {
                EnableWindow(h(*e), i32::from(on));
            }
            EnableWindow(h(app.save_button), i32::from(on));
        }
    }

    fn build(app: &mut App, hwnd: HWND) {
        let font = app.font;
        let es = (ES_AUTOHSCROLL as u32) | WS_BORDER;
        if app.lines.is_some() {
            app.edits.push(control(
                hwnd,
                "EDIT",
                "",
                es | WS_TABSTOP,
                0,
                (12, 12, 860, 30),
                1,
                font,
            ));
            return;
        }
        control(hwnd, "STATIC", "照会", 0, 0, (12, 16, 60, 24), 0, font);
        app.lookup = control(hwnd, "EDIT", "", es, 0, (80, 12, 300, 28), 2, font);
        app.look_button = control(
            hwnd,
            "BUTTON",
            "照会",
            BS_PUSHBUTTON as u32,
            0,
            (396, 9, 96, 34),
            ID_LOOKUP,
            font,
        );
        for (i, (label, _)) in FIELDS.iter().enumerate() {
            let y = 60 + i as i32 * 38;
            control(hwnd, "STATIC", label, 0, 0, (12, y + 4, 100, 24), 0, font);
            app.edits.push(control(
                hwnd,
                "EDIT",
                "",
                es | WS_TABSTOP,
                0,
                (120, y, 420, 28),
                10 + i,
                font,
            ));
        }
        app.new_button = control(
            hwnd,
            "BUTTON",
            "新規",
            BS_PUSHBUTTON as u32,
            0,
            (336, 254, 96, 34),
            ID_NEW,
            font,
        );
        app.save_button = control(
            hwnd,
            "BUTTON",
            "登録",
            BS_PUSHBUTTON as u32,
            0,
            (444, 254, 96, 34),
            ID_SAVE,
            font,
        );
        app.status = control(
            hwnd,
            "STATIC",
            "「新規」で入力を始めます",
            0,
            0,
            (12, 300, 600, 28),
            0,
            font,
        );
        app.status_color = rgb(0x0b, 0x0c, 0x0c);
        set_editing(app, false);
    }

    fn half_kana(s: &str) -> bool {
        !s.is_empty()
            && s.chars()
                .all(|c| ('\u{ff66}'..='\u{ff9f}').contains(&c) || c == ' ')
    }

    fn wareki(s: &str) -> bool {
        let b = s.as_bytes();
        b.len() == 9
            && b"MTSHR".contains(&b[0])
            && b[3] == b'/'
            && b[6] == b'/'
            && [1, 2, 4, 5, 7, 8].iter().all(|i| b[*i].is_ascii_digit())
    }

    fn do_new(app: &mut App) {
        for e in &app.edits {
            set_text(*e, "");
        }
        set_editing(app, true);
        // SAFETY: focuses a control of this window.
        unsafe { SetFocus(h(app.edits[0])) };
        say(app, "新規入力中", rgb(0x1d, 0x70, 0xb8));
    }

    fn do_save(app: &mut App) {
        let values: Vec<(String, String)> = FIELDS
            .iter()
            .zip(&app.edits)
            .map(|((label, _), e)| (label.to_string(), text_of(*e)))
            .collect();
        let get = |k: &str| {
            values
                .iter()
                .find(|(l, _)| l == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let problem = if get("受付番号").trim().is_empty()
            || get("氏名").trim().is_empty()
            || get("住所").trim().is_empty()
        {
            Some("受付番号・氏名・住所は必須です")
        } else if !half_kana(&get("フリガナ")) {
            Some("フリガナは半角カナで入力してください")
        } else if !wareki(&get("生年月日")) {
            Some("生年月日は和暦（例 S50/01/01）で入力してください")
        } else {
            None
        };
        if let Some(problem) = problem {
            say(app, &format!("エラー: {problem}"), rgb(0xd4, 0x35, 0x1c));
            return;
        }
        set_editing(app, false);
        // SAFETY: controls and a timer of this window.
        unsafe {
            EnableWindow(h(app.new_button), 0);
            SetTimer(h(app.main), TIMER_SAVE, app.delay_ms.max(1), None);
        }
        app.pending = Some(values);
        say(app, "登録中…", rgb(0x50, 0x5a, 0x5f));
    }

    fn finish_save(app: &mut App) {
        // SAFETY: the timer set by do_save.
        unsafe { KillTimer(h(app.main), TIMER_SAVE) };
        let Some(values) = app.pending.take() else {
            return;
        };
        let mut object = serde_json::Map::new();
        for (k, v) in values {
            object.insert(k, serde_json::Value::String(v));
        }
        object.insert(
            "registered_at".into(),
            serde_json::Value::String(chrono::Local::now().format("%Y-%m-%dT%H:%M:%S").to_string()),
        );
        let line = serde_json::Value::Object(object).to_string() + "\n";
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&app.registrations)
            .and_then(|mut f| {
                f.write_all(line.as_bytes())?;
                f.sync_all()
            });
        // SAFETY: a control of this window.
        unsafe { EnableWindow(h(app.new_button), 1) };
        match written {
            Ok(()) => say(app, "登録しました", rgb(0x00, 0x70, 0x3c)),
            Err(e) => say(
                app,
                &format!("エラー: 保存できません ({e})"),
                rgb(0xd4, 0x35, 0x1c),
            ),
        }
    }

    fn do_lookup(app: &mut App) {
        let number = text_of(app.lookup).trim().to_string();
        let found = std::fs::read_to_string(&app.registrations)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .any(|v| v["受付番号"].as_str() == Some(number.as_str()));
        if found {
            say(app, "照会結果：登録済み", rgb(0x00, 0x70, 0x3c));
        } else {
            say(app, "照会結果：未登録", rgb(0xd4, 0x35, 0x1c));
        }
    }

    /// `--lines` mode: Enter writes the line out and empties the field.
    fn line_entered(app: &App) {
        if let Some(out) = &app.lines {
            let text = text_of(app.edits[0]);
            let ok = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(out)
                .and_then(|mut f| f.write_all(format!("{text}\n").as_bytes()));
            if ok.is_ok() {
                set_text(app.edits[0], "");
            }
        }
    }

    /// `--lines` mode, on Escape: a last line naming every key Windows still sees held (besides
    /// Escape itself), so a test can tell that a stopped run released its keys.
    fn write_held(app: &App) {
        let held: Vec<String> = (0x08..=0xFEu16)
            .filter(|vk| ![0x1B].contains(vk))
            // SAFETY: a plain query.
            .filter(|vk| unsafe { GetAsyncKeyState(i32::from(*vk)) } < 0)
            .map(|vk| format!("{vk:#04x}"))
            .collect();
        if let Some(out) = &app.lines {
            let _ = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(out)
                .and_then(|mut f| f.write_all(format!("held:{}\n", held.join(",")).as_bytes()));
        }
    }

    unsafe extern "system" fn window_proc(
        hwnd: HWND,
        msg: u32,
        wparam: WPARAM,
        lparam: LPARAM,
    ) -> LRESULT {
        // SAFETY: the window procedure of this program's main window, on its one thread.
        unsafe {
            match msg {
                WM_CREATE => {
                    APP.with(|a| {
                        let mut app = a.borrow_mut();
                        app.main = hwnd as usize;
                        build(&mut app, hwnd);
                    });
                    0
                }
                WM_COMMAND => {
                    let (id, code) = (wparam & 0xFFFF, (wparam >> 16) & 0xFFFF);
                    // Notifications sent while this program changes a control (EN_CHANGE from
                    // SetWindowText) arrive with the state borrowed: only clicks act.
                    APP.with(|a| {
                        let Ok(mut app) = a.try_borrow_mut() else {
                            return;
                        };
                        if code != BN_CLICKED as usize {
                            return;
                        }
                        match id {
                            ID_NEW => do_new(&mut app),
                            ID_SAVE => do_save(&mut app),
                            ID_LOOKUP => do_lookup(&mut app),
                            _ => {}
                        }
                    });
                    0
                }
                WM_TIMER if wparam == TIMER_SAVE => {
                    APP.with(|a| {
                        if let Ok(mut app) = a.try_borrow_mut() {
                            finish_save(&mut app);
                        }
                    });
                    0
                }
                WM_CTLCOLORSTATIC => {
                    let color = APP.with(|a| {
                        let app = a.try_borrow().ok()?;
                        (lparam as usize == app.status).then_some(app.status_color)
                    });
                    let dc = wparam as HDC;
                    SetBkMode(dc, TRANSPARENT as i32);
                    SetTextColor(dc, color.unwrap_or(rgb(0x0b, 0x0c, 0x0c)));
                    GetSysColorBrush(COLOR_BTNFACE) as LRESULT
                }
                WM_DESTROY => {
                    PostQuitMessage(0);
                    0
                }
                _ => DefWindowProcW(hwnd, msg, wparam, lparam),
            }
        }
    }

    pub fn main() {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let mut app = App {
            delay_ms: 400,
            ..Default::default()
        };
        let title;
        match args.first().map(String::as_str) {
            Some("--lines") if args.len() == 3 => {
                app.lines = Some(PathBuf::from(&args[1]));
                title = args[2].clone();
            }
            Some(path) if !path.starts_with('-') => {
                app.registrations = PathBuf::from(path);
                if let Some(i) = args.iter().position(|a| a == "--save-delay") {
                    let seconds: f64 = args.get(i + 1).and_then(|s| s.parse().ok()).unwrap_or(0.4);
                    app.delay_ms = (seconds.clamp(0.0, 60.0) * 1000.0) as u32;
                }
                title = "受付システム — 住民票交付申請".to_string();
            }
            _ => {
                eprintln!(
                    "usage: win32-intake REGISTRATIONS.jsonl [--save-delay SECONDS]\n       win32-intake --lines OUT.txt TITLE"
                );
                std::process::exit(2);
            }
        }
        // SAFETY: the program's one UI thread: class, font, window and message loop.
        unsafe {
            SetProcessDpiAwarenessContext(DPI_AWARENESS_CONTEXT_PER_MONITOR_AWARE_V2);
            // The font is pinned, as a business system on one PC has it, so the scenario's button
            // pictures stay right.
            let font: HFONT = CreateFontW(
                -15,
                0,
                0,
                0,
                400,
                0,
                0,
                0,
                DEFAULT_CHARSET as u32,
                0,
                0,
                0,
                0,
                wide("Droid Sans Fallback").as_ptr(),
            );
            app.font = font as usize;
            let lines_mode = app.lines.is_some();
            APP.with(|a| *a.borrow_mut() = app);
            let instance = GetModuleHandleW(std::ptr::null());
            let class = wide("kuroko-intake");
            let wc = WNDCLASSW {
                lpfnWndProc: Some(window_proc),
                hInstance: instance,
                lpszClassName: class.as_ptr(),
                hbrBackground: GetSysColorBrush(COLOR_BTNFACE) as HBRUSH,
                hCursor: LoadCursorW(std::ptr::null_mut(), IDC_ARROW),
                ..std::mem::zeroed()
            };
            RegisterClassW(&wc);
            let (w, hgt) = if lines_mode { (900, 110) } else { (640, 380) };
            let hwnd = CreateWindowExW(
                0,
                class.as_ptr(),
                wide(&title).as_ptr(),
                WS_OVERLAPPED | WS_CAPTION | WS_SYSMENU | WS_MINIMIZEBOX | WS_VISIBLE,
                40,
                40,
                w,
                hgt,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                instance,
                std::ptr::null(),
            );
            if hwnd.is_null() {
                eprintln!("cannot create the window");
                std::process::exit(1);
            }
            let first = APP.with(|a| a.borrow().edits[0]);
            if lines_mode {
                SetFocus(h(first));
            }
            println!("ready");
            let _ = std::io::stdout().flush();
            let mut msg: MSG = std::mem::zeroed();
            while GetMessageW(&mut msg, std::ptr::null_mut(), 0, 0) > 0 {
                if msg.message == WM_KEYDOWN {
                    let ctrl = GetKeyState(0x11) < 0;
                    // Ctrl+A selects the whole field, as in every modern business system.
                    if ctrl && msg.wParam == usize::from(b'A') {
                        SendMessageW(msg.hwnd, EM_SETSEL, 0, -1);
                        continue;
                    }
                    if lines_mode && msg.wParam == 0x0D {
                        APP.with(|a| line_entered(&a.borrow()));
                        continue;
                    }
                    if lines_mode && msg.wParam == 0x1B {
                        APP.with(|a| write_held(&a.borrow()));
                        DestroyWindow(hwnd);
                        continue;
                    }
                }
                if IsDialogMessageW(hwnd, &msg) != 0 {
                    continue;
                }
                TranslateMessage(&msg);
                DispatchMessageW(&msg);
            }
        }
    }
}
