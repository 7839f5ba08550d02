//! `ui::` on Windows through the Win32 control tree: every child window of a top-level window
//! is a control (EDIT, BUTTON, STATIC, COMBOBOX… and their VB6 and WinForms variants), read and
//! driven with window messages (WM_GETTEXT, WM_SETTEXT, BM_CLICK). It covers the classic
//! clients many 基幹系 terminals still are, and Wine runs it. UI Automation would plug in beside
//! it behind the same trait; Wine's is stubs, so none ships untested.

use std::cell::Cell;

use windows_sys::Win32::Foundation::{HWND, LPARAM, RECT, WPARAM};
use windows_sys::Win32::UI::Input::KeyboardAndMouse::IsWindowEnabled;
use windows_sys::Win32::UI::WindowsAndMessaging::{
    BM_CLICK, EnumChildWindows, GA_ROOT, GUITHREADINFO, GW_HWNDPREV, GWL_STYLE, GetAncestor,
    GetClassNameW, GetDlgCtrlID, GetForegroundWindow, GetGUIThreadInfo, GetParent, GetWindow,
    GetWindowLongPtrW, GetWindowRect, GetWindowThreadProcessId, IsHungAppWindow, IsWindow,
    IsWindowVisible, SMTO_ABORTIFHUNG, SendMessageTimeoutW, WM_GETTEXT, WM_GETTEXTLENGTH,
    WM_SETTEXT,
};

use crate::desktop::ui::{Control, Controls, Role};
use crate::desktop::{DResult, DesktopError, Rect, Windows};

/// Edit styles (winuser.h): a password field, a read-only one.
const ES_PASSWORD: u32 = 0x0020;
const ES_READONLY: u32 = 0x0800;

/// How long a hung program may keep kuroko waiting for one message.
const MESSAGE_TIMEOUT_MS: u32 = 2_000;

pub struct Win32Controls;

unsafe extern "system" fn collect(hwnd: HWND, out: LPARAM) -> windows_sys::core::BOOL {
    // SAFETY: `out` is the Vec passed by `children`, alive for the whole EnumChildWindows call.
    let out = unsafe { &mut *(out as *mut Vec<HWND>) };
    out.push(hwnd);
    1
}

/// Every descendant of `parent`, parents before their children.
fn children(parent: HWND) -> Vec<HWND> {
    let mut out: Vec<HWND> = Vec::new();
    // SAFETY: the callback only pushes into `out`, which outlives the call.
    unsafe { EnumChildWindows(parent, Some(collect), &mut out as *mut Vec<HWND> as LPARAM) };
    out
}

fn handle_of(control: &Control) -> DResult<HWND> {
    let hwnd = control
        .handle
        .parse::<usize>()
        .map_err(|_| DesktopError::new(format!("not a window handle: {:?}", control.handle)))?
        as HWND;
    // SAFETY: IsWindow accepts any value.
    if unsafe { IsWindow(hwnd) } == 0 {
        return Err(DesktopError::new(format!(
            "the control {:?} has closed",
            control.name
        )));
    }
    Ok(hwnd)
}

fn class_name(hwnd: HWND) -> String {
    let mut buf = [0u16; 256];
    // SAFETY: writes at most buf.len() characters into buf.
    let len = unsafe { GetClassNameW(hwnd, buf.as_mut_ptr(), buf.len() as i32) };
    String::from_utf16_lossy(&buf[..len.max(0) as usize])
}

/// Asks one program's windows questions. A program that leaves one unanswered (busy, or hung)
/// is asked nothing more by this asker: every further question would cost another 2 s, on
/// every poll of a `ui::wait`.
#[derive(Default)]
struct Asker {
    silent: Cell<bool>,
}

impl Asker {
    /// An asker for the windows of `top`: one that asks nothing at all when Windows already
    /// knows the program is not responding.
    fn for_window(top: HWND) -> Asker {
        // SAFETY: a plain query.
        let hung = unsafe { IsHungAppWindow(top) } != 0;
        Asker {
            silent: Cell::new(hung),
        }
    }

    /// A message to a window of another process that gives up on a hung program.
    fn send(&self, hwnd: HWND, message: u32, wparam: WPARAM, lparam: LPARAM) -> Option<usize> {
        if self.silent.get() {
            return None;
        }
        let answer = send(hwnd, message, wparam, lparam);
        if answer.is_none() {
            self.silent.set(true);
        }
        answer
    }
}

/// A message to a window of another process that gives up on a hung program.
fn send(hwnd: HWND, message: u32, wparam: WPARAM, lparam: LPARAM) -> Option<usize> {
    let mut result = 0usize;
    // SAFETY: `result` outlives the call; pointers in lparam are the caller's to keep alive.
    let ok = unsafe {
        SendMessageTimeoutW(
            hwnd,
            message,
            wparam,
            lparam,
            SMTO_ABORTIFHUNG,
            MESSAGE_TIMEOUT_MS,
            &mut result,
        )
    };
    (ok != 0).then_some(result)
}

/// A control's text as its program holds it (GetWindowText cannot read other programs' fields).
fn text_of(hwnd: HWND, asker: &Asker) -> DResult<String> {
    let unreadable = || {
        DesktopError::new(
            "the program did not answer when asked for a control's text (it is busy or not responding)",
        )
    };
    let len = asker
        .send(hwnd, WM_GETTEXTLENGTH, 0, 0)
        .ok_or_else(unreadable)?;
    // Some controls report the length in bytes of a multibyte string: room for either.
    let mut buf = vec![0u16; len.min(1 << 20) * 2 + 1];
    let got = asker
        .send(hwnd, WM_GETTEXT, buf.len(), buf.as_mut_ptr() as LPARAM)
        .ok_or_else(unreadable)?;
    Ok(String::from_utf16_lossy(&buf[..got.min(buf.len())]))
}

/// A caption as people read it: `&` marks the access key, `&&` is an ampersand, and the
/// Japanese way of showing an access key, `氏名(&N)`, goes altogether (`氏名`), also before a
/// trailing `...`, `…`, `:` or `：`.
fn without_mnemonic(text: &str) -> String {
    let trimmed = text.trim_end();
    let tail = [":", "：", "...", "…"]
        .iter()
        .find(|t| trimmed.ends_with(**t))
        .copied()
        .unwrap_or("");
    let body = &trimmed[..trimmed.len() - tail.len()];
    let chars: Vec<char> = body.chars().collect();
    if let [.., open, '&', key, close] = chars.as_slice()
        && matches!((open, close), ('(', ')') | ('（', '）'))
        && key.is_ascii_alphanumeric()
        && chars.len() > 4
    {
        let rest: String = chars[..chars.len() - 4].iter().collect();
        return format!("{}{tail}", without_mnemonic(rest.trim_end()));
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '&' {
            if chars.peek() == Some(&'&') {
                out.push('&');
                chars.next();
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The family a class belongs to: WinForms (`WindowsForms10.BUTTON.app.0.…`) and VB6
/// (`ThunderRT6CommandButton`) names reduced to the Win32 one they wrap or imitate.
fn family(class: &str) -> String {
    let lower = class.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("windowsforms10.") {
        return rest.split('.').next().unwrap_or("").to_string();
    }
    // Delphi and C++Builder (VCL): TEdit and the rest subclass the Win32 controls. TLabel
    // and TSpeedButton are drawn by their form and are no windows at all.
    match lower.as_str() {
        "tedit" | "tmemo" | "tmaskedit" | "tlabelededit" | "tdbedit" | "tdbmemo" | "trichedit"
        | "tdbrichedit" => return "edit".into(),
        "tbutton" | "tbitbtn" => return "button".into(),
        "tcheckbox" | "tdbcheckbox" => return "vb-check".into(),
        "tradiobutton" => return "vb-radio".into(),
        "tcombobox" | "tdbcombobox" | "tdblookupcombobox" => return "combobox".into(),
        "tlistbox" | "tdblistbox" | "tchecklistbox" => return "listbox".into(),
        "tlistview" => return "syslistview32".into(),
        "tstatictext" => return "static".into(),
        "tgroupbox" | "tradiogroup" => return "vb-frame".into(),
        "tpagecontrol" | "ttabcontrol" => return "systabcontrol32".into(),
        _ => {}
    }
    let vb = lower
        .strip_prefix("thunderrt6")
        .or_else(|| lower.strip_prefix("thunder"));
    match vb {
        Some("commandbutton") => "button".into(),
        Some("checkbox") => "vb-check".into(),
        Some("optionbutton") => "vb-radio".into(),
        Some("textbox") => "edit".into(),
        Some("combobox") => "combobox".into(),
        Some("listbox") => "listbox".into(),
        Some("frame") => "vb-frame".into(),
        _ => lower,
    }
}

fn role_of(class: &str, style: u32) -> Role {
    match family(class).as_str() {
        "button" => match style & 0x0F {
            // BS_CHECKBOX, BS_AUTOCHECKBOX, BS_3STATE, BS_AUTO3STATE
            2 | 3 | 5 | 6 => Role::Check,
            // BS_RADIOBUTTON, BS_AUTORADIOBUTTON
            4 | 9 => Role::Radio,
            // BS_GROUPBOX
            7 => Role::Other("group".into()),
            _ => Role::Button,
        },
        "vb-check" => Role::Check,
        "vb-radio" => Role::Radio,
        "vb-frame" => Role::Other("group".into()),
        "edit" | "richedit" | "richedit20a" | "richedit20w" | "richedit50w" => Role::Text,
        "static" => Role::Label,
        "combobox" | "comboboxex32" => Role::Combo,
        "listbox" | "syslistview32" => Role::List,
        "systabcontrol32" => Role::Tab,
        "#32770" => Role::Window,
        other => Role::Other(other.to_string()),
    }
}

/// Whether the role shows its own text as its name; fields are named by the label before them.
fn named_by_label(role: &Role) -> bool {
    matches!(role, Role::Text | Role::Combo | Role::List)
}

fn rect_of(hwnd: HWND) -> Option<Rect> {
    let mut r = RECT {
        left: 0,
        top: 0,
        right: 0,
        bottom: 0,
    };
    // SAFETY: writes into `r`; fails harmlessly on a closed window.
    if unsafe { GetWindowRect(hwnd, &mut r) } == 0 || r.right <= 0 || r.bottom <= 0 {
        return None;
    }
    let (x, y) = (r.left.max(0), r.top.max(0));
    let (w, h) = (r.right - x, r.bottom - y);
    (w > 0 && h > 0).then(|| Rect {
        x: x as u32,
        y: y as u32,
        w: w as u32,
        h: h as u32,
    })
}

/// The text of the visible STATIC just before `hwnd` among its siblings (what UI Automation
/// also names a Win32 field by).
fn label_before(hwnd: HWND, asker: &Asker) -> String {
    let mut sibling = hwnd;
    for _ in 0..8 {
        // SAFETY: walks sibling handles; a null one ends the walk.
        sibling = unsafe { GetWindow(sibling, GW_HWNDPREV) };
        if sibling.is_null() {
            break;
        }
        // SAFETY: a plain query on a sibling handle.
        if unsafe { IsWindowVisible(sibling) } == 0 {
            continue;
        }
        if family(&class_name(sibling)) == "static" {
            return text_of(sibling, asker)
                .map(|t| without_mnemonic(&t))
                .unwrap_or_default();
        }
        break;
    }
    String::new()
}

/// The control with the keyboard focus: the foreground thread's (another thread's focus is
/// not visible to GetFocus).
fn focused_window() -> HWND {
    // SAFETY: GetGUIThreadInfo fills the struct whose size it is given.
    unsafe {
        let mut info: GUITHREADINFO = std::mem::zeroed();
        info.cbSize = std::mem::size_of::<GUITHREADINFO>() as u32;
        let thread = GetWindowThreadProcessId(GetForegroundWindow(), std::ptr::null_mut());
        if thread != 0 && GetGUIThreadInfo(thread, &mut info) != 0 {
            info.hwndFocus
        } else {
            std::ptr::null_mut()
        }
    }
}

fn control_of(hwnd: HWND, window: &str, focus: HWND, asker: &Asker) -> Option<Control> {
    // SAFETY: plain queries on a handle that may have closed (they then return 0).
    // A control under an open modal dialog is as unusable as a disabled one: its window is
    // disabled while the dialog shows.
    let (visible, enabled, style, id) = unsafe {
        (
            IsWindowVisible(hwnd) != 0,
            IsWindowEnabled(hwnd) != 0 && IsWindowEnabled(GetAncestor(hwnd, GA_ROOT)) != 0,
            GetWindowLongPtrW(hwnd, GWL_STYLE) as u32,
            GetDlgCtrlID(hwnd),
        )
    };
    if !visible {
        return None;
    }
    let rect = rect_of(hwnd)?;
    let class = class_name(hwnd);
    let role = role_of(&class, style);
    let is_edit = role == Role::Text && family(&class) == "edit";
    let name = if named_by_label(&role) {
        label_before(hwnd, asker)
    } else {
        without_mnemonic(&text_of(hwnd, asker).unwrap_or_default())
    };
    Some(Control {
        handle: (hwnd as usize).to_string(),
        window: window.to_string(),
        role,
        platform_role: class,
        name,
        id: if id > 0 {
            id.to_string()
        } else {
            String::new()
        },
        rect,
        enabled,
        password: is_edit && style & ES_PASSWORD != 0,
        focused: hwnd == focus,
    })
}

impl Controls for Win32Controls {
    fn kind(&self) -> &'static str {
        "Win32 controls"
    }

    fn controls(&mut self, window: Option<&str>) -> DResult<Vec<Control>> {
        let focus = focused_window();
        let mut out = Vec::new();
        for top in super::windows::Win32Windows.list()? {
            if window.is_some_and(|w| !top.title.contains(w)) {
                continue;
            }
            let hwnd = top.id as usize as HWND;
            let asker = Asker::for_window(hwnd);
            if let Some(mut c) = control_of(hwnd, &top.title, focus, &asker) {
                c.role = Role::Window;
                c.name = top.title.clone();
                out.push(c);
            }
            // A control inside a hidden parent (an inactive tab page) is not showing.
            let mut hidden: Vec<HWND> = Vec::new();
            for child in children(hwnd) {
                // SAFETY: a plain query.
                let parent = unsafe { GetParent(child) };
                if hidden.contains(&parent) {
                    hidden.push(child);
                    continue;
                }
                match control_of(child, &top.title, focus, &asker) {
                    Some(c) => out.push(c),
                    None => hidden.push(child),
                }
            }
        }
        Ok(out)
    }

    fn press(&mut self, control: &Control) -> DResult<bool> {
        if !matches!(control.role, Role::Button | Role::Check | Role::Radio) {
            return Ok(false);
        }
        let hwnd = handle_of(control)?;
        // A button that opens a modal dialog answers only when the dialog closes: a timeout
        // here means the press is being handled.
        let _ = send(hwnd, BM_CLICK, 0, 0);
        Ok(true)
    }

    fn set_text(&mut self, control: &Control, text: &str) -> DResult<bool> {
        if control.role != Role::Text {
            return Ok(false);
        }
        let hwnd = handle_of(control)?;
        // WM_SETTEXT writes into a read-only field too, which a person cannot: type instead
        // (and the read-back says what the field kept).
        // SAFETY: a plain query.
        if unsafe { GetWindowLongPtrW(hwnd, GWL_STYLE) } as u32 & ES_READONLY != 0 {
            return Ok(false);
        }
        let wide = super::wide(text);
        match send(hwnd, WM_SETTEXT, 0, wide.as_ptr() as LPARAM) {
            Some(1) => Ok(true),
            Some(_) => Ok(false),
            None => Err(DesktopError::new(format!(
                "the program did not answer when the field {:?} was set",
                control.name
            ))),
        }
    }

    fn text(&mut self, control: &Control) -> DResult<String> {
        let hwnd = handle_of(control)?;
        let asker = Asker::default();
        if named_by_label(&control.role) {
            text_of(hwnd, &asker)
        } else {
            Ok(without_mnemonic(&text_of(hwnd, &asker)?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_of_win32_vb6_and_winforms_map_to_roles() {
        assert_eq!(role_of("Button", 0), Role::Button);
        assert_eq!(role_of("Button", 3), Role::Check);
        assert_eq!(role_of("Button", 9), Role::Radio);
        assert_eq!(role_of("Edit", 0), Role::Text);
        assert_eq!(role_of("RichEdit20W", 0), Role::Text);
        assert_eq!(role_of("Static", 0), Role::Label);
        assert_eq!(role_of("ThunderRT6CommandButton", 0), Role::Button);
        assert_eq!(role_of("ThunderRT6TextBox", 0), Role::Text);
        assert_eq!(
            role_of("WindowsForms10.BUTTON.app.0.141b42a_r9_ad1", 0),
            Role::Button
        );
        assert_eq!(
            role_of("WindowsForms10.EDIT.app.0.141b42a_r9_ad1", 0),
            Role::Text
        );
        assert_eq!(role_of("SysTabControl32", 0), Role::Tab);
        assert_eq!(role_of("MyGrid", 0), Role::Other("mygrid".into()));
    }

    #[test]
    fn access_key_marks_are_not_part_of_a_name() {
        assert_eq!(without_mnemonic("登録(&S)"), "登録");
        assert_eq!(without_mnemonic("氏名(&N):"), "氏名:");
        assert_eq!(without_mnemonic("開く（&O）..."), "開く...");
        assert_eq!(without_mnemonic("&Save && close"), "Save & close");
        assert_eq!(without_mnemonic("(&A)"), "(A)");
        assert_eq!(without_mnemonic("R&D(&R)"), "RD");
    }

    #[test]
    fn delphi_vcl_classes_map_to_roles() {
        assert_eq!(role_of("TEdit", 0), Role::Text);
        assert_eq!(role_of("TMaskEdit", 0), Role::Text);
        assert_eq!(role_of("TButton", 0), Role::Button);
        assert_eq!(role_of("TBitBtn", 0), Role::Button);
        assert_eq!(role_of("TCheckBox", 0), Role::Check);
        assert_eq!(role_of("TRadioButton", 0), Role::Radio);
        assert_eq!(role_of("TComboBox", 0), Role::Combo);
        assert_eq!(role_of("TListBox", 0), Role::List);
        assert_eq!(role_of("TStaticText", 0), Role::Label);
        assert_eq!(role_of("TPageControl", 0), Role::Tab);
        assert_eq!(role_of("TGroupBox", 0), Role::Other("group".into()));
    }
}
