//! What the desktop's tray says, in words: the pending count, the newest pending items with
//! their actions, and the tray's own entries. The texts come from the notification catalogue
//! ([`NotificationKey`]), so that the tray and a notification name an action with the same
//! word (驳回 in both, not 拒绝 in one); the desktop shell only turns this into menu items.

use countersign_domain::messages::Locale;
use uuid::Uuid;

use crate::meetings::MeetingEntry;
use crate::notify::NotificationKey;
use crate::views::InboxPage;

/// The tray as it should look now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayView {
    /// The text beside the icon: the pending count, or nothing when none waits.
    pub title: String,
    pub tooltip: String,
    /// Whether the icon carries the badge (something waits).
    pub badge: bool,
    /// Present when signed in: the count in words, the newest items and the entries that
    /// need a session.
    pub pending: Option<TrayPending>,
    pub open_window: String,
    pub quit: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayPending {
    pub heading: String,
    pub items: Vec<TrayItem>,
    /// The heading over the invitations, when any waits for an answer.
    pub invitations_heading: Option<String>,
    pub invitations: Vec<TrayInvitation>,
    pub sync_now: String,
    pub pause: String,
    pub paused: bool,
}

/// One pending item: a submenu named after the request, with its three actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayItem {
    pub request: Uuid,
    pub label: String,
    pub approve: String,
    /// Reject asks for a reason in the window, hence the ellipsis after the catalogue's word.
    pub reject: String,
    pub open: String,
}

/// One meeting invitation still to answer: a submenu named after the meeting and its local
/// start, with Accept, Decline and Open (the words of the invitation's notification).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayInvitation {
    pub meeting: Uuid,
    pub label: String,
    pub accept: String,
    pub decline: String,
    pub open: String,
}

/// The tray for `newest` (the newest pending items, `total` of them in all) and the
/// `invitations` still to answer, or for nobody signed in when `newest` is `None`.
pub fn tray_view(
    locale: Locale,
    newest: Option<&InboxPage>,
    invitations: &[MeetingEntry],
    paused: bool,
) -> TrayView {
    let text = |key: NotificationKey| key.template(locale);
    let count = newest.map_or(0, |page| page.total);
    let waiting = |one: NotificationKey, many: NotificationKey, none: NotificationKey| match count {
        0 => text(none).to_owned(),
        1 => text(one).to_owned(),
        n => text(many).replace("{count}", &n.to_string()),
    };
    let tooltip = match newest {
        None => "Countersign".to_owned(),
        Some(_) => waiting(
            NotificationKey::TrayTooltipOne,
            NotificationKey::TrayTooltipMany,
            NotificationKey::TrayTooltipNone,
        ),
    };
    let pending = newest.map(|page| TrayPending {
        heading: waiting(
            NotificationKey::TrayWaitingOne,
            NotificationKey::TrayWaitingMany,
            NotificationKey::TrayWaitingNone,
        ),
        items: page
            .items
            .iter()
            .map(|item| TrayItem {
                request: item.request_id,
                label: format!("{} — {}", item.title, item.initiator.name),
                approve: text(NotificationKey::ActionApprove).to_owned(),
                reject: format!("{}…", text(NotificationKey::ActionReject)),
                open: text(NotificationKey::ActionOpen).to_owned(),
            })
            .collect(),
        invitations_heading: (!invitations.is_empty())
            .then(|| text(NotificationKey::TrayInvitations).to_owned()),
        invitations: invitations
            .iter()
            .map(|m| TrayInvitation {
                meeting: m.id,
                label: format!("{} — {}", m.title, m.local_start),
                accept: text(NotificationKey::ActionAccept).to_owned(),
                decline: text(NotificationKey::ActionDecline).to_owned(),
                open: text(NotificationKey::ActionOpen).to_owned(),
            })
            .collect(),
        sync_now: text(NotificationKey::TraySyncNow).to_owned(),
        pause: text(NotificationKey::TrayPause).to_owned(),
        paused,
    });
    TrayView {
        title: if count == 0 {
            String::new()
        } else {
            count.to_string()
        },
        tooltip,
        // An invitation waiting for an answer also wants attention.
        badge: count > 0 || (pending.is_some() && !invitations.is_empty()),
        pending,
        open_window: text(NotificationKey::TrayOpenWindow).to_owned(),
        quit: text(NotificationKey::TrayQuit).to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::{InboxEntry, PersonRef, Sla};

    fn page(total: u32, titles: &[&str]) -> InboxPage {
        let items = titles
            .iter()
            .map(|title| InboxEntry {
                request_id: Uuid::now_v7(),
                task: 1,
                title: (*title).to_owned(),
                template_id: "leave".to_owned(),
                template_name: None,
                initiator: PersonRef {
                    id: Uuid::now_v7(),
                    name: "沈月".to_owned(),
                },
                figures: Vec::new(),
                opened_at: chrono::Utc::now(),
                due_at: None,
                sla: Sla::None,
                version: 1,
            })
            .collect();
        InboxPage {
            items,
            total,
            offset: 0,
            templates: Vec::new(),
        }
    }

    #[test]
    fn the_tray_names_actions_as_notifications_do() {
        let view = tray_view(Locale::ZhCn, Some(&page(7, &["年假"])), &[], false);
        let item = &view.pending.as_ref().unwrap().items[0];
        // The same words as a notification's buttons, so the person learns one vocabulary.
        assert_eq!(
            item.approve,
            NotificationKey::ActionApprove.template(Locale::ZhCn)
        );
        assert_eq!(item.reject, "驳回…");
        assert_eq!(
            item.open,
            NotificationKey::ActionOpen.template(Locale::ZhCn)
        );
        assert_eq!(item.label, "年假 — 沈月");
        assert_eq!(view.title, "7", "the count beside the icon");
        assert!(view.badge);
        assert_eq!(view.pending.unwrap().heading, "7 项待审批");
    }

    #[test]
    fn counts_are_said_in_words_and_nothing_waiting_shows_no_number() {
        let one = tray_view(Locale::En, Some(&page(1, &["Leave"])), &[], true);
        assert_eq!(one.pending.as_ref().unwrap().heading, "1 approval waiting");
        assert_eq!(one.tooltip, "Countersign: 1 approval waiting");
        assert!(one.pending.unwrap().paused);
        let none = tray_view(Locale::En, Some(&page(0, &[])), &[], false);
        assert_eq!(
            none.title, "",
            "no number beside the icon when nothing waits"
        );
        assert!(!none.badge);
        assert_eq!(none.tooltip, "Countersign: nothing waiting");
        let signed_out = tray_view(Locale::En, None, &[], false);
        assert!(signed_out.pending.is_none(), "no items without a session");
        assert_eq!(signed_out.quit, "Quit");
    }

    #[test]
    fn invitations_to_answer_get_their_own_entries_and_the_badge() {
        let meeting = MeetingEntry {
            id: Uuid::now_v7(),
            title: "预算评审".to_owned(),
            starts_at: chrono::Utc::now(),
            ends_at: chrono::Utc::now(),
            local_start: "2026-12-01 10:00".to_owned(),
            local_end: "2026-12-01 11:00".to_owned(),
            time_zone: "Asia/Shanghai".to_owned(),
            room: None,
            place: None,
            online_link: None,
            status: countersign_domain::meetings::MeetingStatus::Scheduled,
            my_role: "invitee".to_owned(),
            my_answer: None,
            organiser_id: Uuid::now_v7(),
            organiser_name: "蒋涛".to_owned(),
        };
        let view = tray_view(
            Locale::ZhCn,
            Some(&page(0, &[])),
            std::slice::from_ref(&meeting),
            false,
        );
        assert!(view.badge, "an invitation to answer wants attention");
        assert_eq!(
            view.title, "",
            "the number beside the icon counts approvals"
        );
        let pending = view.pending.unwrap();
        assert_eq!(
            pending.invitations_heading.as_deref(),
            Some("待回复的会议邀请")
        );
        let entry = &pending.invitations[0];
        assert_eq!(entry.meeting, meeting.id);
        assert_eq!(entry.label, "预算评审 — 2026-12-01 10:00");
        assert_eq!(
            entry.accept,
            NotificationKey::ActionAccept.template(Locale::ZhCn)
        );
        assert_eq!(
            entry.decline,
            NotificationKey::ActionDecline.template(Locale::ZhCn)
        );
        let signed_out = tray_view(Locale::En, None, &[meeting], false);
        assert!(!signed_out.badge && signed_out.pending.is_none());
    }
}
