//! The script API: one file per namespace, each a Rhai plugin module whose `///` comments
//! (with a Rhai example each) are the single source of the scripting reference.

pub mod context;
mod global;
mod images;
mod keyboard;
mod log;
mod mouse;
mod queue;
mod screen;
mod secret;
pub(crate) mod sheet;
mod task;
mod text;
mod ui;
mod web;
mod window;

use rhai::{Engine, exported_module};

pub use context::{Items, RunContext};
pub use web::WebState;

/// (namespace, one-line description) in the order the reference shows them.
pub const NAMESPACES: &[(&str, &str)] = &[
    (
        "keyboard",
        "Typing text and pressing keys in the focused window.",
    ),
    (
        "mouse",
        "Moving the pointer, clicking, dragging and scrolling. Coordinates are screen pixels from the top-left corner.",
    ),
    (
        "screen",
        "The screen: finding pictures of buttons and icons on it, its size, its pixels, and screenshots.",
    ),
    (
        "window",
        "Finding, waiting for and activating application windows by (part of) their title.",
    ),
    (
        "ui",
        "Controls found by their role and name (the 登録 button, the field right of 氏名) through the system's accessibility tree, instead of by their picture.",
    ),
    (
        "task",
        "Counting the items a run processes (they are what time saved is computed from) and reading run variables.",
    ),
    (
        "queue",
        "Work items from the scenario's queue, shared by every robot PC: take the next one, end it as done or failed.",
    ),
    (
        "sheet",
        "Spreadsheets and CSV: reading rows as maps, writing xlsx and CSV (UTF-8 or Shift_JIS).",
    ),
    (
        "text",
        "Japanese clerical conversions: full-width and half-width forms (全角/半角), and 和暦 dates.",
    ),
    (
        "web",
        "Browser-based business systems (Chromium, Chrome, Edge): pages, frames and popups driven by locators that read like the page, each step waiting until its element is ready.",
    ),
    (
        "secret",
        "Passwords and tokens set with kuroko secret set: kept encrypted, read on the PCs they were set for, shown as *** in everything the run writes.",
    ),
    ("log", "Messages in the run log and the terminal."),
];

/// Registers every namespace and the global functions.
pub fn register(engine: &mut Engine) {
    engine.register_global_module(exported_module!(global::global_api).into());
    engine.register_static_module("keyboard", exported_module!(keyboard::keyboard_api).into());
    engine.register_static_module("mouse", exported_module!(mouse::mouse_api).into());
    engine.register_static_module("screen", exported_module!(screen::screen_api).into());
    engine.register_static_module("window", exported_module!(window::window_api).into());
    engine.register_static_module("ui", exported_module!(ui::ui_api).into());
    engine.register_static_module("task", exported_module!(task::task_api).into());
    engine.register_static_module("queue", exported_module!(queue::queue_api).into());
    engine.register_static_module("log", exported_module!(log::log_api).into());
    engine.register_static_module("secret", exported_module!(secret::secret_api).into());
    engine.register_static_module("text", exported_module!(text::text_api).into());
    engine.register_static_module("sheet", exported_module!(sheet::sheet_api).into());
    engine.register_static_module("web", exported_module!(web::web_api).into());
    sheet::register_types(engine);
    web::register_types(engine);
}

/// Converts a script integer to a screen coordinate, with a clear error.
pub(crate) fn coordinate(name: &str, value: rhai::INT) -> context::RhaiResult<i32> {
    i32::try_from(value)
        .ok()
        .filter(|v| v.abs() <= 100_000)
        .ok_or_else(|| {
            context::script_error(format!("{name} = {value} is not a screen coordinate"))
        })
}
