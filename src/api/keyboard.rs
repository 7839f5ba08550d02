//! `keyboard::` — typing text and pressing keys in the focused window.

use crate::api::context::{RhaiResult, located, run_context, script_error};
use crate::desktop::Key;
use rhai::plugin::*;

fn parse_key(name: &str) -> RhaiResult<Key> {
    Key::parse(name).map_err(script_error)
}

#[export_module]
pub mod keyboard_api {
    use super::*;

    /// Characters typed between two checks for an abort: small enough that a stop lands
    /// within milliseconds even in a long text.
    const CHUNK: usize = 8;

    /// Types `text` into the focused window exactly as written (letters, digits, symbols,
    /// spaces; `"\n"` presses Enter and `"\t"` Tab). A stop request ends typing at once.
    ///
    /// ```rhai
    /// keyboard::type_text("Yamada Taro");
    /// keyboard::type_text("1-2-3 Chuo\n");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn type_text(ctx: NativeCallContext, text: &str) -> RhaiResult<()> {
        located(&ctx, || {
            let run = run_context(&ctx)?;
            run.action(format!("type {text:?}"));
            let chars: Vec<char> = text.chars().collect();
            for chunk in chars.chunks(CHUNK) {
                let piece: String = chunk.iter().collect();
                run.with_desktop(|d| d.keyboard.type_text(&piece))?;
            }
            Ok(())
        })
    }

    /// Presses and releases one key. Names are case-insensitive: `"Enter"`, `"Tab"`,
    /// `"Escape"`, `"Backspace"`, `"Delete"`, `"Home"`, `"End"`, `"PageUp"`, `"PageDown"`,
    /// `"Up"`, `"Down"`, `"Left"`, `"Right"`, `"Space"`, `"F1"`–`"F24"`, `"Shift"`, `"Ctrl"`,
    /// `"Alt"`, `"Meta"`, `"Insert"`, `"CapsLock"`, `"PrintScreen"`, `"Pause"`,
    /// `"ZenkakuHankaku"` (半角/全角), `"Henkan"` (変換), `"Muhenkan"` (無変換), or a single
    /// character such as `"a"` or `"5"`. An unknown name is an error that suggests the closest one.
    ///
    /// ```rhai
    /// keyboard::press("Tab");
    /// keyboard::press("F5");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn press(ctx: NativeCallContext, key: &str) -> RhaiResult<()> {
        located(&ctx, || {
            let run = run_context(&ctx)?;
            let key = parse_key(key)?;
            run.action(format!("press {key}"));
            run.with_desktop(|d| {
                d.keyboard.key_down(key)?;
                d.keyboard.key_up(key)
            })
        })
    }

    /// Holds the keys down in order, then releases them in reverse order: a shortcut such as
    /// Ctrl+S. Every name is checked before any key is pressed.
    ///
    /// ```rhai
    /// keyboard::hotkey(["Ctrl", "s"]);
    /// keyboard::hotkey(["Ctrl", "Shift", "Escape"]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn hotkey(ctx: NativeCallContext, keys: rhai::Array) -> RhaiResult<()> {
        located(&ctx, || {
            let run = run_context(&ctx)?;
            if keys.is_empty() {
                return Err(script_error(
                    "hotkey needs at least one key name, e.g. [\"Ctrl\", \"s\"]",
                ));
            }
            let mut parsed = Vec::with_capacity(keys.len());
            for (i, k) in keys.into_iter().enumerate() {
                let name = k.into_immutable_string().map_err(|t| {
                    script_error(format!(
                        "hotkey: element {i} is a {t}, expected a key name string"
                    ))
                })?;
                parsed.push(parse_key(&name)?);
            }
            let label = parsed
                .iter()
                .map(Key::to_string)
                .collect::<Vec<_>>()
                .join("+");
            run.action(format!("hotkey {label}"));
            run.with_desktop(|d| {
                let mut pressed = Vec::new();
                let mut result = Ok(());
                for key in &parsed {
                    match d.keyboard.key_down(*key) {
                        Ok(()) => pressed.push(*key),
                        Err(e) => {
                            result = Err(e);
                            break;
                        }
                    }
                }
                for key in pressed.iter().rev() {
                    let released = d.keyboard.key_up(*key);
                    if result.is_ok() {
                        result = released;
                    }
                }
                result
            })
        })
    }

    /// Holds a key down until `key_up` (or the end of the run, which releases every held key).
    ///
    /// ```rhai
    /// keyboard::key_down("Shift");
    /// keyboard::press("Down");
    /// keyboard::press("Down");
    /// keyboard::key_up("Shift");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn key_down(ctx: NativeCallContext, key: &str) -> RhaiResult<()> {
        located(&ctx, || {
            let run = run_context(&ctx)?;
            let key = parse_key(key)?;
            run.action(format!("key_down {key}"));
            run.with_desktop(|d| d.keyboard.key_down(key))
        })
    }

    /// Releases a key held with `key_down`.
    ///
    /// ```rhai
    /// keyboard::key_down("Ctrl");
    /// mouse::click(200, 300);
    /// keyboard::key_up("Ctrl");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn key_up(ctx: NativeCallContext, key: &str) -> RhaiResult<()> {
        located(&ctx, || {
            let run = run_context(&ctx)?;
            let key = parse_key(key)?;
            run.action(format!("key_up {key}"));
            run.with_desktop(|d| d.keyboard.key_up(key))
        })
    }
}
