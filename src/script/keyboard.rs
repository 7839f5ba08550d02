//! `keyboard::` — typing text and pressing keys in the focused window.

use crate::desktop::Key;
use crate::desktop::typing::{self, Method, Piece, Saved};
use crate::events::Level;
use crate::script::context::{RhaiResult, located, run_context, script_error};
use rhai::plugin::*;

/// Types step by step (an abort lands between steps), then puts the clipboard back — also
/// when typing failed or was stopped — and reads the field back when asked.
pub(crate) fn type_with(
    ctx: &NativeCallContext,
    text: &str,
    method: Method,
    verify: bool,
) -> RhaiResult<()> {
    let run = run_context(ctx)?;
    let pieces = run.with_desktop(|d| {
        Ok(typing::plan(text, method, &mut |c| {
            d.keyboard.has_key_for(c)
        }))
    })?;
    let pasted = pieces.iter().any(|p| matches!(p, Piece::Paste(_)));
    run.action(format!(
        "type {text:?}{}",
        if pasted { " (paste)" } else { "" }
    ));
    let mut saved = Saved::default();
    let mut typed = pieces
        .iter()
        .try_for_each(|piece| run.with_desktop(|d| typing::perform(d, piece, &mut saved)));
    let mut read_back = None;
    if typed.is_ok() && verify {
        match run.with_desktop(|d| typing::read_field(d, &mut saved)) {
            Ok(text) => read_back = Some(text),
            Err(e) => typed = Err(e),
        }
    }
    let restored = run
        .connected_desktop(|d| saved.restore(d))
        .unwrap_or_else(|| Ok(Vec::new()));
    match restored {
        Ok(left_out) if !left_out.is_empty() => run.log(
            Level::Warn,
            format!(
                "the clipboard was put back without {} (too large to keep)",
                left_out.join(", ")
            ),
        ),
        Ok(_) => {}
        Err(e) => run.log(
            Level::Warn,
            format!("the clipboard could not be put back: {e}"),
        ),
    }
    typed?;
    match read_back {
        Some(_) if run.dry_run => {
            run.log(Level::Info, "dry run: the field was not read back");
            Ok(())
        }
        Some(Some(got)) if got == text => Ok(()),
        Some(Some(got)) => Err(script_error(format!(
            "the field holds {got:?}, not {text:?} as typed"
        ))),
        Some(None) => Err(script_error(format!(
            "the field could not be read back after typing {text:?} (Ctrl+A, Ctrl+C copied nothing)"
        ))),
        None => Ok(()),
    }
}

fn parse_key(name: &str) -> RhaiResult<Key> {
    Key::parse(name).map_err(script_error)
}

#[export_module]
pub mod keyboard_api {
    use super::*;

    /// Types `text` into the focused window exactly as written — any Unicode text: kanji
    /// (also rare ones such as 𠮷 and 髙), kana, half-width kana (ｶﾞ), symbols (㈱ ① 〒 ～),
    /// full-width digits. `"\n"` presses Enter and `"\t"` Tab. Lines the keyboard layout can
    /// type go out as key events; other lines are pasted through the clipboard (Ctrl+V), and
    /// the clipboard's earlier contents are put back afterwards. A stop request ends typing at
    /// once.
    ///
    /// ```rhai
    /// keyboard::type_text("Yamada Taro");
    /// keyboard::type_text("埼玉県深谷市仲町１１－１\n");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn type_text(ctx: NativeCallContext, text: &str) -> RhaiResult<()> {
        located(&ctx, || type_with(&ctx, text, Method::Auto, false))
    }

    /// Types `text` with options:
    /// - `method`: `"auto"` (the default, as above), `"keys"` (key events only; characters the
    ///   layout lacks are typed by remapping a spare key, which some applications read late —
    ///   prefer `"auto"` for Japanese), or `"paste"` (the clipboard for every line);
    /// - `verify`: `true` to read the field back afterwards (select all, copy) and fail, with
    ///   both texts, if it does not hold exactly `text`. The field's whole content is compared,
    ///   so clear it first; the caret is left at the end.
    ///
    /// ```rhai
    /// keyboard::hotkey(["Ctrl", "a"]);                       // replace what the field holds
    /// keyboard::type_text("髙橋 𠮷男", #{ verify: true });
    /// keyboard::type_text("ﾀｶﾊｼ", #{ method: "paste" });
    /// ```
    #[rhai_fn(name = "type_text", return_raw)]
    pub fn type_text_with(
        ctx: NativeCallContext,
        text: &str,
        options: rhai::Map,
    ) -> RhaiResult<()> {
        located(&ctx, || {
            let mut method = Method::Auto;
            let mut verify = false;
            for (key, value) in &options {
                match key.as_str() {
                    "method" => method = Method::parse(&value.to_string()).map_err(script_error)?,
                    "verify" => {
                        verify = value.as_bool().map_err(|t| {
                            script_error(format!("option verify: expected true or false, got {t}"))
                        })?
                    }
                    other => {
                        return Err(script_error(format!(
                            "unknown option `{other}`{}; options are method, verify",
                            crate::suggest::hint(other, ["method", "verify"].into_iter())
                        )));
                    }
                }
            }
            type_with(&ctx, text, method, verify)
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
