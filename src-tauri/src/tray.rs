//! The tray (D5): the pending count in the title and tooltip and as a badge on the icon, and
//! a menu with the five newest pending items (each with Approve / Reject / Open), Sync now,
//! Pause notifications, Open window and Quit. Linux tray icons get no clicks, so everything
//! is in the menu. What it says comes from the client ([`tray_view`]); this module only
//! makes menu items of it and routes the choices.

use countersign_client::tray::{TrayView, tray_view};
use countersign_client::{Client, InboxPage, MeetingEntry};
use countersign_domain::meetings::Rsvp;
use countersign_domain::messages::Locale;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tauri::image::Image;
use tauri::menu::{CheckMenuItem, IsMenuItem, Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Wry};
use uuid::Uuid;

use crate::background::{self, Choice};

const TRAY: &str = "main";
const ICON: &[u8] = include_bytes!("../../icons/32x32.png");

/// Menu entry ids.
const OPEN: &str = "open";
const SYNC: &str = "sync";
const PAUSE: &str = "pause";
const QUIT: &str = "quit";

/// What the tray shows now. The menu is rebuilt only when this changes: a rebuilt menu gets new
/// entry ids, so a rebuild after every sync would close a menu the person has open and could
/// make a press made meanwhile land on another entry.
struct Shown(Mutex<Option<TrayView>>);

impl Shown {
    fn view(&self) -> MutexGuard<'_, Option<TrayView>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Creates the tray with the signed-out menu.
pub fn create(app: &AppHandle) -> tauri::Result<()> {
    let view = tray_view(Locale::En, None, &[], false);
    let menu = build_menu(app, &view)?;
    app.manage(Shown(Mutex::new(Some(view))));
    TrayIconBuilder::with_id(TRAY)
        .icon(Image::from_bytes(ICON)?)
        .tooltip("Countersign")
        .menu(&menu)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, event| on_menu(app, event.id().as_ref()))
        .build(app)?;
    Ok(())
}

/// Shows the pending count, the newest items and the invitations still to answer.
pub async fn update(
    app: &AppHandle,
    client: &Client,
    newest: &InboxPage,
    invitations: &[MeetingEntry],
    paused: bool,
) {
    let locale = client.locale().await;
    show(app, &tray_view(locale, Some(newest), invitations, paused));
}

/// Back to the plain icon and menu (signed out).
pub fn signed_out(app: &AppHandle) {
    show(app, &tray_view(Locale::En, None, &[], false));
}

fn show(app: &AppHandle, view: &TrayView) {
    let Some(tray) = app.tray_by_id(TRAY) else {
        return;
    };
    let mut badge_changed = true;
    if let Some(shown) = app.try_state::<Shown>() {
        let mut shown = shown.view();
        if shown.as_ref() == Some(view) {
            return;
        }
        badge_changed = shown.as_ref().is_none_or(|old| old.badge != view.badge);
        *shown = Some(view.clone());
    }
    // On Linux the title is the label beside the icon (tooltips are not shown there).
    let _ = tray.set_title(Some(view.title.as_str()));
    let _ = tray.set_tooltip(Some(view.tooltip.as_str()));
    // Only when the badge comes or goes: on Linux each new icon is a new PNG file the panel
    // loads again (the old one is deleted), which is wasted work when only the count moved.
    if badge_changed && let Ok(icon) = icon(view.badge) {
        let _ = tray.set_icon(Some(icon));
    }
    match build_menu(app, view) {
        Ok(menu) => {
            let _ = tray.set_menu(Some(menu));
        }
        Err(err) => {
            tracing::warn!(error = %err, "tray menu");
            // Try again at the next update even if nothing changes.
            if let Some(shown) = app.try_state::<Shown>() {
                *shown.view() = None;
            }
        }
    }
}

/// The icon, with a red dot in its corner when something waits (the badge variant).
fn icon(badge: bool) -> tauri::Result<Image<'static>> {
    let base = Image::from_bytes(ICON)?;
    let (width, height) = (base.width(), base.height());
    let mut rgba = base.rgba().to_vec();
    if badge {
        let radius = f64::from(width.min(height)) * 0.22;
        let (cx, cy) = (f64::from(width) - radius - 1.0, radius + 1.0);
        for y in 0..height {
            for x in 0..width {
                let (dx, dy) = (f64::from(x) + 0.5 - cx, f64::from(y) + 0.5 - cy);
                if dx * dx + dy * dy <= radius * radius {
                    let i = ((y * width + x) * 4) as usize;
                    rgba[i..i + 4].copy_from_slice(&[0xD9, 0x30, 0x25, 0xFF]);
                }
            }
        }
    }
    Ok(Image::new_owned(rgba, width, height))
}

fn build_menu(app: &AppHandle, view: &TrayView) -> tauri::Result<Menu<Wry>> {
    let mut entries: Vec<Box<dyn IsMenuItem<Wry>>> = Vec::new();
    let item = |id: &str, label: &str, enabled: bool| {
        MenuItem::with_id(app, id, label, enabled, None::<&str>)
    };
    if let Some(pending) = &view.pending {
        entries.push(Box::new(item("heading", &pending.heading, false)?));
        for entry in &pending.items {
            let id = |what: &str| format!("item:{what}:{}", entry.request);
            let approve = item(&id("approve"), &entry.approve, true)?;
            let reject = item(&id("reject"), &entry.reject, true)?;
            let open = item(&id("open"), &entry.open, true)?;
            entries.push(Box::new(Submenu::with_id_and_items(
                app,
                id("menu"),
                &entry.label,
                true,
                &[&approve, &reject, &open],
            )?));
        }
        if let Some(heading) = &pending.invitations_heading {
            entries.push(Box::new(PredefinedMenuItem::separator(app)?));
            entries.push(Box::new(item("invitations", heading, false)?));
        }
        for invitation in &pending.invitations {
            let id = |what: &str| format!("meeting:{what}:{}", invitation.meeting);
            let accept = item(&id("accept"), &invitation.accept, true)?;
            let decline = item(&id("decline"), &invitation.decline, true)?;
            let open = item(&id("open"), &invitation.open, true)?;
            entries.push(Box::new(Submenu::with_id_and_items(
                app,
                id("menu"),
                &invitation.label,
                true,
                &[&accept, &decline, &open],
            )?));
        }
        entries.push(Box::new(PredefinedMenuItem::separator(app)?));
        entries.push(Box::new(item(SYNC, &pending.sync_now, true)?));
        entries.push(Box::new(CheckMenuItem::with_id(
            app,
            PAUSE,
            &pending.pause,
            true,
            pending.paused,
            None::<&str>,
        )?));
    }
    entries.push(Box::new(item(OPEN, &view.open_window, true)?));
    entries.push(Box::new(PredefinedMenuItem::separator(app)?));
    entries.push(Box::new(item(QUIT, &view.quit, true)?));
    let refs: Vec<&dyn IsMenuItem<Wry>> = entries.iter().map(AsRef::as_ref).collect();
    Menu::with_items(app, &refs)
}

fn on_menu(app: &AppHandle, id: &str) {
    let app = app.clone();
    let id = id.to_owned();
    tauri::async_runtime::spawn(async move {
        match id.as_str() {
            OPEN => crate::show_window(&app),
            SYNC => {
                let _ = background::sync_now(&app).await;
            }
            PAUSE => {
                let paused = background::paused(&app);
                background::set_paused(&app, !paused).await;
            }
            QUIT => crate::quit(&app).await,
            other => {
                if let Some(choice) = item_choice(other) {
                    background::choose(&app, choice).await;
                }
            }
        }
    });
}

/// `item:<what>:<request id>` or `meeting:<what>:<meeting id>` → the choice.
fn item_choice(id: &str) -> Option<Choice> {
    let (kind, rest) = id.split_once(':')?;
    let (what, target) = rest.split_once(':')?;
    let target = Uuid::parse_str(target).ok()?;
    Some(match (kind, what) {
        ("item", "approve") => Choice::Approve { request: target },
        ("item", "reject") => Choice::Reject { request: target },
        ("item", "open") => Choice::Open { request: target },
        ("meeting", "accept") => Choice::Rsvp {
            meeting: target,
            answer: Rsvp::Accept,
        },
        ("meeting", "decline") => Choice::Rsvp {
            meeting: target,
            answer: Rsvp::Decline,
        },
        ("meeting", "open") => Choice::OpenMeeting { meeting: target },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn menu_ids_lead_back_to_the_choice() {
        let request = Uuid::now_v7();
        assert_eq!(
            item_choice(&format!("item:approve:{request}")),
            Some(Choice::Approve { request })
        );
        assert_eq!(
            item_choice(&format!("item:reject:{request}")),
            Some(Choice::Reject { request })
        );
        assert_eq!(
            item_choice(&format!("meeting:accept:{request}")),
            Some(Choice::Rsvp {
                meeting: request,
                answer: Rsvp::Accept
            })
        );
        assert_eq!(
            item_choice(&format!("meeting:open:{request}")),
            Some(Choice::OpenMeeting { meeting: request })
        );
        assert_eq!(item_choice(&format!("meeting:approve:{request}")), None);
        assert_eq!(item_choice("item:approve:not-an-id"), None);
        assert_eq!(item_choice(SYNC), None);
    }

    #[test]
    fn the_badge_marks_the_icon_and_the_plain_icon_is_unchanged() {
        let plain = icon(false).unwrap();
        let badged = icon(true).unwrap();
        assert_eq!(plain.rgba(), Image::from_bytes(ICON).unwrap().rgba());
        assert_ne!(plain.rgba(), badged.rgba());
        // The top right corner area carries the red dot.
        let w = badged.width();
        let x = w - w / 5;
        let y = w / 5;
        let i = ((y * w + x) * 4) as usize;
        assert_eq!(&badged.rgba()[i..i + 4], &[0xD9, 0x30, 0x25, 0xFF]);
    }
}
