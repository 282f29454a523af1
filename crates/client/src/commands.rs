//! The CLI's offline-first commands: listings answered by the cache, actions queued in the
//! outbox and sent at once when the server can be reached. `--json` prints the client core's
//! own types (`InboxItem`, `RequestSummary`, `DraftView`, `OutboxItem`, `SyncStatus`,
//! `SyncReport`, the API's `RequestView` and `TemplateView`): that shape is the contract.

use chrono::Offset;
use chrono::Utc;
use countersign_client::notify::{Notifier, StdoutNotifier};
use countersign_client::{
    Act, Client, ClientError, ClientErrorCode, DraftView, MeetingForm, OutboxItem, WatchEvent,
    zone_or_system,
};
use countersign_domain::meetings::{MeetingStatus, Rsvp};

use super::{ActArgs, Command, DraftCommand, MeetingCommand, print_json};

pub(super) async fn run(client: &Client, command: Command) -> Result<(), ClientError> {
    match command {
        Command::Sync { json, watch: true } => watch(client, json).await,
        Command::Sync { json, watch: false } => {
            let report = client.sync(Utc::now()).await?;
            if json {
                return print_json(&report);
            }
            notifier(client).await?.deliver(&report.notifications).ok();
            println!(
                "Synced: {} action(s) sent, {} change(s) received{}.",
                report.sent,
                report.pulled,
                if report.resynced {
                    " (full re-download)"
                } else {
                    ""
                }
            );
            for item in &report.refused {
                print_refused(item);
            }
            Ok(())
        }
        Command::Meetings {
            from,
            to,
            zone,
            json,
        } => {
            let zone = zone_or_system(zone.as_deref())?;
            let today = Utc::now().with_timezone(&zone).date_naive();
            let first = match from.as_deref() {
                Some(text) => day(text)?,
                None => today,
            };
            let last = match to.as_deref() {
                Some(text) => day(text)?,
                None => first + chrono::Days::new(13),
            };
            let meetings = client
                .meetings(
                    start_of(first, zone),
                    start_of(last + chrono::Days::new(1), zone),
                    zone,
                )
                .await?;
            if json {
                return print_json(&meetings);
            }
            if meetings.is_empty() {
                println!("No meetings from {first} to {last}.");
            }
            for m in &meetings {
                let place = m
                    .room
                    .as_deref()
                    .or(m.place.as_deref())
                    .or(m.online_link.as_deref())
                    .unwrap_or("");
                let answer = m.my_answer.map_or("—", |a| a.as_str());
                let cancelled = if m.status == MeetingStatus::Cancelled {
                    "  [cancelled]"
                } else {
                    ""
                };
                println!(
                    "{} {}–{}  {}  {}  by {}  answer: {answer}{cancelled}",
                    m.id,
                    m.local_start,
                    m.local_end.get(11..).unwrap_or(&m.local_end),
                    m.title,
                    place,
                    m.organiser_name
                );
            }
            Ok(())
        }
        Command::Meeting { command } => meeting(client, command).await,
        Command::Rsvp {
            meeting,
            answer,
            note,
            json,
        } => {
            let answer = Rsvp::parse(&answer).ok_or_else(|| {
                ClientError::new(
                    ClientErrorCode::InvalidInput,
                    format!("'{answer}' is not an answer: accept, tentative or decline."),
                )
            })?;
            let item = client.rsvp(meeting, answer, note, Utc::now()).await?;
            send_now(client, item, json).await
        }
        Command::Status { json } => {
            let status = client.sync_status().await?;
            if json {
                return print_json(&status);
            }
            if let Some(recovery) = &status.recovery {
                println!("{recovery}");
            }
            println!(
                "{}; last sync {}",
                if status.online { "online" } else { "offline" },
                status
                    .last_sync_at
                    .map_or_else(|| "never".to_owned(), |t| t.to_rfc3339())
            );
            if let Some(err) = &status.last_error {
                println!("  last problem: {err}");
            }
            println!("  outbox: {} waiting", status.outbox_pending);
            for item in &status.refused {
                print_refused(item);
            }
            Ok(())
        }
        Command::Inbox { json } => {
            let items = client.inbox().await?;
            if json {
                return print_json(&items);
            }
            if items.is_empty() {
                println!("Nothing waits for you.");
            }
            for i in items {
                println!(
                    "{}  {:<40} from {:<12} since {}{}",
                    i.request_id,
                    i.title,
                    i.initiator_name,
                    i.opened_at.format("%Y-%m-%d %H:%M"),
                    if i.overdue { "  OVERDUE" } else { "" }
                );
            }
            Ok(())
        }
        Command::Requests { json } => {
            let items = client.my_requests().await?;
            if json {
                return print_json(&items);
            }
            for r in items {
                println!(
                    "{}  {:<40} {:<11} {}",
                    r.id,
                    r.title,
                    r.status,
                    if r.waiting_on.is_empty() {
                        String::new()
                    } else {
                        format!("waiting on {}", r.waiting_on.join(", "))
                    }
                );
            }
            Ok(())
        }
        Command::Templates { json } => {
            let templates = client.templates().await?;
            if json {
                return print_json(&templates);
            }
            for t in templates {
                println!(
                    "{:<20} v{}  {}",
                    t.template.id, t.template.version, t.template.name.en
                );
            }
            Ok(())
        }
        Command::Show { request, json } => {
            let view = client.request(request).await?;
            if json {
                return print_json(&view);
            }
            println!("{}  ({})", view.title, view.id);
            println!(
                "  template: {} v{}",
                view.template_id, view.template_version
            );
            println!("  status:   {:?}, version {}", view.status, view.version);
            for event in &view.state.events {
                println!(
                    "  {}  {:?}{}",
                    event.at.format("%Y-%m-%d %H:%M"),
                    event.what,
                    if event.comment.is_empty() {
                        String::new()
                    } else {
                        format!(" — {}", event.comment)
                    }
                );
            }
            Ok(())
        }
        Command::Outbox { json } => {
            let items = client.outbox().await?;
            if json {
                return print_json(&items);
            }
            for i in items {
                println!(
                    "{}  {:<9} {:<8} request {}{}",
                    i.created_at.format("%Y-%m-%d %H:%M"),
                    i.action,
                    format!("{:?}", i.state).to_lowercase(),
                    i.request_id,
                    i.reason
                        .as_ref()
                        .map_or_else(String::new, |r| format!(" — {}", r.message))
                );
            }
            Ok(())
        }
        Command::Approve(a) => act(client, a, |c| Act::Approve { comment: c }).await,
        Command::Reject(a) => act(client, a, |c| Act::Reject { comment: c }).await,
        Command::Return(a) => act(client, a, |c| Act::Return { comment: c }).await,
        Command::Withdraw(a) => act(client, a, |c| Act::Withdraw { comment: c }).await,
        Command::Urge(a) => act(client, a, |c| Act::Urge { comment: c }).await,
        Command::Comment(a) => act(client, a, |c| Act::Comment { text: c }).await,
        Command::Transfer(a) => {
            let to = a.to.clone().ok_or_else(|| {
                ClientError::new(
                    countersign_client::ClientErrorCode::InvalidInput,
                    "Transfer to whom? Add --to USER.",
                )
            })?;
            act(client, a, move |c| Act::Transfer { to, comment: c }).await
        }
        Command::Draft { command } => draft(client, command).await,
        Command::Submit { draft, json } => {
            let item = client.submit_draft(draft, Utc::now()).await?;
            send_now(client, item, json).await
        }
        Command::Resubmit { request, json } => {
            let view = client.draft_resubmit(request, Utc::now()).await?;
            if !json {
                println!(
                    "Draft {} corrects request {request}; change it with `countersign draft set \
                     {} FIELD VALUE`, then `countersign submit {}`.",
                    view.id, view.id, view.id
                );
            }
            show_draft(&view, json)
        }
        // Handled in main before coming here.
        Command::Login { .. }
        | Command::Whoami { .. }
        | Command::Sessions { .. }
        | Command::Logout { .. } => Ok(()),
    }
}

async fn meeting(client: &Client, command: MeetingCommand) -> Result<(), ClientError> {
    match command {
        MeetingCommand::Show {
            meeting,
            zone,
            json,
        } => {
            let zone = zone_or_system(zone.as_deref())?;
            let detail = client.meeting(meeting, zone, Utc::now()).await?;
            if json {
                return print_json(&detail);
            }
            let m = &detail.entry;
            println!("{}  ({})", m.title, m.status.as_str());
            println!(
                "  when:      {} – {} ({})",
                m.local_start, m.local_end, m.time_zone
            );
            for (what, value) in [
                ("room", &m.room),
                ("place", &m.place),
                ("link", &m.online_link),
                ("cancelled", &detail.cancel_reason),
            ] {
                if let Some(value) = value {
                    println!("  {what:<10} {value}");
                }
            }
            println!("  organiser: {}", m.organiser_name);
            println!(
                "  answer:    {}",
                m.my_answer.map_or("not answered", |a| a.as_str())
            );
            if !detail.changed.is_empty() {
                let changed: Vec<&str> = detail.changed.iter().map(|f| f.as_str()).collect();
                println!("  changed:   {}", changed.join(", "));
            }
            if !detail.agenda.is_empty() {
                println!("  agenda:    {}", detail.agenda);
            }
            for p in &detail.people {
                let answer = p.answer.map_or("", |a| a.as_str());
                println!("  - {} {answer}", p.name);
            }
            for file in &detail.materials {
                println!("  material: {} ({} bytes)", file.name, file.size);
            }
            Ok(())
        }
        MeetingCommand::Edit {
            meeting,
            title,
            agenda,
            start,
            end,
            room,
            place,
            link,
            json,
        } => {
            let starts_at = start.as_deref().map(|t| instant(t, "start")).transpose()?;
            let ends_at = end.as_deref().map(|t| instant(t, "end")).transpose()?;
            let room_id = match room.as_deref() {
                None => None,
                Some("none") => Some(None),
                Some(name) => Some(Some(client.room_named(name).await?)),
            };
            let view = client
                .edit_meeting(meeting, |plan| {
                    if let Some(title) = title {
                        plan.title = title;
                    }
                    if let Some(agenda) = agenda {
                        plan.agenda = agenda;
                    }
                    if let Some(at) = starts_at {
                        plan.starts_at = at;
                    }
                    if let Some(at) = ends_at {
                        plan.ends_at = at;
                    }
                    if let Some(room) = room_id {
                        plan.room_id = room;
                    }
                    if let Some(place) = place {
                        plan.place = Some(place).filter(|p| !p.is_empty());
                    }
                    if let Some(link) = link {
                        plan.online_link = Some(link).filter(|l| !l.is_empty());
                    }
                })
                .await?;
            if json {
                return print_json(&view);
            }
            let changed: Vec<&str> = view.changed.iter().map(|f| f.as_str()).collect();
            if changed.is_empty() {
                println!("Nothing changed in “{}”.", view.plan.title);
            } else {
                println!(
                    "“{}” changed ({}); everyone invited is told.",
                    view.plan.title,
                    changed.join(", ")
                );
            }
            Ok(())
        }
        MeetingCommand::Cancel { meeting, reason } => {
            let view = client.cancel_meeting(meeting, reason).await?;
            println!(
                "“{}” is cancelled; everyone invited is told.",
                view.plan.title
            );
            Ok(())
        }
        MeetingCommand::Materials { meeting, files } => {
            let view = client.add_materials(meeting, &files).await?;
            println!("“{}” now has these materials:", view.plan.title);
            for file in &view.materials {
                println!("  {} ({} bytes)", file.name, file.size);
            }
            Ok(())
        }
        MeetingCommand::Report {
            from,
            to,
            zone,
            json,
        } => {
            let zone = zone_or_system(zone.as_deref())?;
            let today = Utc::now().with_timezone(&zone).date_naive();
            let last = to.as_deref().map(day).transpose()?.unwrap_or(today);
            let first = match from.as_deref() {
                Some(text) => day(text)?,
                None => last - chrono::Days::new(30),
            };
            let report = client
                .meeting_coverage(
                    start_of(first, zone),
                    start_of(last + chrono::Days::new(1), zone),
                    zone,
                )
                .await?;
            if json {
                return print_json(&report);
            }
            if report.meetings.is_empty() {
                println!("No meetings of yours from {first} to {last}.");
            }
            for m in &report.meetings {
                println!(
                    "{}  {}  invited {}, reached {} ({}‰), opened {}, answered {} \
                     (accept {}, tentative {}, decline {})",
                    m.local_start,
                    m.title,
                    m.invited,
                    m.reached,
                    m.reached_per_mille,
                    m.opened,
                    m.answered,
                    m.accepted,
                    m.tentative,
                    m.declined
                );
                let names = |people: &[countersign_client::PersonRef]| {
                    people
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                if !m.not_reached.is_empty() {
                    println!("  not reached:  {}", names(&m.not_reached));
                }
                if !m.not_answered.is_empty() {
                    println!("  not answered: {}", names(&m.not_answered));
                }
            }
            for month in &report.months {
                println!(
                    "{}: {} meetings, invited {}, reached {} ({}‰), opened {}, answered {}",
                    month.month,
                    month.meetings,
                    month.invited,
                    month.reached,
                    month.reached_per_mille,
                    month.opened,
                    month.answered
                );
            }
            Ok(())
        }
        MeetingCommand::Export { meeting, out } => {
            let file = client.meeting_calendar_file(meeting, Utc::now()).await?;
            let path = out.unwrap_or_else(|| file.file_name.clone().into());
            if path.as_os_str() == "-" {
                print!("{}", file.text);
                return Ok(());
            }
            std::fs::write(&path, &file.text).map_err(|e| {
                ClientError::new(
                    ClientErrorCode::FileUnreadable,
                    format!("Cannot write {}: {e}", path.display()),
                )
            })?;
            println!("Written {}.", path.display());
            Ok(())
        }
        MeetingCommand::Import { file, zone, json } => {
            let zone = zone_or_system(zone.as_deref())?;
            let read = client.read_calendar_path(&file, zone).await?;
            if json {
                return print_json(&read);
            }
            for event in &read {
                let title = if event.title.is_empty() {
                    "(no title)"
                } else {
                    &event.title
                };
                let cancelled = if event.cancelled { "  (cancelled)" } else { "" };
                println!("{title}{cancelled}");
                println!(
                    "  when:      {} – {} ({})",
                    event.local_start, event.local_end, event.time_zone
                );
                if let Some(id) = event.meeting_id {
                    println!("  this is Countersign meeting {id}: countersign meeting show {id}");
                }
                for (what, value) in [
                    ("sent in", &event.sender_time_zone),
                    ("where", &event.location),
                    ("link", &event.online_link),
                    ("organiser", &event.organiser),
                    ("repeats", &event.repeats),
                ] {
                    if let Some(value) = value {
                        println!("  {what:<10} {value}");
                    }
                }
                for person in &event.people {
                    println!("  - {}", person.name);
                }
                for other in &event.not_found {
                    println!("  - {other} (not in the directory)");
                }
            }
            Ok(())
        }
        MeetingCommand::New {
            title,
            agenda,
            start,
            end,
            zone,
            room,
            place,
            link,
            invite,
            department,
            json,
        } => {
            let form = MeetingForm {
                title,
                agenda,
                starts_at: instant(&start, "start")?,
                ends_at: instant(&end, "end")?,
                time_zone: zone_or_system(zone.as_deref())?.name().to_owned(),
                room,
                place,
                online_link: link,
                invite,
                departments: department,
                ..MeetingForm::default()
            };
            let view = client.new_meeting(&form).await?;
            if json {
                return print_json(&view);
            }
            println!("Meeting {} planned: {}.", view.id, view.plan.title);
            for skipped in &view.skipped {
                println!("  not invited: {} ({})", skipped.person_id, skipped.reason);
            }
            Ok(())
        }
    }
}

/// The zone named, else the system's (`TZ`, `/etc/timezone`, `/etc/localtime`), else
/// Asia/Shanghai.
/// `--start 2026-12-01T10:00:00+08:00` → the instant, or a clear error naming the option.
fn instant(text: &str, what: &str) -> Result<chrono::DateTime<Utc>, ClientError> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            ClientError::new(
                ClientErrorCode::InvalidInput,
                format!("--{what} '{text}' is not a time such as 2026-12-01T10:00:00+08:00."),
            )
        })
}

/// Midnight at the start of `day` in `zone` (the first one, should midnight happen twice).
fn start_of(day: chrono::NaiveDate, zone: chrono_tz::Tz) -> chrono::DateTime<Utc> {
    day.and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(zone).earliest())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn day(text: &str) -> Result<chrono::NaiveDate, ClientError> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        ClientError::new(
            ClientErrorCode::InvalidInput,
            format!("'{text}' is not a day such as 2026-12-01."),
        )
    })
}

/// Prints notifications in the person's language and local time.
async fn notifier(client: &Client) -> Result<StdoutNotifier, ClientError> {
    Ok(StdoutNotifier {
        locale: client.locale().await,
        offset: chrono::Local::now().offset().fix(),
        names: client.notification_names().await?,
    })
}

/// `sync --watch`: stays in step until Ctrl-C, one line per notification; with --json, one
/// sync report per line.
async fn watch(client: &Client, json: bool) -> Result<(), ClientError> {
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    // Built once: the directory and templates change rarely, and a name not yet known is
    // shown by a short id rather than holding a notification back.
    let notifier = notifier(client).await?;
    client
        .watch(
            Utc::now,
            |event| match event {
                WatchEvent::Synced(report) => {
                    if json {
                        if let Ok(line) = serde_json::to_string(&report) {
                            println!("{line}");
                        }
                    } else {
                        notifier.deliver(&report.notifications).ok();
                    }
                }
                WatchEvent::Offline(err) => eprintln!("offline: {}", err.message),
                WatchEvent::Live => eprintln!("live: listening for changes"),
                WatchEvent::Reminders(planned) => {
                    if json {
                        let line = serde_json::json!({ "reminders": planned });
                        println!("{line}");
                    } else {
                        notifier.deliver(&planned).ok();
                    }
                }
            },
            stop,
        )
        .await
}

async fn act(
    client: &Client,
    args: ActArgs,
    make: impl FnOnce(String) -> Act,
) -> Result<(), ClientError> {
    let item = client
        .act(args.request, make(args.comment), Utc::now())
        .await?;
    send_now(client, item, args.json).await
}

/// Sends what was just queued when the server can be reached; otherwise says it waits.
/// Answers 1 when the server refused it.
async fn send_now(client: &Client, item: OutboxItem, json: bool) -> Result<(), ClientError> {
    let sent = client.sync(Utc::now()).await;
    let item = client
        .outbox()
        .await?
        .into_iter()
        .find(|i| i.id == item.id)
        .unwrap_or(item);
    if json {
        print_json(&item)?;
    }
    match (&sent, item.state) {
        (_, countersign_client::cache::OutboxState::Refused) => {
            if !json {
                print_refused(&item);
            }
            Err(ClientError::new(
                countersign_client::ClientErrorCode::Refused,
                item.reason
                    .as_ref()
                    .map_or_else(|| "refused".to_owned(), |r| r.message.clone()),
            ))
        }
        (_, countersign_client::cache::OutboxState::Applied) => {
            if !json {
                println!("Done: {} on request {}.", item.action, item.request_id);
            }
            Ok(())
        }
        (Err(err), _) if err.ends_session() => Err(err.clone()),
        (_, _) => {
            if !json {
                println!(
                    "Queued: {} on request {}; it will be sent when the server can be reached{}.",
                    item.action,
                    item.request_id,
                    sent.as_ref()
                        .err()
                        .map_or_else(String::new, |e| format!(" ({})", e.message))
                );
            }
            Ok(())
        }
    }
}

fn print_refused(item: &OutboxItem) {
    println!(
        "  refused: {} on request {} — {}",
        item.action,
        item.request_id,
        item.reason
            .as_ref()
            .map_or("no reason given", |r| r.message.as_str())
    );
}

async fn draft(client: &Client, command: DraftCommand) -> Result<(), ClientError> {
    match command {
        DraftCommand::New { template, json } => {
            let view = client.draft_new(&template, Utc::now()).await?;
            show_draft(&view, json)
        }
        DraftCommand::Set {
            draft,
            field,
            value,
            json,
        } => {
            // JSON when it parses as JSON, else the text itself.
            let value = serde_json::from_str(&value).unwrap_or(serde_json::Value::String(value));
            let view = client.draft_set(draft, &field, value, Utc::now()).await?;
            show_draft(&view, json)
        }
        DraftCommand::Title { draft, title } => {
            let view = client.draft_title(draft, &title, Utc::now()).await?;
            show_draft(&view, false)
        }
        DraftCommand::Attach {
            draft,
            field,
            files,
            json,
        } => {
            let outcome = client
                .draft_attach_files(draft, &field, &files, Utc::now())
                .await?;
            if json {
                return print_json(&outcome);
            }
            for refusal in &outcome.refused {
                eprintln!("not attached: {}", refusal.message);
            }
            show_draft(&outcome.draft, false)?;
            if outcome.refused.is_empty() {
                Ok(())
            } else {
                Err(ClientError::new(
                    outcome.refused[0].code,
                    format!(
                        "{} of {} file(s) not attached.",
                        outcome.refused.len(),
                        files.len()
                    ),
                ))
            }
        }
        DraftCommand::Detach {
            draft,
            field,
            attachment,
        } => {
            let view = client
                .draft_detach(draft, &field, attachment, Utc::now())
                .await?;
            show_draft(&view, false)
        }
        DraftCommand::Show { draft, json } => show_draft(&client.draft(draft).await?, json),
        DraftCommand::List { json } => {
            let drafts = client.drafts().await?;
            if json {
                return print_json(&drafts);
            }
            for d in drafts {
                println!(
                    "{}  {:<16} {}  {} error(s){}",
                    d.id,
                    d.template_id,
                    d.title.as_deref().unwrap_or("(untitled)"),
                    d.errors.len(),
                    if d.submitted_as.is_some() {
                        "  queued"
                    } else {
                        ""
                    }
                );
            }
            Ok(())
        }
        DraftCommand::Delete { draft } => {
            client.draft_delete(draft).await?;
            println!("Draft {draft} deleted.");
            Ok(())
        }
    }
}

fn show_draft(view: &DraftView, json: bool) -> Result<(), ClientError> {
    if json {
        return print_json(view);
    }
    println!(
        "Draft {} ({} v{}){}",
        view.id,
        view.template_id,
        view.template_version,
        if view.template_retired {
            "  — this template version was retired; start a new draft"
        } else {
            ""
        }
    );
    println!("  form: {}", view.form);
    if view.computed.as_object().is_some_and(|c| !c.is_empty()) {
        println!("  computed: {}", view.computed);
    }
    if view.errors.is_empty() {
        println!("  ready to submit");
    }
    for e in &view.errors {
        println!("  {}: {}", e.path, e.message);
    }
    Ok(())
}
