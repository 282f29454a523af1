//! `GET /v1/events`: the live event stream (Server-Sent Events). Each event is a hint
//! `{"cursor": …}` whose SSE `id` is the same cursor, so a reconnecting client's
//! `Last-Event-ID` resumes where it was; an idle stream carries a heartbeat comment so proxies
//! keep it open and the client can tell a quiet stream from a dead one.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::header::{HeaderMap, HeaderName, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;

use super::Origin;
use crate::auth::Caller;
use crate::error::Result;
use crate::state::AppState;

const LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");

/// The live event stream (Server-Sent Events): `{"cursor"}` hints and heartbeats.
#[utoipa::path(get, path = "/v1/events", tag = "sync", security(("bearer" = [])),
    params(("Last-Event-ID" = Option<String>, Header, description = "The last hint's id, to resume")),
    responses(
        (status = 200, description = "An endless stream of hints", content_type = "text/event-stream", body = String),
        (status = 410, description = "`resync_required`: the event id is not this server's", body = countersign_api::ApiError),
    ))]
pub(super) async fn stream(
    State(state): State<AppState>,
    caller: Caller,
    origin: Origin,
    headers: HeaderMap,
) -> Result<Response> {
    let last_event_id = headers
        .get(LAST_EVENT_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty());
    let hints = state
        .open_event_stream(&caller, last_event_id, &origin)
        .await?;
    let events = hints.map(|hint| {
        // A struct of one string always serialises; the fallback only keeps this total.
        let data = serde_json::to_string(&hint)
            .unwrap_or_else(|_| format!("{{\"cursor\":\"{}\"}}", hint.cursor));
        Ok::<Event, Infallible>(Event::default().id(hint.cursor).data(data))
    });
    let heartbeat = Duration::from_secs(state.settings.events_heartbeat_secs.max(1));
    let mut response = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(heartbeat).text("heartbeat"))
        .into_response();
    // Reverse proxies (nginx) buffer responses unless told not to, which would hold hints back.
    response.headers_mut().insert(
        HeaderName::from_static("x-accel-buffering"),
        HeaderValue::from_static("no"),
    );
    Ok(response)
}
