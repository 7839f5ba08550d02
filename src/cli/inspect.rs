//! `kuroko inspect`: the control under the pointer (or at a point, or every control of a
//! window) as the accessibility tree reports it, with the `ui::` selector that finds it and
//! nothing else, so the ICT office can write `ui::` calls by hand.

use crate::desktop::ui::select::{self, Selector};
use crate::desktop::ui::{Control, Role, at_point};
use crate::error::{Error, Result};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The screen point to look at, instead of the pointer.
    #[arg(long, value_name = "X,Y", conflicts_with = "window")]
    at: Option<String>,
    /// Every control of the windows whose title contains this text.
    #[arg(long, value_name = "TITLE")]
    window: Option<String>,
}

fn parse_point(text: &str) -> Result<(i32, i32)> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    match parts.as_slice() {
        [x, y] => match (x.parse::<i32>(), y.parse::<i32>()) {
            (Ok(x), Ok(y)) if x >= 0 && y >= 0 => Ok((x, y)),
            _ => Err(Error::usage(format!(
                "--at {text:?}: give two whole numbers of pixels, e.g. --at 640,400"
            ))),
        },
        _ => Err(Error::usage(format!(
            "--at {text:?}: give the point as X,Y, e.g. --at 640,400"
        ))),
    }
}

fn desktop_error(e: crate::desktop::DesktopError) -> Error {
    Error::Desktop { message: e.0 }
}

/// The call a script would make, e.g. `ui::click(#{…});` or `ui::set_text(#{…}, "…");`.
fn call_for(c: &Control, sel: &Selector) -> String {
    match c.role {
        Role::Text => format!("ui::set_text({sel}, \"…\");"),
        Role::Label | Role::Window => format!("ui::get_text({sel});"),
        _ => format!("ui::click({sel});"),
    }
}

fn show(c: &Control, text: Option<String>, sel: &Selector) {
    println!("{}", select::describe(c));
    println!(
        "  role {} (the system's {:?}){}",
        c.role,
        c.platform_role,
        if c.enabled { "" } else { ", disabled" }
    );
    if let Some(text) = text.filter(|t| *t != c.name) {
        println!("  text {text:?}");
    }
    println!("  {}", call_for(c, sel));
}

pub fn execute(args: Args) -> Result<i32> {
    let mut desktop = crate::desktop::connect_real().map_err(desktop_error)?;
    let kind = desktop.controls.kind();
    if let Some(title) = &args.window {
        let controls = desktop
            .controls
            .controls(Some(title))
            .map_err(desktop_error)?;
        if controls.is_empty() {
            return Err(Error::Refused {
                message: format!(
                    "no window with {title:?} in its title shows controls ({kind}); \
                     `kuroko run` with window::list() shows the open windows"
                ),
            });
        }
        for c in &controls {
            let text = desktop.controls.text(c).ok();
            show(c, text, &select::selector_for(&controls, c));
        }
        return Ok(crate::exit::SUCCEEDED);
    }
    let point = match &args.at {
        Some(text) => parse_point(text)?,
        None => desktop.mouse.position().map_err(desktop_error)?,
    };
    let controls = desktop.controls.controls(None).map_err(desktop_error)?;
    let Some(c) = at_point(&controls, point) else {
        return Err(Error::Refused {
            message: format!(
                "no control at {},{} ({kind}: {} controls in {} windows; a program that \
                 exposes none can be driven by pictures, screen::click_image)",
                point.0,
                point.1,
                controls.len(),
                controls.iter().filter(|c| c.role == Role::Window).count()
            ),
        });
    };
    let text = desktop.controls.text(c).ok();
    println!("at {},{} ({kind}):", point.0, point.1);
    show(c, text, &select::selector_for(&controls, c));
    Ok(crate::exit::SUCCEEDED)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::Rect;

    fn control(window: &str, role: Role, name: &str, rect: (u32, u32, u32, u32)) -> Control {
        Control {
            handle: format!("{window}/{name}"),
            window: window.into(),
            platform_role: role.as_str().into(),
            role,
            name: name.into(),
            id: String::new(),
            rect: Rect {
                x: rect.0,
                y: rect.1,
                w: rect.2,
                h: rect.3,
            },
            enabled: true,
            password: false,
            focused: false,
        }
    }

    #[test]
    fn the_point_lands_on_the_smallest_control_of_the_topmost_window() {
        let controls = vec![
            control("下", Role::Window, "下", (0, 0, 500, 500)),
            control("下", Role::Button, "下のボタン", (100, 100, 80, 30)),
            control("上", Role::Window, "上", (50, 50, 300, 300)),
            control("上", Role::Other("panel".into()), "", (60, 60, 200, 200)),
            control("上", Role::Button, "登録", (100, 100, 80, 30)),
        ];
        assert_eq!(at_point(&controls, (120, 110)).unwrap().name, "登録");
        assert_eq!(at_point(&controls, (400, 400)).unwrap().name, "下");
        assert!(at_point(&controls, (600, 10)).is_none());
        assert_eq!(parse_point(" 12, 34").unwrap(), (12, 34));
        assert!(parse_point("12").is_err());
        assert!(parse_point("-1,3").is_err());
    }
}
