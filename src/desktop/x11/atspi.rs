//! `ui::` on Linux through AT-SPI: GTK, Qt, LibreOffice and Firefox publish their widgets on
//! the accessibility bus, so a scenario finds the 登録 button or the 氏名 field by role and name
//! and drives it with the toolkit's own actions (Action, EditableText, Component) instead of
//! pixels. The calls are zbus's async ones, waited for in place (no runtime: zbus runs its own
//! thread): a window's tree is read with all its questions in flight at once, since one at a
//! time costs a round trip through the bus each (a 300-row GTK list took 545 ms that way,
//! 140 ms this way).

use std::cell::Cell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use atspi::proxy::accessible::AccessibleProxy;
use atspi::proxy::action::ActionProxy;
use atspi::proxy::bus::BusProxy;
use atspi::proxy::component::ComponentProxy;
use atspi::proxy::editable_text::EditableTextProxy;
use atspi::proxy::text::TextProxy;
use atspi::{CoordType, Interface, ObjectRefOwned, RelationType, State, StateSet};
use futures_lite::future::block_on;
use futures_util::future::{join, join_all, join4, try_join_all};
use zbus::Connection;
use zbus::proxy::{CacheProperties, ProxyImpl};

use crate::desktop::ui::{Control, Controls, Role};
use crate::desktop::{DResult, DesktopError};
use crate::geometry::Rect;

/// How long a busy or hung program may keep kuroko waiting for one answer.
const CALL_TIMEOUT: Duration = Duration::from_secs(3);
/// Deeper than any real form; a deeper tree is a loop or a document, not a dialog.
const MAX_DEPTH: usize = 64;
/// Objects read per window; a window past this is a big table or document.
const MAX_OBJECTS: usize = 5_000;
const REGISTRY: &str = "org.a11y.atspi.Registry";
const ROOT: &str = "/org/a11y/atspi/accessible/root";
/// How long after Qt's "Press" action its click has happened (animateClick's 100 ms, and a
/// margin for a busy program).
const QT_PRESS_DELAY: Duration = Duration::from_millis(200);
/// The action names that mean "do what a click does", in any case.
const PRESS_ACTIONS: [&str; 4] = ["click", "press", "activate", "toggle"];
const HELP: &str = "run the program and kuroko in a desktop session with a D-Bus session bus \
     (e.g. under `dbus-run-session`) and at-spi2-core installed; Qt programs also need \
     QT_LINUX_ACCESSIBILITY_ALWAYS_ON=1, and NO_AT_BRIDGE must not be set";

/// The accessibility bus of this desktop session.
pub struct AtSpi {
    bus: Connection,
}

/// One object on the bus: the program's bus name and the object's path.
#[derive(Debug, Clone)]
struct Object {
    bus: String,
    path: String,
}

impl Object {
    fn from_handle(handle: &str) -> DResult<Object> {
        match handle.split_once('|') {
            Some((bus, path)) if !bus.is_empty() && path.starts_with('/') => Ok(Object {
                bus: bus.to_string(),
                path: path.to_string(),
            }),
            _ => Err(DesktopError::new(format!(
                "AT-SPI: not a control handle: {handle:?}"
            ))),
        }
    }

    fn handle(&self) -> String {
        format!("{}|{}", self.bus, self.path)
    }
}

impl From<ObjectRefOwned> for Object {
    fn from(r: ObjectRefOwned) -> Object {
        Object {
            bus: r.name_as_str().unwrap_or_default().to_string(),
            path: r.path_as_str().to_string(),
        }
    }
}

/// Whether an error means the object or its program no longer exists.
fn is_gone(e: &zbus::Error) -> bool {
    use zbus::fdo::Error as Fdo;
    match e {
        zbus::Error::MethodError(name, ..) => matches!(
            name.as_str(),
            "org.freedesktop.DBus.Error.ServiceUnknown"
                | "org.freedesktop.DBus.Error.UnknownObject"
                | "org.freedesktop.DBus.Error.NameHasNoOwner"
                // The program quit while answering (a dialog closed by the click before).
                | "org.freedesktop.DBus.Error.NoReply"
        ),
        zbus::Error::FDO(e) => matches!(
            **e,
            Fdo::ServiceUnknown(_)
                | Fdo::UnknownObject(_)
                | Fdo::NameHasNoOwner(_)
                | Fdo::NoReply(_)
        ),
        _ => false,
    }
}

/// Whether an error means the program did not answer within `CALL_TIMEOUT`.
fn is_timeout(e: &zbus::Error) -> bool {
    matches!(e, zbus::Error::InputOutput(io) if io.kind() == std::io::ErrorKind::TimedOut)
}

/// Turns a bus error into a message naming what was being done and to which object.
fn failed(what: &str, object: &Object, e: zbus::Error) -> DesktopError {
    if is_gone(&e) {
        DesktopError::new(format!(
            "AT-SPI: the control {} is gone (its program closed or its window changed); \
             list the controls again",
            object.handle()
        ))
    } else if is_timeout(&e) {
        DesktopError::new(format!(
            "AT-SPI: the program behind {} did not answer within {} s when asked to {what} \
             (busy or hung?)",
            object.handle(),
            CALL_TIMEOUT.as_secs()
        ))
    } else {
        DesktopError::new(format!("AT-SPI: cannot {what} of {}: {e}", object.handle()))
    }
}

/// kuroko's role for an AT-SPI role name.
fn role_of(role_name: &str, states: StateSet) -> Role {
    match role_name {
        "push button" | "toggle button" | "push button menu" => Role::Button,
        "text" | "entry" | "password text" => Role::Text,
        "paragraph" if states.contains(State::Editable) => Role::Text,
        "check box" => Role::Check,
        "radio button" => Role::Radio,
        "combo box" => Role::Combo,
        "list" | "list box" => Role::List,
        "list item" => Role::ListItem,
        "menu item" | "check menu item" | "radio menu item" => Role::MenuItem,
        "page tab" => Role::Tab,
        "label" | "static" => Role::Label,
        "frame" | "dialog" | "window" => Role::Window,
        other => Role::Other(other.replace(' ', "_")),
    }
}

/// Screen extents as a `Rect`, clipped to the screen's top-left; `None` when nothing is left.
fn rect_of((x, y, w, h): (i32, i32, i32, i32)) -> Option<Rect> {
    let (left, top) = (x.max(0), y.max(0));
    let (right, bottom) = (x.saturating_add(w), y.saturating_add(h));
    (right > left && bottom > top).then(|| Rect {
        x: left as u32,
        y: top as u32,
        w: (right - left) as u32,
        h: (bottom - top) as u32,
    })
}

type Walked<'a> = Pin<Box<dyn Future<Output = DResult<Vec<Control>>> + 'a>>;

pub fn connect() -> DResult<AtSpi> {
    block_on(async {
        let address = match std::env::var("AT_SPI_BUS_ADDRESS") {
            Ok(address) if !address.is_empty() => address,
            _ => {
                let session = Connection::session().await.map_err(|e| {
                    DesktopError::new(format!("AT-SPI: no D-Bus session bus ({e}); {HELP}"))
                })?;
                let bus = BusProxy::new(&session).await;
                match bus {
                    Ok(bus) => bus.get_address().await,
                    Err(e) => Err(e),
                }
                .map_err(|e| {
                    DesktopError::new(format!(
                        "AT-SPI: the session bus has no accessibility bus (org.a11y.Bus: {e}); \
                         {HELP}"
                    ))
                })?
            }
        };
        let builder = zbus::connection::Builder::address(address.as_str());
        let bus = match builder {
            Ok(builder) => builder.method_timeout(CALL_TIMEOUT).build().await,
            Err(e) => Err(e),
        }
        .map_err(|e| {
            DesktopError::new(format!(
                "AT-SPI: cannot connect to the accessibility bus at {address}: {e}; {HELP}"
            ))
        })?;
        Ok(AtSpi { bus })
    })
}

impl AtSpi {
    /// A proxy for one interface of `object`, without zbus's property cache (which would read
    /// every property and subscribe to their changes first).
    async fn proxy<'a, P>(&'a self, object: &Object) -> DResult<P>
    where
        P: ProxyImpl<'a> + From<zbus::Proxy<'a>>,
    {
        let built = match P::builder(&self.bus)
            .destination(object.bus.clone())
            .and_then(|b| b.path(object.path.clone()))
        {
            Ok(builder) => builder.cache_properties(CacheProperties::No).build().await,
            Err(e) => Err(e),
        };
        built.map_err(|e| failed("reach", object, e))
    }

    async fn has(&self, object: &Object, interface: Interface) -> DResult<bool> {
        let node: AccessibleProxy = self.proxy(object).await?;
        let interfaces = node.get_interfaces().await;
        Ok(interfaces
            .map_err(|e| failed("read the interfaces", object, e))?
            .contains(interface))
    }

    /// One object and its showing descendants, parents before children. Each object costs
    /// two rounds of questions (state and extents; then role, name, id and children), and
    /// every child is read at the same time as its siblings and their subtrees.
    fn visit<'a>(
        &'a self,
        object: Object,
        window: &'a str,
        depth: usize,
        read: &'a Cell<usize>,
    ) -> Walked<'a> {
        Box::pin(async move {
            read.set(read.get() + 1);
            if read.get() > MAX_OBJECTS {
                return Err(DesktopError::new(format!(
                    "AT-SPI: the window {window:?} has more than {MAX_OBJECTS} accessible \
                     objects (a large table or document?); kuroko reads no more than that"
                )));
            }
            if depth > MAX_DEPTH {
                return Err(DesktopError::new(format!(
                    "AT-SPI: the window {window:?} nests controls more than {MAX_DEPTH} deep; \
                     kuroko reads no deeper"
                )));
            }
            let node: AccessibleProxy = self.proxy(&object).await?;
            let component: ComponentProxy = self.proxy(&object).await?;
            let (states, extents) =
                join(node.get_state(), component.get_extents(CoordType::Screen)).await;
            let states = match states {
                Ok(states) => states,
                // Gone while the window was being read: it no longer shows.
                Err(e) if is_gone(&e) => return Ok(Vec::new()),
                Err(e) => return Err(failed("read the state", &object, e)),
            };
            // SHOWING means the object and all its ancestors are mapped: nothing below a
            // hidden object shows either. Extents read but empty: nothing of it is on the
            // screen, nor of anything in it (Qt's closed combo-box popup says its items show,
            // at 0,0; GTK's rows scrolled out of a list are showing but empty).
            let rect = match extents {
                Ok(extents) => match rect_of(extents) {
                    Some(rect) => Some(rect),
                    None => return Ok(Vec::new()),
                },
                Err(_) => None,
            };
            if !states.contains(State::Showing) {
                return Ok(Vec::new());
            }
            let (role_name, name, id, children) = join4(
                node.get_role_name(),
                node.name(),
                node.accessible_id(),
                node.get_children(),
            )
            .await;
            let children = match children {
                Ok(children) => children,
                Err(e) if is_gone(&e) => return Ok(Vec::new()),
                Err(e) => return Err(failed("read the children", &object, e)),
            };
            // A program may list an empty reference among the children: there is nothing there.
            let below = try_join_all(
                children
                    .into_iter()
                    .filter(|child| !child.is_null())
                    .map(|child| self.visit(child.into(), window, depth + 1, read)),
            );
            let mut out = Vec::new();
            if let Some(rect) = rect
                && states.contains(State::Visible)
            {
                let platform_role = match role_name {
                    Ok(role) => role,
                    Err(e) if is_gone(&e) => return Ok(Vec::new()),
                    Err(e) => return Err(failed("read the role", &object, e)),
                };
                // The window itself is a window, whatever the toolkit calls it (Qt: "filler").
                let role = match depth {
                    0 => Role::Window,
                    _ => role_of(&platform_role, states),
                };
                let name = match name {
                    Ok(name) => name,
                    Err(e) if is_gone(&e) => return Ok(Vec::new()),
                    Err(e) => return Err(failed("read the name", &object, e)),
                };
                out.push(Control {
                    password: platform_role == "password text",
                    handle: object.handle(),
                    window: window.to_string(),
                    role,
                    platform_role,
                    name,
                    // AccessibleId is at-spi 2.34+ and not in Qt 5: none is "".
                    id: id.unwrap_or_default(),
                    rect,
                    enabled: states.contains(State::Enabled) || states.contains(State::Sensitive),
                    focused: states.contains(State::Focused),
                });
            }
            out.extend(below.await?.into_iter().flatten());
            Ok(out)
        })
    }

    /// Names the nameless fields and lists after the label that is LABEL_FOR them (Qt's
    /// buddies and form rows, GTK's mnemonic widgets; zenity's forms have neither).
    async fn name_from_labels(&self, controls: &mut [Control]) -> DResult<()> {
        let nameless = |c: &Control| {
            c.name.is_empty() && matches!(c.role, Role::Text | Role::List | Role::Combo)
        };
        if !controls.iter().any(nameless) {
            return Ok(());
        }
        let labels: Vec<(Object, &str)> = controls
            .iter()
            .filter(|c| c.role == Role::Label && !c.name.is_empty())
            .map(|c| Ok((Object::from_handle(&c.handle)?, c.name.as_str())))
            .collect::<DResult<_>>()?;
        let relations = try_join_all(labels.iter().map(|(object, _)| async move {
            let node: AccessibleProxy = self.proxy(object).await?;
            match node.get_relation_set().await {
                Ok(relations) => Ok(relations),
                Err(e) if is_gone(&e) => Ok(Vec::new()),
                Err(e) => Err(failed("read the relations", object, e)),
            }
        }))
        .await?;
        let mut label_of: HashMap<String, String> = HashMap::new();
        for ((_, label), relations) in labels.iter().zip(relations) {
            let targets = relations
                .into_iter()
                .filter(|(kind, _)| *kind == RelationType::LabelFor)
                .flat_map(|(_, targets)| targets);
            for target in targets {
                label_of
                    .entry(Object::from(target).handle())
                    .or_insert_with(|| label.to_string());
            }
        }
        for control in controls.iter_mut().filter(|c| nameless(c)) {
            if let Some(label) = label_of.get(&control.handle) {
                control.name = label.clone();
            }
        }
        Ok(())
    }

    /// The top-level windows of one program whose title contains `window`, each as its
    /// title, object and whether it is the active window; `None` when the program did not
    /// answer in time. A program that quit since the registry listed it has none.
    async fn windows_of(
        &self,
        app: Object,
        window: Option<&str>,
    ) -> DResult<Option<Vec<(String, Object, bool)>>> {
        let node: AccessibleProxy = self.proxy(&app).await?;
        let tops = match node.get_children().await {
            Ok(tops) => tops,
            Err(e) if is_gone(&e) => return Ok(Some(Vec::new())),
            Err(e) if is_timeout(&e) => return Ok(None),
            Err(e) => return Err(failed("list the windows", &app, e)),
        };
        let titled = try_join_all(tops.into_iter().map(|top| async move {
            let top = Object::from(top);
            let node: AccessibleProxy = self.proxy(&top).await?;
            let (title, states) = join(node.name(), node.get_state()).await;
            let active = states.is_ok_and(|s| s.contains(State::Active));
            match title {
                Ok(title) => Ok(Some((title, top, active))),
                Err(e) if is_gone(&e) => Ok(None),
                Err(e) => Err(failed("read the title", &top, e)),
            }
        }))
        .await?;
        Ok(Some(
            titled
                .into_iter()
                .flatten()
                .filter(|(title, _, _)| window.is_none_or(|part| title.contains(part)))
                .collect(),
        ))
    }

    async fn walk(&self, window: Option<&str>) -> DResult<Vec<Control>> {
        let registry = Object {
            bus: REGISTRY.to_string(),
            path: ROOT.to_string(),
        };
        let node: AccessibleProxy = self.proxy(&registry).await?;
        let apps = node
            .get_children()
            .await
            .map_err(|e| failed("list the programs", &registry, e))?;
        let answers = try_join_all(
            apps.into_iter()
                .map(|app| self.windows_of(app.into(), window)),
        )
        .await?;
        // A hung program is left out unless nothing else matched: its windows cannot be
        // driven anyway, and it must not stop kuroko from driving the others.
        let silent = answers.iter().filter(|a| a.is_none()).count();
        let mut windows: Vec<(String, Object, bool)> =
            answers.into_iter().flatten().flatten().collect();
        // AT-SPI knows no stacking order; the active window is the one on top, so it goes
        // last (the others stay in the registry's order).
        windows.sort_by_key(|(_, _, active)| *active);
        if windows.is_empty() && silent > 0 {
            return Err(DesktopError::new(format!(
                "AT-SPI: no window{} answered; {silent} program(s) did not answer within {} s \
                 (busy or hung?)",
                window.map(|w| format!(" titled {w:?}")).unwrap_or_default(),
                CALL_TIMEOUT.as_secs()
            )));
        }
        let reads: Vec<Cell<usize>> = windows.iter().map(|_| Cell::new(0)).collect();
        let walked = join_all(
            windows
                .iter()
                .zip(&reads)
                .map(|((title, top, _), read)| self.visit(top.clone(), title, 0, read)),
        )
        .await;
        // Every window at once (the recorder, `inspect --at`): one too big to read (a
        // spreadsheet) is left out rather than hiding all the others; a window asked for by
        // title says why it cannot be read.
        let mut controls = Vec::new();
        for result in walked {
            match result {
                Ok(found) => controls.extend(found),
                Err(e) if window.is_some() => return Err(e),
                Err(_) => {}
            }
        }
        self.name_from_labels(&mut controls).await?;
        Ok(controls)
    }
}

impl Controls for AtSpi {
    fn kind(&self) -> &'static str {
        "AT-SPI"
    }

    fn controls(&mut self, window: Option<&str>) -> DResult<Vec<Control>> {
        block_on(self.walk(window))
    }

    fn press(&mut self, control: &Control) -> DResult<bool> {
        // A field's own action is "activate" (Enter): a click on it must not submit the form.
        if !matches!(
            control.role,
            Role::Button | Role::Check | Role::Radio | Role::MenuItem | Role::Tab | Role::ListItem
        ) {
            return Ok(false);
        }
        let object = Object::from_handle(&control.handle)?;
        block_on(async {
            if !self.has(&object, Interface::Action).await? {
                return Ok(false);
            }
            let action: ActionProxy = self.proxy(&object).await?;
            let actions = action
                .get_actions()
                .await
                .map_err(|e| failed("list the actions", &object, e))?;
            let named = actions
                .iter()
                .position(|a| PRESS_ACTIONS.iter().any(|p| a.name.eq_ignore_ascii_case(p)));
            let Some(index) = named else {
                return Ok(false);
            };
            let deferred = actions[index].name == "Press";
            let index = i32::try_from(index).unwrap_or(0);
            let done = action.do_action(index).await;
            let done = done.map_err(|e| failed("do the action", &object, e))?;
            if done && deferred {
                // Qt's "Press" is QAbstractButton::animateClick: the click comes 100 ms later.
                // The next step must see what it did (a button disabled while saving).
                std::thread::sleep(QT_PRESS_DELAY);
            }
            Ok(done)
        })
    }

    fn set_text(&mut self, control: &Control, text: &str) -> DResult<bool> {
        let object = Object::from_handle(&control.handle)?;
        block_on(async {
            if !self.has(&object, Interface::EditableText).await? {
                return Ok(false);
            }
            let editable: EditableTextProxy = self.proxy(&object).await?;
            let set = editable.set_text_contents(text).await;
            set.map_err(|e| failed("set the text", &object, e))
        })
    }

    fn text(&mut self, control: &Control) -> DResult<String> {
        let object = Object::from_handle(&control.handle)?;
        block_on(async {
            if self.has(&object, Interface::Text).await? {
                let text: TextProxy = self.proxy(&object).await?;
                // -1 is "to the end" in GTK and Qt alike, so one call; CharacterCount would be a
                // second, and counts UTF-16 units in Qt ("a𠮷b" is 4) but characters in GTK (3).
                let all = text.get_text(0, -1).await;
                return all.map_err(|e| failed("read the text", &object, e));
            }
            let node: AccessibleProxy = self.proxy(&object).await?;
            let name = node.name().await;
            name.map_err(|e| failed("read the name", &object, e))
        })
    }
}
