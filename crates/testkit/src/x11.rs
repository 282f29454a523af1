//! The test display seen as a window manager sees it: an app's top-level windows, whether
//! each shows, and closing one the way a title bar's close button does (the ICCCM
//! `WM_DELETE_WINDOW` message, which GTK turns into the window's close request). Xvfb runs no
//! window manager, so a test plays that part for the one thing it needs.

use x11rb::connection::Connection as _;
use x11rb::protocol::xproto::{
    AtomEnum, ClientMessageEvent, ConnectionExt as _, EventMask, MapState, Window,
};
use x11rb::rust_connection::RustConnection;

/// One top-level window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopLevel {
    pub id: u32,
    pub title: String,
    /// Mapped and viewable: on screen (hidden windows are unmapped).
    pub shown: bool,
}

fn connect(display: &str) -> (RustConnection, usize) {
    x11rb::connect(Some(display))
        .unwrap_or_else(|why| panic!("connect to the X display {display}: {why}"))
}

fn atom(conn: &RustConnection, name: &str) -> u32 {
    let cookie = conn
        .intern_atom(false, name.as_bytes())
        .unwrap_or_else(|why| panic!("the X atom {name}: {why}"));
    cookie
        .reply()
        .unwrap_or_else(|why| panic!("the X atom {name}: {why}"))
        .atom
}

fn property(conn: &RustConnection, window: Window, name: u32, kind: impl Into<u32>) -> Vec<u8> {
    conn.get_property(false, window, name, kind, 0, 1024)
        .ok()
        .and_then(|cookie| cookie.reply().ok())
        .map(|reply| reply.value)
        .unwrap_or_default()
}

/// The top-level windows of process `pid` that a window manager would decorate: they take
/// `WM_DELETE_WINDOW` (GTK's hidden helper windows do not).
pub fn top_levels(display: &str, pid: u32) -> Vec<TopLevel> {
    let (conn, screen) = connect(display);
    let root = conn.setup().roots[screen].root;
    let (net_wm_pid, protocols, delete) = (
        atom(&conn, "_NET_WM_PID"),
        atom(&conn, "WM_PROTOCOLS"),
        atom(&conn, "WM_DELETE_WINDOW"),
    );
    let (net_wm_name, utf8) = (atom(&conn, "_NET_WM_NAME"), atom(&conn, "UTF8_STRING"));
    let children = conn
        .query_tree(root)
        .ok()
        .and_then(|cookie| cookie.reply().ok())
        .map(|tree| tree.children)
        .unwrap_or_default();
    let cardinals = |bytes: Vec<u8>| -> Vec<u32> {
        bytes
            .chunks_exact(4)
            .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    };
    children
        .into_iter()
        .filter(|w| cardinals(property(&conn, *w, net_wm_pid, AtomEnum::CARDINAL)) == [pid])
        .filter(|w| cardinals(property(&conn, *w, protocols, AtomEnum::ATOM)).contains(&delete))
        .map(|w| {
            let shown = conn
                .get_window_attributes(w)
                .ok()
                .and_then(|cookie| cookie.reply().ok())
                .is_some_and(|a| a.map_state == MapState::VIEWABLE);
            let title = String::from_utf8_lossy(&property(&conn, w, net_wm_name, utf8)).into();
            TopLevel {
                id: w,
                title,
                shown,
            }
        })
        .collect()
}

/// Asks window `id` to close, as a window manager does when its close button is pressed.
pub fn request_close(display: &str, id: u32) {
    let (conn, _) = connect(display);
    let (protocols, delete) = (atom(&conn, "WM_PROTOCOLS"), atom(&conn, "WM_DELETE_WINDOW"));
    let event = ClientMessageEvent::new(32, id, protocols, [delete, 0, 0, 0, 0]);
    conn.send_event(false, id, EventMask::NO_EVENT, event)
        .and_then(|_| conn.flush())
        .unwrap_or_else(|why| panic!("send WM_DELETE_WINDOW to window {id}: {why}"));
    // A round trip: the message has reached the server before this returns.
    let cookie = conn
        .get_input_focus()
        .unwrap_or_else(|why| panic!("X round trip: {why}"));
    cookie
        .reply()
        .unwrap_or_else(|why| panic!("X round trip: {why}"));
}

/// Keys a test presses: a character as typed on the display's keyboard, or a named key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Return,
    Escape,
}

impl Key {
    fn keysym(self) -> u32 {
        match self {
            // X keysyms for Latin-1 characters are their code points.
            Self::Char(c) => u32::from(c),
            Self::Return => 0xff0d,
            Self::Escape => 0xff1b,
        }
    }
}

const CONTROL_L: u32 = 0xffe3;
const SHIFT_L: u32 = 0xffe1;

/// Gives window `id` the keyboard focus (no window manager does it here) and presses `keys`
/// on it as a person at the keyboard would, through the XTEST extension: the window sees
/// real key events. `with_control` holds Control down around the first key (a shortcut such
/// as Ctrl+L), the rest are typed plainly.
pub fn press_keys(display: &str, id: u32, keys: &[Key], with_control: bool) {
    use x11rb::protocol::xproto::InputFocus;
    use x11rb::protocol::xtest::ConnectionExt as _;

    let (conn, screen) = connect(display);
    let root = conn.setup().roots[screen].root;
    let (min, max) = (conn.setup().min_keycode, conn.setup().max_keycode);
    let mapping = conn
        .get_keyboard_mapping(min, max - min + 1)
        .ok()
        .and_then(|cookie| cookie.reply().ok())
        .expect("the display's keyboard mapping");
    let per_code = usize::from(mapping.keysyms_per_keycode);
    // The key code that gives `keysym`, and whether Shift is needed for it.
    let find = |keysym: u32| -> (u8, bool) {
        mapping
            .keysyms
            .chunks(per_code)
            .enumerate()
            .find_map(|(at, syms)| {
                let code = min + u8::try_from(at).ok()?;
                match syms.iter().position(|s| *s == keysym)? {
                    0 => Some((code, false)),
                    1 => Some((code, true)),
                    _ => None,
                }
            })
            .unwrap_or_else(|| panic!("no key on the test keyboard gives keysym {keysym:#x}"))
    };
    conn.set_input_focus(InputFocus::PARENT, id, x11rb::CURRENT_TIME)
        .unwrap_or_else(|why| panic!("focus window {id}: {why}"));
    let fake = |kind: u8, code: u8| {
        conn.xtest_fake_input(kind, code, x11rb::CURRENT_TIME, root, 0, 0, 0)
            .unwrap_or_else(|why| panic!("XTEST key event: {why}"));
    };
    let (press, release) = (
        x11rb::protocol::xproto::KEY_PRESS_EVENT,
        x11rb::protocol::xproto::KEY_RELEASE_EVENT,
    );
    let (control, _) = find(CONTROL_L);
    let (shift, _) = find(SHIFT_L);
    for (at, key) in keys.iter().enumerate() {
        let (code, shifted) = find(key.keysym());
        let held: Vec<u8> = [
            (with_control && at == 0).then_some(control),
            shifted.then_some(shift),
        ]
        .into_iter()
        .flatten()
        .collect();
        held.iter().for_each(|modifier| fake(press, *modifier));
        fake(press, code);
        fake(release, code);
        held.iter()
            .rev()
            .for_each(|modifier| fake(release, *modifier));
    }
    // A round trip: every key has reached the server before this returns.
    conn.get_input_focus()
        .ok()
        .and_then(|cookie| cookie.reply().ok())
        .expect("X round trip");
}

/// Where window `id`'s top-left corner is on the screen.
pub fn origin(display: &str, id: u32) -> (i16, i16) {
    let (conn, screen) = connect(display);
    let root = conn.setup().roots[screen].root;
    let at = conn
        .translate_coordinates(id, root, 0, 0)
        .ok()
        .and_then(|cookie| cookie.reply().ok())
        .unwrap_or_else(|| panic!("the position of window {id}"));
    (at.dst_x, at.dst_y)
}
