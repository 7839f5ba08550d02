//! The page itself: HTML, CSS and JavaScript built into the binary, so the launcher works on a
//! closed network (LGWAN) with nothing to fetch.

pub const INDEX_HTML: &str = include_str!("page/index.html");
pub const APP_JS: &str = include_str!("page/app.js");
pub const STYLE_CSS: &str = include_str!("page/style.css");
