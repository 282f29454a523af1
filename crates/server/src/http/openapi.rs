//! `GET /v1/openapi.json`: the REST surface as OpenAPI 3.1, generated from the handlers'
//! `#[utoipa::path]` docs and the wire types of countersign-api, so the published contract
//! is the code's. A test holds the document to [`super::routes`]: the same operations, and
//! bearer security exactly where the route table asks for a session.
//!
//! Answers every operation shares are added here once rather than repeated on each handler,
//! because they come from layers in front of the handlers: the body and query extractors
//! (400, 413, 415), the route guard (401, 403) and the error type (500, 503).

use std::sync::LazyLock;

use axum::http::header;
use axum::response::IntoResponse;
use countersign_api::ApiError;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{AdditionalProperties, Schema};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

use super::{
    accounts, attachments, audit, directory, events, health, meetings, requests, sessions, sync,
    templates,
};

/// The name of the security scheme of routes that need a session.
pub const BEARER: &str = "bearer";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Countersign",
        description = "Approvals and the offline-first sync protocol. Every error is an \
                       `ApiError` body with a stable `code`.",
    ),
    paths(
        health::healthz,
        health::readyz,
        health::info,
        document,
        sessions::sign_in,
        sessions::refresh,
        sessions::list,
        sessions::revoke,
        sessions::me,
        directory::people,
        directory::departments,
        templates::current,
        templates::versions,
        templates::version,
        requests::submit,
        requests::mine,
        requests::read,
        requests::act,
        requests::tasks,
        sync::pull,
        sync::mutations,
        events::stream,
        accounts::activate,
        accounts::reissue,
        accounts::departure,
        accounts::transfer,
        accounts::propose,
        accounts::proposal,
        audit::query,
        audit::dormant_accounts,
        attachments::upload,
        attachments::download,
        meetings::create,
        meetings::mine,
        meetings::receipts,
        meetings::read,
        meetings::edit,
        meetings::cancel,
        meetings::rsvp,
        meetings::rooms,
        meetings::coverage,
    ),
    components(schemas(ApiError)),
    modifiers(&SharedAnswers),
)]
struct ApiDoc;

/// The OpenAPI document of this server.
pub fn document_spec() -> Document {
    ApiDoc::openapi()
}

static DOCUMENT_JSON: LazyLock<String> = LazyLock::new(|| {
    // A document of plain maps and strings always serialises; the fallback keeps this total.
    document_spec()
        .to_json()
        .unwrap_or_else(|_| "{}".to_owned())
});

/// This document.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "health",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", body = Object)))]
pub(super) async fn document() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT_JSON.as_str(),
    )
}

struct SharedAnswers;

impl Modify for SharedAnswers {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        // An action denies unknown fields, but utoipa does not carry that to the variants of
        // an internally tagged enum: without this the document would promise that an approval
        // with extra fields is accepted.
        if let Some(RefOr::T(Schema::OneOf(action))) = components
            .schemas
            .get_mut(countersign_api::openapi::Action::name().as_ref())
        {
            for variant in &mut action.items {
                if let RefOr::T(Schema::Object(object)) = variant {
                    object.additional_properties =
                        Some(Box::new(AdditionalProperties::FreeForm(false)));
                }
            }
        }
        for item in doc.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                shared_answers(op);
            }
        }
    }
}

fn shared_answers(op: &mut Operation) {
    let has_input = op.request_body.is_some()
        || op
            .parameters
            .as_ref()
            .is_some_and(|params| !params.is_empty());
    let signed_in = op.security.as_ref().is_some_and(|s| !s.is_empty());
    if has_input {
        add(
            op,
            "400",
            "`malformed_request`: the body, a parameter or the path does not fit",
        );
    }
    if op.request_body.is_some() {
        add(op, "413", "`payload_too_large`");
        add(op, "415", "`unsupported_media_type`: the body is not JSON");
    }
    if signed_in {
        add(
            op,
            "401",
            "`unauthenticated`, `token_expired`, `token_invalid` or `session_revoked`",
        );
        add(
            op,
            "403",
            "`forbidden` by the caller's roles, or `account_disabled`",
        );
    }
    add(op, "500", "`internal`: logged on the server");
    add(op, "503", "`unavailable`: the database does not answer");
}

/// Adds an `ApiError` answer for `status` unless the handler documents its own.
fn add(op: &mut Operation, status: &str, description: &str) {
    if op.responses.responses.contains_key(status) {
        return;
    }
    let response = ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(ApiError::name())))
                .build(),
        )
        .build();
    op.responses
        .responses
        .insert(status.to_owned(), response.into());
}
