//! Which control a selector means: the same rules for every backend (role, name, id, a label
//! anchor, an index), and errors that name the nearest candidates, so a script that no longer
//! matches its screen says what it sees instead.

use super::{Control, Role};

/// Where a control sits relative to its label anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// The closest control of any direction.
    Near,
    /// On the same line, to the right (a field right of 氏名).
    RightOf,
    /// Under it, overlapping it horizontally.
    Below,
}

impl Anchor {
    pub fn key(self) -> &'static str {
        match self {
            Anchor::Near => "near",
            Anchor::RightOf => "right_of",
            Anchor::Below => "below",
        }
    }
}

/// What a script asks for: every field that is set must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selector {
    /// Part of the window's title.
    pub window: Option<String>,
    pub role: Option<Role>,
    pub name: Option<String>,
    pub name_contains: Option<String>,
    pub id: Option<String>,
    /// Which of several matches, 0 being the first in reading order (top to bottom, then left
    /// to right).
    pub index: Option<usize>,
    /// The text of a label and where the control sits relative to it.
    pub anchor: Option<(Anchor, String)>,
}

impl std::fmt::Display for Selector {
    /// As the script wrote it, e.g. `#{window: "申請", role: "button", name: "登録"}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if let Some(w) = &self.window {
            parts.push(format!("window: {w:?}"));
        }
        if let Some(r) = &self.role {
            parts.push(format!("role: {:?}", r.as_str()));
        }
        if let Some(n) = &self.name {
            parts.push(format!("name: {n:?}"));
        }
        if let Some(n) = &self.name_contains {
            parts.push(format!("name_contains: {n:?}"));
        }
        if let Some(i) = &self.id {
            parts.push(format!("id: {i:?}"));
        }
        if let Some((a, label)) = &self.anchor {
            parts.push(format!("{}: {label:?}", a.key()));
        }
        if let Some(i) = self.index {
            parts.push(format!("index: {i}"));
        }
        write!(f, "#{{{}}}", parts.join(", "))
    }
}

/// Why a selector did not give exactly one control.
#[derive(Debug, Clone, PartialEq)]
pub enum Miss {
    /// Nothing matched; the closest controls, best first (at most five).
    NotFound { nearest: Vec<Control> },
    /// The label anchor itself is not on the screen; labels there, closest first.
    NoAnchor { labels: Vec<String> },
    /// Several matched and no `index` says which (reading order).
    Ambiguous { matches: Vec<Control> },
    /// `index` is past the last match.
    IndexOutOfRange { count: usize },
}

/// A name as people compare it: spaces around it, a trailing colon of a label (氏名：) and
/// mnemonic marks do not count.
pub fn plain(name: &str) -> String {
    let trimmed = name.trim();
    let trimmed = trimmed
        .strip_suffix(':')
        .or_else(|| trimmed.strip_suffix('：'))
        .unwrap_or(trimmed);
    trimmed.trim().to_string()
}

fn name_matches(sel: &Selector, c: &Control) -> bool {
    if let Some(name) = &sel.name
        && plain(&c.name) != plain(name)
    {
        return false;
    }
    if let Some(part) = &sel.name_contains
        && !c.name.contains(part.as_str())
    {
        return false;
    }
    true
}

fn own_matches(sel: &Selector, c: &Control) -> bool {
    sel.role.as_ref().is_none_or(|r| *r == c.role)
        && sel.id.as_ref().is_none_or(|id| *id == c.id)
        && name_matches(sel, c)
        && sel
            .window
            .as_ref()
            .is_none_or(|w| c.window.contains(w.as_str()))
}

/// Puts controls in reading order: rows from the top (a control whose top is within half the
/// row's first control's height of it joins that row), each row left to right. A total order,
/// so every sort of the same controls gives the same `index`.
fn in_reading_order(controls: &mut [&Control]) {
    controls.sort_by_key(|c| (c.rect.y, c.rect.x));
    let mut row_of = Vec::with_capacity(controls.len());
    let (mut row, mut row_top, mut row_slack) = (0usize, None::<u32>, 0u32);
    for c in controls.iter() {
        match row_top {
            Some(top) if c.rect.y < top + row_slack => {}
            _ => {
                row += usize::from(row_top.is_some());
                row_top = Some(c.rect.y);
                row_slack = (c.rect.h / 2).max(1);
            }
        }
        row_of.push(row);
    }
    let mut keyed: Vec<(usize, u32, u32, &Control)> = controls
        .iter()
        .zip(row_of)
        .map(|(c, r)| (r, c.rect.x, c.rect.y, *c))
        .collect();
    keyed.sort_by_key(|(r, x, y, _)| (*r, *x, *y));
    for (slot, (_, _, _, c)) in controls.iter_mut().zip(keyed) {
        *slot = c;
    }
}

/// The distance from `anchor` to `c` in the anchor's direction, or `None` when `c` is not
/// there (e.g. not on the label's line for `right_of`).
fn anchored_distance(anchor: Anchor, label: &Control, c: &Control) -> Option<i64> {
    let (l, r) = (&label.rect, &c.rect);
    let (lx0, ly0, lx1, ly1) = (
        l.x as i64,
        l.y as i64,
        (l.x + l.w) as i64,
        (l.y + l.h) as i64,
    );
    let (cx0, cy0, cx1, cy1) = (
        r.x as i64,
        r.y as i64,
        (r.x + r.w) as i64,
        (r.y + r.h) as i64,
    );
    // A few pixels of overlap are the way toolkits lay out a label and its field.
    let slack = 4;
    match anchor {
        Anchor::RightOf => {
            let centre = (cy0 + cy1) / 2;
            let label_centre = (ly0 + ly1) / 2;
            let same_line = (ly0..=ly1).contains(&centre) || (cy0..=cy1).contains(&label_centre);
            (same_line && cx0 >= lx1 - slack).then(|| (cx0 - lx1).max(0))
        }
        Anchor::Below => {
            let overlaps = cx0 < lx1 && lx0 < cx1;
            (overlaps && cy0 >= ly1 - slack).then(|| (cy0 - ly1).max(0))
        }
        Anchor::Near => {
            let dx = (lx0 - cx1).max(cx0 - lx1).max(0);
            let dy = (ly0 - cy1).max(cy0 - ly1).max(0);
            // Squared, so nothing is lost to rounding.
            Some(dx * dx + dy * dy)
        }
    }
}

/// The one control `sel` means among `controls` (as a backend lists them).
pub fn resolve(controls: &[Control], sel: &Selector) -> Result<Control, Miss> {
    let mut matches: Vec<&Control> = controls.iter().filter(|c| own_matches(sel, c)).collect();
    if let Some((anchor, label)) = &sel.anchor {
        let labels: Vec<&Control> = controls
            .iter()
            .filter(|c| {
                plain(&c.name) == plain(label)
                    && sel
                        .window
                        .as_ref()
                        .is_none_or(|w| c.window.contains(w.as_str()))
            })
            .collect();
        // Fields are often named after their label too: the label itself is the anchor when
        // there is one.
        let labels = if labels.iter().any(|l| l.role == Role::Label) {
            labels
                .into_iter()
                .filter(|l| l.role == Role::Label)
                .collect()
        } else {
            labels
        };
        if labels.is_empty() {
            return Err(Miss::NoAnchor {
                labels: nearest_names(controls, label),
            });
        }
        // Each candidate is measured from the closest label of its own window; the closest
        // candidates win (ties are ambiguous, and `index` picks among them).
        // A field named after its label (Win32, AT-SPI's labelled-by) is not its own anchor.
        // Nor is the window or a panel holding the label, unless the selector asks for a
        // window.
        let holds = |c: &Control, l: &Control| {
            c.rect.x <= l.rect.x
                && c.rect.y <= l.rect.y
                && c.rect.x + c.rect.w >= l.rect.x + l.rect.w
                && c.rect.y + c.rect.h >= l.rect.y + l.rect.h
        };
        let mut measured: Vec<(i64, &Control)> = matches
            .iter()
            .filter(|c| c.role != Role::Window || sel.role == Some(Role::Window))
            .filter(|c| !labels.iter().any(|l| l.handle != c.handle && holds(c, l)))
            .filter_map(|c| {
                labels
                    .iter()
                    .filter(|l| l.window == c.window && l.handle != c.handle)
                    .filter_map(|l| anchored_distance(*anchor, l, c))
                    .min()
                    .map(|d| (d, *c))
            })
            .collect();
        measured.sort_by_key(|(d, _)| *d);
        let best = measured.first().map(|(d, _)| *d);
        matches = measured
            .into_iter()
            .take_while(|(d, _)| Some(*d) == best)
            .map(|(_, c)| c)
            .collect();
    }
    in_reading_order(&mut matches);
    match (matches.len(), sel.index) {
        (0, _) => Err(Miss::NotFound {
            nearest: nearest(controls, sel),
        }),
        (n, Some(i)) if i >= n => Err(Miss::IndexOutOfRange { count: n }),
        (_, Some(i)) => Ok(matches[i].clone()),
        (1, None) => Ok(matches[0].clone()),
        (_, None) => Err(Miss::Ambiguous {
            matches: matches.into_iter().cloned().collect(),
        }),
    }
}

/// The controls most like what `sel` asks for: same role first, then by how close the name is.
fn nearest(controls: &[Control], sel: &Selector) -> Vec<Control> {
    let wanted = sel
        .name
        .as_deref()
        .or(sel.name_contains.as_deref())
        .map(plain);
    let mut scored: Vec<(usize, &Control)> = controls
        .iter()
        .filter(|c| c.role != Role::Window && !c.name.trim().is_empty() || !c.id.is_empty())
        .map(|c| {
            let role_cost = match &sel.role {
                Some(r) if *r != c.role => 100,
                _ => 0,
            };
            let name_cost = match &wanted {
                Some(w) if plain(&c.name).contains(w.as_str()) => 0,
                Some(w) => crate::suggest::edit_distance(w, &plain(&c.name)),
                None => 0,
            };
            let id_cost = match &sel.id {
                Some(id) if *id != c.id => crate::suggest::edit_distance(id, &c.id),
                _ => 0,
            };
            (role_cost + name_cost + id_cost, c)
        })
        .collect();
    scored.sort_by_key(|(s, _)| *s);
    scored.into_iter().take(5).map(|(_, c)| c.clone()).collect()
}

fn nearest_names(controls: &[Control], label: &str) -> Vec<String> {
    let label = plain(label);
    let mut names: Vec<(usize, String)> = controls
        .iter()
        .map(|c| plain(&c.name))
        .filter(|n| !n.is_empty())
        .map(|n| (crate::suggest::edit_distance(&label, &n), n))
        .collect();
    names.sort();
    names.dedup_by(|a, b| a.1 == b.1);
    names.into_iter().take(5).map(|(_, n)| n).collect()
}

/// One control as an error message shows it.
pub fn describe(c: &Control) -> String {
    let mut s = format!("{} {:?}", c.role, c.name);
    if !c.id.is_empty() {
        s.push_str(&format!(" (id {:?})", c.id));
    }
    s.push_str(&format!(
        " at {},{} {}x{} in {:?}",
        c.rect.x, c.rect.y, c.rect.w, c.rect.h, c.window
    ));
    s
}

/// The selector that finds `target` among `controls` and nothing else, the way a person would
/// write it (for `kuroko inspect` and the recorder): role and name when they are unique in the
/// window, else a label it sits right of or below, else the id, else an index.
pub fn selector_for(controls: &[Control], target: &Control) -> Selector {
    let window = Some(target.window.clone());
    let role = Some(target.role.clone());
    let unique = |sel: &Selector| resolve(controls, sel).is_ok_and(|c| c.handle == target.handle);
    let name = plain(&target.name);
    if !name.is_empty() {
        let sel = Selector {
            window: window.clone(),
            role: role.clone(),
            name: Some(name.clone()),
            ..Selector::default()
        };
        if unique(&sel) {
            return sel;
        }
    }
    if !target.id.is_empty() {
        let sel = Selector {
            window: window.clone(),
            role: role.clone(),
            id: Some(target.id.clone()),
            ..Selector::default()
        };
        if unique(&sel) {
            return sel;
        }
    }
    // A label on its line to the left, or above it.
    for anchor in [Anchor::RightOf, Anchor::Below] {
        let mut labels: Vec<(i64, &Control)> = controls
            .iter()
            .filter(|l| l.role == Role::Label && l.window == target.window)
            .filter(|l| !plain(&l.name).is_empty())
            .filter_map(|l| anchored_distance(anchor, l, target).map(|d| (d, l)))
            .collect();
        labels.sort_by_key(|(d, _)| *d);
        for (_, label) in labels.into_iter().take(3) {
            let sel = Selector {
                window: window.clone(),
                role: role.clone(),
                anchor: Some((anchor, plain(&label.name))),
                ..Selector::default()
            };
            if unique(&sel) {
                return sel;
            }
        }
    }
    let mut sel = Selector {
        window,
        role,
        name: (!name.is_empty()).then_some(name),
        ..Selector::default()
    };
    let mut same: Vec<&Control> = controls.iter().filter(|c| own_matches(&sel, c)).collect();
    in_reading_order(&mut same);
    sel.index = same.iter().position(|c| c.handle == target.handle);
    sel
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::Rect;

    fn control(handle: &str, role: Role, name: &str, x: u32, y: u32, w: u32, h: u32) -> Control {
        Control {
            handle: handle.into(),
            window: "申請入力".into(),
            platform_role: role.as_str().into(),
            role,
            name: name.into(),
            id: String::new(),
            rect: Rect { x, y, w, h },
            enabled: true,
            password: false,
            focused: false,
        }
    }

    /// A form: 氏名 and 住所 labels with fields right of them, a remark field below its
    /// label, and two 登録 buttons.
    fn form() -> Vec<Control> {
        vec![
            control("w", Role::Window, "申請入力", 0, 0, 600, 400),
            control("l1", Role::Label, "氏名：", 10, 10, 60, 20),
            control("t1", Role::Text, "氏名", 80, 8, 200, 24),
            control("l2", Role::Label, "住所", 10, 40, 60, 20),
            control("t2", Role::Text, "住所", 80, 38, 200, 24),
            control("l3", Role::Label, "備考", 10, 80, 60, 20),
            control("t3", Role::Text, "", 10, 104, 270, 60),
            control("b1", Role::Button, "登録", 300, 8, 80, 24),
            control("b2", Role::Button, "登録", 300, 38, 80, 24),
            control("b3", Role::Button, "閉じる", 300, 200, 80, 24),
        ]
    }

    fn sel(f: impl FnOnce(&mut Selector)) -> Selector {
        let mut s = Selector::default();
        f(&mut s);
        s
    }

    #[test]
    fn role_and_name_find_one_control() {
        let s = sel(|s| {
            s.role = Some(Role::Button);
            s.name = Some("閉じる".into());
        });
        assert_eq!(resolve(&form(), &s).unwrap().handle, "b3");
    }

    #[test]
    fn fields_are_found_right_of_and_below_their_labels() {
        let right = |label: &str| {
            sel(|s| {
                s.role = Some(Role::Text);
                s.anchor = Some((Anchor::RightOf, label.into()));
            })
        };
        assert_eq!(resolve(&form(), &right("氏名")).unwrap().handle, "t1");
        assert_eq!(resolve(&form(), &right("住所")).unwrap().handle, "t2");
        let below = sel(|s| {
            s.role = Some(Role::Text);
            s.anchor = Some((Anchor::Below, "備考".into()));
        });
        assert_eq!(resolve(&form(), &below).unwrap().handle, "t3");
        let near = sel(|s| {
            s.role = Some(Role::Button);
            s.anchor = Some((Anchor::Near, "住所".into()));
        });
        assert_eq!(resolve(&form(), &near).unwrap().handle, "b2");
        // The field named 住所 is not an anchor while the label 住所 is there: the field
        // nearest the label is t2 itself, not t1 just above the field.
        let near_text = sel(|s| {
            s.role = Some(Role::Text);
            s.anchor = Some((Anchor::Near, "住所".into()));
        });
        assert_eq!(resolve(&form(), &near_text).unwrap().handle, "t2");
    }

    #[test]
    fn two_matches_are_ambiguous_until_an_index_or_anchor_picks_one() {
        let both = sel(|s| {
            s.role = Some(Role::Button);
            s.name = Some("登録".into());
        });
        match resolve(&form(), &both) {
            Err(Miss::Ambiguous { matches }) => {
                let handles: Vec<_> = matches.iter().map(|c| c.handle.as_str()).collect();
                assert_eq!(handles, ["b1", "b2"]);
            }
            other => panic!("{other:?}"),
        }
        let second = Selector {
            index: Some(1),
            ..both.clone()
        };
        assert_eq!(resolve(&form(), &second).unwrap().handle, "b2");
        let past = Selector {
            index: Some(2),
            ..both.clone()
        };
        assert_eq!(
            resolve(&form(), &past),
            Err(Miss::IndexOutOfRange { count: 2 })
        );
        let by_label = Selector {
            anchor: Some((Anchor::RightOf, "住所".into())),
            ..both
        };
        assert_eq!(resolve(&form(), &by_label).unwrap().handle, "b2");
    }

    #[test]
    fn reading_order_is_the_same_whatever_order_the_controls_come_in() {
        let a = control("a", Role::Button, "x", 100, 0, 20, 20);
        let b = control("b", Role::Button, "x", 50, 8, 20, 20);
        let c = control("c", Role::Button, "x", 0, 16, 20, 20);
        let d = control("d", Role::Button, "x", 0, 40, 20, 20);
        let mut one = vec![&a, &b, &c, &d];
        let mut two = vec![&d, &c, &b, &a];
        in_reading_order(&mut one);
        in_reading_order(&mut two);
        let handles = |v: &[&Control]| v.iter().map(|c| c.handle.clone()).collect::<Vec<_>>();
        assert_eq!(handles(&one), handles(&two));
        assert_eq!(handles(&one), ["b", "a", "c", "d"]);
    }

    #[test]
    fn near_a_label_is_never_the_window_or_a_panel_holding_it() {
        let mut controls = form();
        controls.insert(
            1,
            control("p", Role::Other("panel".into()), "", 5, 5, 300, 100),
        );
        let s = sel(|s| s.anchor = Some((Anchor::Near, "氏名".into())));
        // The field right of it and the label under it are equally near: both are named; the
        // window and the panel, at distance 0, are not.
        match resolve(&controls, &s) {
            Err(Miss::Ambiguous { matches }) => {
                let handles: Vec<_> = matches.iter().map(|c| c.handle.as_str()).collect();
                assert_eq!(handles, ["t1", "l2"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_missing_control_names_the_nearest_ones() {
        let s = sel(|s| {
            s.role = Some(Role::Button);
            s.name = Some("登緑".into());
        });
        match resolve(&form(), &s) {
            Err(Miss::NotFound { nearest }) => {
                assert_eq!(nearest[0].name, "登録");
                assert!(nearest.len() <= 5);
            }
            other => panic!("{other:?}"),
        }
        let no_label = sel(|s| s.anchor = Some((Anchor::RightOf, "生年月日".into())));
        assert!(matches!(
            resolve(&form(), &no_label),
            Err(Miss::NoAnchor { .. })
        ));
    }

    #[test]
    fn names_ignore_a_labels_colon_and_surrounding_spaces() {
        let s = sel(|s| {
            s.role = Some(Role::Label);
            s.name = Some(" 氏名 ".into());
        });
        assert_eq!(resolve(&form(), &s).unwrap().handle, "l1");
        let other_window = sel(|s| {
            s.window = Some("別の画面".into());
            s.name = Some("氏名".into());
        });
        assert!(resolve(&form(), &other_window).is_err());
    }

    #[test]
    fn the_selector_written_for_a_control_finds_it_and_only_it() {
        let controls = form();
        for target in &controls {
            let s = selector_for(&controls, target);
            assert_eq!(
                resolve(&controls, &s).map(|c| c.handle),
                Ok(target.handle.clone()),
                "{s}"
            );
        }
        let t1 = selector_for(&controls, &controls[2]);
        assert_eq!(
            t1.to_string(),
            "#{window: \"申請入力\", role: \"text\", name: \"氏名\"}"
        );
        let t3 = selector_for(&controls, &controls[6]);
        assert_eq!(
            t3.to_string(),
            "#{window: \"申請入力\", role: \"text\", below: \"備考\"}"
        );
        let b2 = selector_for(&controls, &controls[8]);
        assert_eq!(b2.index, None, "{b2}");
    }
}
