//! Files dragged from another program and dropped on a window, the way a file manager does
//! it on X11: the XDND protocol (version 5), played by a window of the test's own. The window
//! under test gets real drag events from the X server and its toolkit fetches the file list
//! from the test's selection, so the whole path a person's drop takes — GTK, WebKit, the
//! app's drop handler — runs as it does on a desktop. Xvfb has no file manager and no pointer
//! to drag with, so the test speaks the protocol itself.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use x11rb::connection::Connection as _;
use x11rb::protocol::Event;
use x11rb::protocol::xproto::{
    AtomEnum, ClientMessageEvent, ConnectionExt as _, CreateWindowAux, EventMask, PropMode,
    SelectionNotifyEvent, SelectionRequestEvent, Window, WindowClass,
};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;

/// The protocol version this source speaks.
const XDND_VERSION: u32 = 5;

/// What the window under test answered to a drop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DropOutcome {
    /// It said it would take the files at that point (`XdndStatus`).
    pub accepted: bool,
    /// It said it had taken them (`XdndFinished` with success).
    pub finished: bool,
}

struct Atoms {
    aware: u32,
    selection: u32,
    enter: u32,
    position: u32,
    status: u32,
    leave: u32,
    drop: u32,
    finished: u32,
    copy: u32,
    uri_list: u32,
    targets: u32,
    /// Tells the event reader the drag is over.
    done: u32,
}

impl Atoms {
    fn intern(conn: &RustConnection) -> Self {
        let atom = |name: &str| {
            conn.intern_atom(false, name.as_bytes())
                .ok()
                .and_then(|cookie| cookie.reply().ok())
                .unwrap_or_else(|| panic!("the X atom {name}"))
                .atom
        };
        Self {
            aware: atom("XdndAware"),
            selection: atom("XdndSelection"),
            enter: atom("XdndEnter"),
            position: atom("XdndPosition"),
            status: atom("XdndStatus"),
            leave: atom("XdndLeave"),
            drop: atom("XdndDrop"),
            finished: atom("XdndFinished"),
            copy: atom("XdndActionCopy"),
            uri_list: atom("text/uri-list"),
            targets: atom("TARGETS"),
            done: atom("COUNTERSIGN_TEST_DRAG_DONE"),
        }
    }
}

/// `file://` URIs for `files`, one per line as `text/uri-list` wants (RFC 2483).
fn uri_list(files: &[PathBuf]) -> Vec<u8> {
    let mut list = Vec::new();
    for file in files {
        list.extend_from_slice(b"file://");
        for byte in file.to_string_lossy().bytes() {
            if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
                list.push(byte);
            } else {
                list.extend_from_slice(format!("%{byte:02X}").as_bytes());
            }
        }
        list.extend_from_slice(b"\r\n");
    }
    list
}

/// Drags `files` onto window `target` and drops them at `at` (screen coordinates), as a
/// person dragging them from a file manager would. Waits at most `within` for each answer of
/// the target; says what it answered.
pub fn drop_files(
    display: &str,
    target: Window,
    at: (i16, i16),
    files: &[PathBuf],
    within: Duration,
) -> DropOutcome {
    let (conn, screen) = x11rb::connect(Some(display))
        .unwrap_or_else(|why| panic!("connect to the X display {display}: {why}"));
    let conn = Arc::new(conn);
    let root = conn.setup().roots[screen].root;
    let atoms = Atoms::intern(&conn);

    let aware = conn
        .get_property(false, target, atoms.aware, AtomEnum::ATOM, 0, 1)
        .ok()
        .and_then(|cookie| cookie.reply().ok())
        .and_then(|reply| reply.value32().and_then(|mut v| v.next()));
    let version = aware
        .unwrap_or_else(|| panic!("window {target} takes no drops: it has no XdndAware"))
        .min(XDND_VERSION);

    // The source: an unmapped window that owns the drag's selection and hears the answers.
    let source = conn.generate_id().expect("an X id");
    conn.create_window(
        x11rb::COPY_DEPTH_FROM_PARENT,
        source,
        root,
        -10,
        -10,
        1,
        1,
        0,
        WindowClass::INPUT_OUTPUT,
        x11rb::COPY_FROM_PARENT,
        &CreateWindowAux::new().event_mask(EventMask::PROPERTY_CHANGE),
    )
    .expect("create the drag source window");
    conn.flush().expect("X flush");

    // Every event the source hears, read on a thread so that waiting has a deadline.
    let (events, heard) = mpsc::channel();
    let reader = {
        let conn = Arc::clone(&conn);
        let done = atoms.done;
        std::thread::spawn(move || {
            while let Ok(event) = conn.wait_for_event() {
                let over = matches!(&event, Event::ClientMessage(m) if m.type_ == done);
                if over || events.send(event).is_err() {
                    break;
                }
            }
        })
    };

    // A server timestamp for the selection and the messages: the time of a property change.
    conn.change_property8(PropMode::APPEND, source, atoms.done, AtomEnum::STRING, &[])
        .expect("touch a property");
    conn.flush().expect("X flush");
    let deadline = Instant::now() + within;
    let time = loop {
        match heard.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(Event::PropertyNotify(notify)) => break notify.time,
            Ok(_) => {}
            Err(_) => panic!("the X server sent no timestamp"),
        }
    };
    conn.set_selection_owner(source, atoms.selection, time)
        .expect("own XdndSelection");

    let data = uri_list(files);
    let send = |kind: u32, body: [u32; 5]| {
        let message = ClientMessageEvent::new(32, target, kind, body);
        conn.send_event(false, target, EventMask::NO_EVENT, message)
            .and_then(|_| conn.flush())
            .unwrap_or_else(|why| panic!("send a drag message to window {target}: {why}"));
    };
    // Answers the target's request for the dragged data (or for the list of its types).
    let serve = |request: &SelectionRequestEvent| {
        let property = if request.property == x11rb::NONE {
            request.target
        } else {
            request.property
        };
        let given = if request.selection != atoms.selection {
            false
        } else if request.target == atoms.uri_list {
            conn.change_property8(
                PropMode::REPLACE,
                request.requestor,
                property,
                atoms.uri_list,
                &data,
            )
            .is_ok()
        } else if request.target == atoms.targets {
            conn.change_property32(
                PropMode::REPLACE,
                request.requestor,
                property,
                AtomEnum::ATOM,
                &[atoms.targets, atoms.uri_list],
            )
            .is_ok()
        } else {
            false
        };
        let notify = SelectionNotifyEvent {
            response_type: x11rb::protocol::xproto::SELECTION_NOTIFY_EVENT,
            sequence: 0,
            time: request.time,
            requestor: request.requestor,
            selection: request.selection,
            target: request.target,
            property: if given { property } else { x11rb::NONE },
        };
        conn.send_event(false, request.requestor, EventMask::NO_EVENT, notify)
            .and_then(|_| conn.flush())
            .expect("answer a selection request");
    };
    // Serves data requests until the target sends a message of `kind`; its second word.
    let answer = |kind: u32, what: &str| -> u32 {
        let deadline = Instant::now() + within;
        loop {
            match heard.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(Event::SelectionRequest(request)) => serve(&request),
                Ok(Event::ClientMessage(message)) if message.type_ == kind => {
                    break message.data.as_data32()[1];
                }
                Ok(_) => {}
                Err(_) => panic!(
                    "window {target} never answered the drag with {what} within {}s",
                    within.as_secs()
                ),
            }
        }
    };

    let on_screen = |c: i16| {
        u32::from(
            u16::try_from(c).unwrap_or_else(|_| panic!("the drop point {at:?} is off screen")),
        )
    };
    let (x, y) = (on_screen(at.0), on_screen(at.1));
    send(atoms.enter, [source, version << 24, atoms.uri_list, 0, 0]);
    send(atoms.position, [source, 0, (x << 16) | y, time, atoms.copy]);
    let accepted = answer(atoms.status, "XdndStatus") & 1 == 1;
    let finished = if accepted {
        send(atoms.drop, [source, 0, time, 0, 0]);
        answer(atoms.finished, "XdndFinished") & 1 == 1
    } else {
        send(atoms.leave, [source, 0, 0, 0, 0]);
        false
    };

    // Wake the reader so that it ends, then let go of the window.
    let over = ClientMessageEvent::new(32, source, atoms.done, [0; 5]);
    let _ = conn
        .send_event(false, source, EventMask::NO_EVENT, over)
        .and_then(|_| conn.flush());
    let _ = reader.join();
    let _ = conn.destroy_window(source).and_then(|_| conn.flush());
    DropOutcome { accepted, finished }
}
