//! The HTTP surface. Every route is one row of [`routes`]: method, path, the access it needs
//! and its handler. The router is built from that table only, so no route can exist without
//! an access rule, and a guard in front of each handler authenticates the caller and checks
//! the rule before the handler runs (deny by default, S2). Layers every route shares: body
//! limit, panic guard, tracing, JSON 404/405.

mod accounts;
mod attachments;
mod audit;
mod directory;
mod events;
mod extract;
mod health;
mod meetings;
mod openapi;
mod requests;
mod sessions;
mod sync;
mod templates;

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::handler::Handler;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter};
use countersign_api::{ApiError, ErrorCode};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

pub use extract::{Body, Origin, Params, bearer_token, uuid_segment, version_in_range};
pub use openapi::{BEARER, document_spec};

use crate::error::{Error, error_response};
use crate::policy::{Access, Permission};
use crate::state::AppState;
use crate::store::AuditEntry;

/// One route: what it answers, and who may call it.
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    /// Whether the body is a file, allowed up to `max_attachment_bytes` instead of
    /// `max_body_bytes`.
    pub file_body: bool,
    handler: MethodRouter<AppState>,
}

impl Route {
    fn new<H, T>(method: Method, path: &'static str, access: Access, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        // The table only uses the standard methods, which all have a filter.
        let filter = MethodFilter::try_from(method.clone()).unwrap_or(MethodFilter::GET);
        Self {
            method,
            path,
            access,
            file_body: false,
            handler: axum::routing::on(filter, handler),
        }
    }

    /// Marks the route as taking a file as its body.
    fn file_body(mut self) -> Self {
        self.file_body = true;
        self
    }

    fn get<H: Handler<T, AppState>, T: 'static>(p: &'static str, a: Access, h: H) -> Self {
        Self::new(Method::GET, p, a, h)
    }

    fn post<H: Handler<T, AppState>, T: 'static>(p: &'static str, a: Access, h: H) -> Self {
        Self::new(Method::POST, p, a, h)
    }

    fn put<H: Handler<T, AppState>, T: 'static>(p: &'static str, a: Access, h: H) -> Self {
        Self::new(Method::PUT, p, a, h)
    }

    fn delete<H: Handler<T, AppState>, T: 'static>(p: &'static str, a: Access, h: H) -> Self {
        Self::new(Method::DELETE, p, a, h)
    }
}

/// Every route of the API. Adding a route means stating who may call it.
pub fn routes() -> Vec<Route> {
    use Access::{Public, Requires, SignedIn};
    let work = Requires(Permission::Work);
    vec![
        Route::get("/healthz", Public, health::healthz),
        Route::get("/readyz", Public, health::readyz),
        Route::get("/v1/info", Public, health::info),
        Route::get("/v1/openapi.json", Public, openapi::document),
        Route::post("/v1/sessions", Public, sessions::sign_in),
        Route::post("/v1/sessions/refresh", Public, sessions::refresh),
        Route::get("/v1/sessions", SignedIn, sessions::list),
        Route::delete("/v1/sessions/{id}", SignedIn, sessions::revoke),
        Route::get("/v1/me", SignedIn, sessions::me),
        Route::get("/v1/people", work, directory::people),
        Route::get("/v1/departments", work, directory::departments),
        Route::get("/v1/templates", work, templates::current),
        Route::get("/v1/templates/{id}", work, templates::versions),
        Route::get(
            "/v1/templates/{id}/versions/{version}",
            work,
            templates::version,
        ),
        Route::post("/v1/requests", work, requests::submit),
        Route::get("/v1/requests", work, requests::mine),
        Route::get("/v1/requests/{id}", work, requests::read),
        Route::post("/v1/requests/{id}/actions", work, requests::act),
        Route::get("/v1/tasks", work, requests::tasks),
        Route::get("/v1/sync", work, sync::pull),
        Route::post("/v1/mutations", work, sync::mutations),
        // -- live events --
        Route::get("/v1/events", work, events::stream),
        // -- accounts and organisation administration --
        Route::post("/v1/accounts/activate", Public, accounts::activate),
        Route::post(
            "/v1/accounts/{id}/activation",
            Requires(Permission::ManageAccounts),
            accounts::reissue,
        ),
        Route::post(
            "/v1/people/{id}/departure",
            Requires(Permission::ManagePeople),
            accounts::departure,
        ),
        Route::post(
            "/v1/people/{id}/transfer",
            Requires(Permission::ManagePeople),
            accounts::transfer,
        ),
        Route::post(
            "/v1/templates/proposals",
            Requires(Permission::ProposeTemplates),
            accounts::propose,
        ),
        Route::get("/v1/templates/proposals/{id}", work, accounts::proposal),
        // -- audit and reports --
        Route::get("/v1/audit", Requires(Permission::ReadAudit), audit::query),
        Route::get(
            "/v1/reports/dormant-accounts",
            Requires(Permission::ReadReports),
            audit::dormant_accounts,
        ),
        // -- attachments --
        Route::post("/v1/attachments", work, attachments::upload).file_body(),
        Route::get("/v1/attachments/{id}", work, attachments::download),
        // -- meetings --
        Route::post("/v1/meetings", work, meetings::create),
        Route::get("/v1/meetings", work, meetings::mine),
        Route::post("/v1/meetings/receipts", work, meetings::receipts),
        Route::get("/v1/meetings/{id}", work, meetings::read),
        Route::put("/v1/meetings/{id}", work, meetings::edit),
        Route::post("/v1/meetings/{id}/cancel", work, meetings::cancel),
        Route::post("/v1/meetings/{id}/rsvp", work, meetings::rsvp),
        Route::get("/v1/rooms", work, meetings::rooms),
        Route::get("/v1/reports/meetings", work, meetings::coverage),
    ]
}

/// The guard's state: the app and the route's access rule.
#[derive(Clone)]
struct Guard {
    state: AppState,
    access: Access,
}

/// Authenticates and authorises before the handler runs; the caller it found travels on in
/// the request's extensions for the handler's `Caller` extractor.
async fn guard(State(guard): State<Guard>, mut request: Request, next: Next) -> Response {
    if guard.access == Access::Public {
        return next.run(request).await;
    }
    let bearer = match bearer_token(request.headers()) {
        Ok(bearer) => bearer,
        Err(e) => return e.into_response(),
    };
    let caller = match guard.state.authenticate(bearer.as_deref()).await {
        Ok(caller) => caller,
        Err(e) => return e.into_response(),
    };
    if !guard.access.allows(&caller.person) {
        let entry = AuditEntry {
            at: guard.state.clock.now(),
            actor_id: Some(caller.person.id),
            actor: caller.person.username.clone(),
            action: "access.denied".into(),
            resource: format!("{} {}", request.method(), request.uri().path()),
            outcome: ErrorCode::Forbidden.as_str().into(),
            source: None,
            device: Some(caller.session.device_name.clone()),
        };
        if let Err(e) = guard.state.store.append_audit(&entry).await {
            return Error::from(e).into_response();
        }
        return Error::forbidden(
            "Your role does not allow this. Ask your administrator if you need it.",
        )
        .into_response();
    }
    request.extensions_mut().insert(caller);
    next.run(request).await
}

pub fn router(state: AppState) -> Router {
    let max_body = state.settings.max_body_bytes;
    let mut router = Router::new();
    let max_file = state.settings.max_attachment_bytes;
    for route in routes() {
        let handler = if route.file_body {
            // Nearer the handler than the router-wide limit, so this one applies.
            route.handler.layer(DefaultBodyLimit::max(max_file))
        } else {
            route.handler
        };
        let guarded = handler.route_layer(axum::middleware::from_fn_with_state(
            Guard {
                state: state.clone(),
                access: route.access,
            },
            guard,
        ));
        router = router.route(route.path, guarded);
    }
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(
            TraceLayer::new_for_http()
                .on_response(
                    tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO),
                )
                .on_failure(tower_http::trace::DefaultOnFailure::new()),
        )
        .with_state(state)
}

async fn not_found() -> Response {
    error_response(
        ApiError::new(
            ErrorCode::NotFound,
            "There is no such endpoint on this server.",
        ),
        StatusCode::NOT_FOUND,
    )
}

async fn method_not_allowed() -> Response {
    error_response(
        ApiError::new(
            ErrorCode::MalformedRequest,
            "This endpoint does not accept that HTTP method.",
        ),
        StatusCode::METHOD_NOT_ALLOWED,
    )
}

/// A bug must still answer in the contract's shape; the panic itself is logged by the hook.
fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    error_response(
        ApiError::new(
            ErrorCode::Internal,
            "The server failed to handle this request. It has been logged.",
        ),
        StatusCode::INTERNAL_SERVER_ERROR,
    )
    .into_response()
}

/// How long graceful shutdown waits for requests in flight.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
