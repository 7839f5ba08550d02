//! `kuroko record`: a task done once by a person becomes a scenario. The capture (X11 RECORD)
//! only timestamps input; here each input gets its meaning — a click names its control by role
//! and name where the system exposes one, else becomes a picture kuroko cut itself; typing
//! becomes the text the field holds afterwards (the 漢字 the IME committed, not the keys); a
//! window that opens becomes a wait — and `script` writes the steps.

pub mod crop;
pub mod script;

use std::time::{Duration, Instant};

use image::RgbaImage;

use crate::abort::AbortSignal;
use crate::desktop::capture::{Input, InputCapture};
use crate::desktop::ui::select;
use crate::desktop::ui::{Control, Role, at_point};
use crate::desktop::{Button, Desktop, Key, NamedKey};
use script::{Action, Step};

/// Typing into a field is written out after this long without input (the field is read then).
const TYPING_PAUSE: Duration = Duration::from_millis(1500);
/// How long a quiet desktop may take to show an Enter's effect in the field before the Enter
/// is taken for a key of its own. Deciding at the first 200 ms pause was too soon on a loaded
/// PC: in a full test run beside two busy loops on 2 cores, the Enter that committed 高橋 was
/// recorded as a key of its own.
const ENTER_SETTLE: Duration = Duration::from_millis(2500);
/// Two clicks this close in time (and place) are a double click.
const DOUBLE_CLICK: Duration = Duration::from_millis(500);
/// Editing chords inside a field: their effect is in the field's text.
const EDITING: [char; 6] = ['a', 'c', 'v', 'x', 'z', 'y'];

/// What a recording produced.
#[derive(Debug, Default)]
pub struct Recording {
    pub steps: Vec<Step>,
    /// (file name under images/, picture) for the clicks replayed by picture.
    pub images: Vec<(String, RgbaImage)>,
    /// Things the person should know (a click nothing could name, a field not read).
    pub notes: Vec<String>,
}

/// Typing in progress: the field it goes to (when the system names one) and the characters
/// of the keys, for where no field can be read.
#[derive(Default)]
struct Typing {
    field: Option<(Control, Vec<Control>)>,
    /// The field's text when it was clicked: a change without keys (an IME's commit, a paste
    /// by mouse) is typing too.
    before: Option<String>,
    /// The field's text at the last quiet moment: what was typed when the click that moves on
    /// also closes the window (a dialog's OK), so the field cannot be read any more.
    latest: Option<String>,
    keys: String,
    started: Option<Instant>,
    last: Option<Instant>,
    /// The characters typed since `latest` was read, and whether anything else changed the
    /// text meanwhile (an editing key, a paste): what the keys alone explain of a change.
    keys_since_look: String,
    edited_since_look: bool,
    /// An Enter pressed in the field, decided once the program has handled it.
    enter: Option<PendingEnter>,
}

/// An Enter pressed while typing into a field: the IME's commit or a real Enter.
struct PendingEnter {
    at: Instant,
    /// The field's text read when the Enter was handled (on a busy desktop the commit may
    /// already be in it).
    read: Option<String>,
    /// The field's text at the last quiet moment before the Enter, and whether the keys
    /// typed since then explain a change by themselves (`None` when edited meanwhile).
    quiet: Option<String>,
    keys: Option<String>,
}

/// What the field says about an Enter so far.
#[derive(Debug, PartialEq)]
enum EnterWas {
    /// It committed text (or began a new line): part of the typing.
    Commit,
    /// A key of its own, which the program acted on.
    Key,
    /// Nothing has changed yet: wait for the program.
    Undecided,
}

impl PendingEnter {
    /// Judges the Enter by the field's text now (`None` when it cannot be read, e.g. its window
    /// closed). With `patient`, an untouched field leaves it undecided until [`ENTER_SETTLE`]
    /// after the key, since an IME on a busy desktop commits late; without, it is a key.
    fn judge(&self, after: Option<&str>, now: Instant, patient: bool) -> EnterWas {
        match after {
            Some(after) if self.committed(after) => EnterWas::Commit,
            Some(after)
                if patient
                    && self.read.as_deref() == Some(after)
                    && now.saturating_duration_since(self.at) < ENTER_SETTLE =>
            {
                EnterWas::Undecided
            }
            _ => EnterWas::Key,
        }
    }

    /// Whether the Enter committed text (the IME's 確定, or a new line): the field's text after
    /// it is the text before it with something inserted — compared with the text read at the
    /// Enter, or with the text of the last quiet moment when what was inserted since then is
    /// not ASCII and not simply the keys typed since then.
    fn committed(&self, after: &str) -> bool {
        if self
            .read
            .as_deref()
            .is_some_and(|read| is_insertion(read, after))
        {
            return true;
        }
        let (Some(quiet), Some(keys)) = (&self.quiet, &self.keys) else {
            return false;
        };
        if !is_insertion(quiet, after) {
            return false;
        }
        // An IME commits what no key typed (漢字, かな, full-width letters); ASCII is keys the
        // recorder read imprecisely (Shift+1 is '1' to it), not a commit.
        let inserted = inserted(quiet, after);
        !inserted.is_ascii() && inserted != *keys
    }
}

/// What `after` has that `before` has not, where `after` is `before` with one insertion.
fn inserted(before: &str, after: &str) -> String {
    let (b, a): (Vec<char>, Vec<char>) = (before.chars().collect(), after.chars().collect());
    let prefix = b.iter().zip(&a).take_while(|(x, y)| x == y).count();
    let suffix = b[prefix..]
        .iter()
        .rev()
        .zip(a[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    a[prefix..a.len() - suffix].iter().collect()
}

/// Whether `after` is `before` with something inserted at one place — what an IME's commit
/// (or a new line in a multi-line field) does to a field, unlike an Enter the program acts on
/// (it empties the field, or leaves it as it was).
fn is_insertion(before: &str, after: &str) -> bool {
    let (b, a): (Vec<char>, Vec<char>) = (before.chars().collect(), after.chars().collect());
    if a.len() <= b.len() {
        return false;
    }
    let prefix = b.iter().zip(&a).take_while(|(x, y)| x == y).count();
    let suffix = b[prefix..]
        .iter()
        .rev()
        .zip(a.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    prefix + suffix >= b.len()
}

struct Recorder<'a> {
    desktop: &'a mut Desktop,
    out: Recording,
    typing: Typing,
    held: Vec<NamedKey>,
    /// When the input of the last step came (for the pause before the next).
    last_step: Option<Instant>,
    /// The last click: when, where, and its step.
    last_click: Option<(Instant, (i32, i32), usize)>,
    /// Titles of the windows open at the last look.
    windows: Vec<String>,
    /// The screen and its controls as they were at the last quiet moment: a click is read
    /// from what was there before it (the window it closes is gone by the time it is seen).
    seen: Option<Seen>,
}

struct Seen {
    at: Instant,
    screen: RgbaImage,
    controls: Vec<Control>,
}

fn is_modifier(k: NamedKey) -> bool {
    matches!(
        k,
        NamedKey::Shift | NamedKey::Ctrl | NamedKey::Alt | NamedKey::Meta
    )
}

fn key_name(k: Key) -> String {
    k.to_string()
}

/// A short label for file names and comments: the control's name, else the label it is found
/// by (a GTK field right of 氏名 is "氏名"), else its role.
fn label_of(c: Option<&Control>, selector: Option<&select::Selector>) -> String {
    match c {
        Some(c) if !c.name.trim().is_empty() => select::plain(&c.name),
        Some(c) => match selector.and_then(|s| s.anchor.as_ref()) {
            Some((_, label)) if !label.trim().is_empty() => select::plain(label),
            _ => c.role.to_string(),
        },
        None => "クリック".to_string(),
    }
}

/// A file name part from a label: characters that are not safe in file names become `_`.
fn file_part(label: &str) -> String {
    let cleaned: String = label
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| if "/\\:*?\"<>| ".contains(c) { '_' } else { c })
        .take(24)
        .collect();
    if cleaned.is_empty() {
        "click".into()
    } else {
        cleaned
    }
}

impl Recorder<'_> {
    fn push(&mut self, at: Instant, action: Action) {
        let pause = self
            .last_step
            .map_or(Duration::ZERO, |last| at.saturating_duration_since(last));
        self.out.steps.push(Step { action, pause });
        self.last_step = Some(at);
    }

    fn controls(&mut self) -> Vec<Control> {
        match self.desktop.controls.controls(None) {
            Ok(controls) => controls,
            Err(e) => {
                self.out
                    .notes
                    .push(format!("the controls could not be read: {e}"));
                Vec::new()
            }
        }
    }

    /// Windows that opened since the last look become waits.
    fn new_windows(&mut self, at: Instant) {
        let Ok(now) = self.desktop.windows.list() else {
            return;
        };
        let titles: Vec<String> = now.into_iter().map(|w| w.title).collect();
        for title in &titles {
            if !self.windows.contains(title) && !self.out.steps.is_empty() {
                self.push(
                    at,
                    Action::WaitWindow {
                        title: title.clone(),
                    },
                );
            }
        }
        self.windows = titles;
    }

    /// Writes out the typing in progress: the field's text as it is now, else the keys.
    fn flush_typing(&mut self) {
        let typing = std::mem::take(&mut self.typing);
        let Some(started) = typing.started else {
            return;
        };
        if let Some((field, controls)) = &typing.field {
            let text = match (self.desktop.controls.text(field), typing.latest) {
                (Err(_), Some(latest)) => Ok(latest),
                (read, _) => read,
            };
            match text {
                Ok(text) if typing.keys.is_empty() && typing.before.as_ref() == Some(&text) => {
                    return;
                }
                Ok(text) if !field.password => {
                    let selector = select::selector_for(controls, field);
                    if selector.index.is_none() {
                        self.push(
                            started,
                            Action::SetText {
                                label: label_of(Some(field), Some(&selector)),
                                selector,
                                text,
                            },
                        );
                        return;
                    }
                }
                Ok(_) => {
                    self.out.notes.push(format!(
                        "what was typed into the password field {:?} is not recorded: set it \
                         with secret::get",
                        field.name
                    ));
                    return;
                }
                Err(e) => self.out.notes.push(format!(
                    "the text of {:?} could not be read ({e}); the keys are kept",
                    field.name
                )),
            }
        }
        if !typing.keys.is_empty() {
            self.push(started, Action::TypeText { text: typing.keys });
        }
    }

    fn click(&mut self, at: Instant, (x, y): (i32, i32)) {
        self.resolve_enter(None);
        self.flush_typing();
        self.new_windows(at);
        if let Some((when, (px, py), step)) = self.last_click
            && at.saturating_duration_since(when) <= DOUBLE_CLICK
            && (px - x).abs() <= 4
            && (py - y).abs() <= 4
        {
            match &mut self.out.steps[step].action {
                Action::ClickControl { double, .. } | Action::ClickImage { double, .. } => {
                    *double = true;
                }
                _ => {}
            }
            self.last_click = None;
            return;
        }
        let (screen, controls) = match self.seen.take().filter(|seen| seen.at <= at) {
            Some(seen) => (Some(seen.screen), seen.controls),
            None => (None, self.controls()),
        };
        let control = at_point(&controls, (x, y)).cloned();
        let mut label = label_of(control.as_ref(), None);
        // Named where the control has a selector of its own (no index: an index breaks as
        // soon as the screen gains a control).
        if let Some(c) = control.as_ref().filter(|c| c.role != Role::Window) {
            let selector = select::selector_for(&controls, c);
            label = label_of(Some(c), Some(&selector));
            if selector.index.is_none() && c.role != Role::Label {
                if c.role == Role::Text {
                    // What the field holds when the person moves on is what they typed.
                    self.typing = Typing {
                        before: self.desktop.controls.text(c).ok(),
                        latest: None,
                        keys_since_look: String::new(),
                        edited_since_look: false,
                        enter: None,
                        field: Some((c.clone(), controls.clone())),
                        started: Some(at),
                        last: Some(at),
                        keys: String::new(),
                    };
                }
                self.push(
                    at,
                    Action::ClickControl {
                        selector,
                        label,
                        double: false,
                    },
                );
                self.last_click = Some((at, (x, y), self.out.steps.len() - 1));
                return;
            }
        }
        // Else a picture: the control's rectangle (a button without a usable name), or a box
        // round the click, grown until it is on the screen once.
        let screen = match screen.map_or_else(|| self.desktop.screen.capture(), Ok) {
            Ok(s) => s,
            Err(e) => {
                self.out.notes.push(format!(
                    "the click at {x},{y} is not recorded: the screen could not be read ({e})"
                ));
                return;
            }
        };
        let start = control
            .as_ref()
            .filter(|c| c.role != Role::Window && c.rect.w <= 300 && c.rect.h <= 120)
            .map(|c| c.rect)
            .unwrap_or_else(|| crop::around((x, y), crop::CLICK_BOX, screen.dimensions()));
        let Some(cut) = crop::unique_crop(&screen, start, (x, y)) else {
            self.out.notes.push(format!(
                "the click at {x},{y} ({label}) is not recorded: no picture of it is unique on \
                 the screen"
            ));
            return;
        };
        let name = format!(
            "images/{:03}_{}.png",
            self.out.images.len() + 1,
            file_part(&label)
        );
        let picture =
            image::imageops::crop_imm(&screen, cut.rect.x, cut.rect.y, cut.rect.w, cut.rect.h)
                .to_image();
        self.out.images.push((name.clone(), picture));
        self.push(
            at,
            Action::ClickImage {
                image: name,
                label,
                offset: cut.offset,
                double: false,
            },
        );
        self.last_click = Some((at, (x, y), self.out.steps.len() - 1));
    }

    /// The text of the field being typed into, as it is now.
    fn field_text(&mut self) -> Option<String> {
        let (field, _) = self.typing.field.as_ref()?;
        self.desktop.controls.text(field).ok()
    }

    /// Decides the Enter pressed in a field: when the field's text is now the text before it
    /// with something inserted, the Enter committed the IME's composition (or began a new line)
    /// and belongs to the typing; otherwise it is a step of its own, after the typing.
    /// `patient_at` (from a pause in the input) lets an untouched field wait for the program a
    /// little longer while no window has come or gone; returns whether the Enter is still
    /// undecided.
    fn resolve_enter(&mut self, patient_at: Option<Instant>) -> bool {
        let Some(enter) = self.typing.enter.take() else {
            return false;
        };
        let at = enter.at;
        let after = self.field_text();
        let now = patient_at.unwrap_or_else(Instant::now);
        match enter.judge(after.as_deref(), now, patient_at.is_some()) {
            EnterWas::Commit => return false,
            EnterWas::Undecided if !self.windows_changed() => {
                self.typing.enter = Some(enter);
                return true;
            }
            EnterWas::Undecided | EnterWas::Key => {}
        }
        self.flush_typing();
        self.new_windows(at);
        self.push(
            at,
            Action::Press {
                key: key_name(Key::Named(NamedKey::Enter)),
            },
        );
        false
    }

    /// Whether a window has come or gone since the windows were last noted.
    fn windows_changed(&mut self) -> bool {
        self.desktop.windows.list().is_ok_and(|now| {
            now.len() != self.windows.len() || now.iter().any(|w| !self.windows.contains(&w.title))
        })
    }

    /// A key press; `true` when it ends the recording (the abort hotkey, Shift+Escape).
    fn key_down(&mut self, at: Instant, key: Key) -> bool {
        self.resolve_enter(None);
        let chord: Vec<NamedKey> = self
            .held
            .iter()
            .copied()
            .filter(|k| *k != NamedKey::Shift)
            .collect();
        match key {
            Key::Named(k) if is_modifier(k) => {
                if !self.held.contains(&k) {
                    self.held.push(k);
                }
            }
            Key::Named(NamedKey::Escape) if self.held == [NamedKey::Shift] => return true,
            Key::Char(c) if !chord.is_empty() => {
                if chord == [NamedKey::Ctrl]
                    && EDITING.contains(&c)
                    && self.typing.started.is_some()
                {
                    // Select all, copy, paste… inside a field: the field's text says the result.
                    self.typing.last = Some(at);
                    self.typing.edited_since_look = true;
                    return false;
                }
                self.flush_typing();
                self.new_windows(at);
                let mut keys: Vec<String> =
                    self.held.iter().map(|k| key_name(Key::Named(*k))).collect();
                keys.push(key_name(key));
                self.push(at, Action::Hotkey { keys });
            }
            Key::Char(c) => self.typed(at, Some(c)),
            // In a field, Enter may only end the IME's composition: the field is read now and
            // again once the program has handled the key.
            Key::Named(NamedKey::Enter)
                if self.held.is_empty()
                    && self.typing.field.is_some()
                    && self.typing.enter.is_none() =>
            {
                let read = self.field_text();
                self.typing.enter = Some(PendingEnter {
                    at,
                    read,
                    quiet: self.typing.latest.clone().or(self.typing.before.clone()),
                    keys: (!self.typing.edited_since_look)
                        .then(|| self.typing.keys_since_look.clone()),
                });
                self.typing.last = Some(at);
            }
            // Editing: the field's text is what counts, and the keys no longer explain it.
            Key::Named(
                NamedKey::Backspace
                | NamedKey::Delete
                | NamedKey::Left
                | NamedKey::Right
                | NamedKey::Home
                | NamedKey::End,
            ) => {
                self.typing.edited_since_look = true;
                self.typed(at, None);
            }
            Key::Named(NamedKey::Space) => self.typed(at, Some(' ')),
            // The IME's keys: the field's text says what they did.
            Key::Named(
                NamedKey::Henkan
                | NamedKey::Muhenkan
                | NamedKey::ZenkakuHankaku
                | NamedKey::HiraganaKatakana,
            ) => self.typed(at, None),
            Key::Named(k) => {
                self.flush_typing();
                self.new_windows(at);
                let mut keys: Vec<String> =
                    self.held.iter().map(|k| key_name(Key::Named(*k))).collect();
                keys.push(key_name(Key::Named(k)));
                if keys.len() == 1 {
                    self.push(
                        at,
                        Action::Press {
                            key: keys.remove(0),
                        },
                    );
                } else {
                    self.push(at, Action::Hotkey { keys });
                }
            }
        }
        false
    }

    /// A key that types (or edits): the field it goes to is looked up at the first one.
    fn typed(&mut self, at: Instant, c: Option<char>) {
        if self.typing.started.is_none() {
            self.new_windows(at);
            let controls = self.controls();
            let field = controls
                .iter()
                .find(|c| c.focused && c.role == Role::Text)
                .cloned();
            self.typing.field = field.map(|f| (f, controls));
            self.typing.started = Some(at);
        }
        if let Some(c) = c {
            let shifted = self.held.contains(&NamedKey::Shift);
            let c = if shifted { c.to_ascii_uppercase() } else { c };
            self.typing.keys.push(c);
            self.typing.keys_since_look.push(c);
        }
        self.typing.last = Some(at);
    }

    fn key_up(&mut self, key: Key) {
        if let Key::Named(k) = key {
            self.held.retain(|h| *h != k);
        }
    }

    /// Looks at the screen and its controls, for the next click.
    fn look(&mut self) {
        let Ok(screen) = self.desktop.screen.capture() else {
            self.seen = None;
            return;
        };
        let controls = self.desktop.controls.controls(None).unwrap_or_default();
        if self.typing.started.is_some()
            && let Some((field, _)) = &self.typing.field
            && !field.password
            && let Ok(text) = self.desktop.controls.text(field)
        {
            self.typing.latest = Some(text);
            self.typing.keys_since_look.clear();
            self.typing.edited_since_look = false;
        }
        self.seen = Some(Seen {
            at: Instant::now(),
            screen,
            controls,
        });
    }

    /// After a pause the typing is written out while the field still holds its text, and the
    /// screen is looked at again.
    fn idle(&mut self, now: Instant) {
        if self.resolve_enter(Some(now)) {
            // The field still holds the typing the Enter may end: only look again.
            self.look();
            return;
        }
        if self
            .typing
            .last
            .is_some_and(|last| now.saturating_duration_since(last) >= TYPING_PAUSE)
        {
            self.flush_typing();
        }
        self.new_windows(now);
        self.look();
    }
}

/// Records until Shift+Escape, a stop (Ctrl+C), or the end of the capture. `progress` is told
/// each step as it is recorded.
pub fn record(
    desktop: &mut Desktop,
    capture: &mut dyn InputCapture,
    abort: &AbortSignal,
    progress: &mut dyn FnMut(&Step),
) -> Result<Recording, String> {
    let windows = desktop
        .windows
        .list()
        .map_err(|e| format!("cannot list the windows: {e}"))?
        .into_iter()
        .map(|w| w.title)
        .collect();
    let mut r = Recorder {
        desktop,
        out: Recording::default(),
        typing: Typing::default(),
        held: Vec::new(),
        last_step: None,
        last_click: None,
        windows,
        seen: None,
    };
    r.look();
    let mut shown = 0;
    loop {
        if abort.is_requested() {
            break;
        }
        let next = capture
            .next(Duration::from_millis(200))
            .map_err(|e| e.to_string())?;
        match next {
            None => r.idle(Instant::now()),
            Some(captured) => match captured.input {
                Input::ButtonDown {
                    button: Button::Left,
                    x,
                    y,
                } => r.click(captured.at, (x, y)),
                Input::ButtonDown { .. } | Input::ButtonUp { .. } => {}
                Input::KeyDown(key) => {
                    if r.key_down(captured.at, key) {
                        break;
                    }
                }
                Input::KeyUp(key) => r.key_up(key),
            },
        }
        while shown < r.out.steps.len() {
            progress(&r.out.steps[shown]);
            shown += 1;
        }
    }
    r.resolve_enter(None);
    r.flush_typing();
    while shown < r.out.steps.len() {
        progress(&r.out.steps[shown]);
        shown += 1;
    }
    Ok(r.out)
}

#[cfg(test)]
mod tests {
    use super::{PendingEnter, is_insertion};

    #[test]
    fn an_enter_is_the_imes_commit_when_the_text_it_inserted_was_not_typed_as_keys() {
        let enter = |read: Option<&str>, quiet: &str, keys: Option<&str>| PendingEnter {
            at: std::time::Instant::now(),
            read: read.map(str::to_string),
            quiet: Some(quiet.to_string()),
            keys: keys.map(str::to_string),
        };
        // Read before the commit landed.
        assert!(enter(Some(""), "", Some("")).committed("高橋"));
        // Read after it (a busy desktop): the text of the quiet moment shows it.
        assert!(enter(Some("高橋"), "", Some("")).committed("高橋"));
        assert!(enter(Some("高橋"), "", Some("takahashi ")).committed("高橋"));
        // ASCII typed and Enter pressed at once: the keys explain the change.
        assert!(!enter(Some("abc"), "", Some("abc")).committed("abc"));
        // Shift+1 read as '1': ASCII is never taken for a commit.
        assert!(!enter(Some("R7!"), "", Some("R71")).committed("R7!"));
        // Edited since the quiet moment (a paste, a Backspace): only the read counts.
        assert!(!enter(Some("貼付"), "", None).committed("貼付"));
        // The program emptied the field.
        assert!(!enter(Some("abc"), "", Some("abc")).committed(""));
        assert_eq!(super::inserted("市町", "市仲町"), "仲");
        assert_eq!(super::inserted("", "高橋"), "高橋");
    }

    #[test]
    fn an_untouched_field_waits_for_a_late_commit_during_a_pause_and_not_past_the_settle_time() {
        use super::{ENTER_SETTLE, EnterWas};
        use std::time::{Duration, Instant};
        let at = Instant::now();
        let enter = PendingEnter {
            at,
            read: Some(String::new()),
            quiet: Some(String::new()),
            keys: Some(String::new()),
        };
        let soon = at + Duration::from_millis(200);
        // A loaded desktop: the IME has not committed yet when the pause comes.
        assert_eq!(enter.judge(Some(""), soon, true), EnterWas::Undecided);
        // It lands later and the Enter is part of the typing.
        assert_eq!(enter.judge(Some("高橋"), soon, true), EnterWas::Commit);
        // Past the settle time, or decided at the next input, an untouched field means a key.
        assert_eq!(
            enter.judge(Some(""), at + ENTER_SETTLE, true),
            EnterWas::Key
        );
        assert_eq!(enter.judge(Some(""), soon, false), EnterWas::Key);
        // A field that changed otherwise, or cannot be read (its window closed), is a key now.
        let typed = PendingEnter {
            read: Some("abc".into()),
            ..enter
        };
        assert_eq!(typed.judge(Some(""), soon, true), EnterWas::Key);
        assert_eq!(typed.judge(None, soon, true), EnterWas::Key);
    }

    #[test]
    fn an_enter_that_inserts_text_is_the_imes_commit_one_that_empties_the_field_is_not() {
        assert!(is_insertion("", "高橋"));
        assert!(is_insertion("深谷市", "深谷市仲町"));
        assert!(is_insertion("市町", "市仲町"));
        assert!(is_insertion("一行目", "一行目\n"));
        assert!(!is_insertion("高橋", "高橋"));
        assert!(!is_insertion("高橋", ""));
        assert!(!is_insertion("abc", "xyz1"));
        assert!(!is_insertion("abc", "abd"));
    }
}
