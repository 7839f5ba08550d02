//! The launcher's HTTP routes: the page, and the JSON API it uses (documented in
//! docs/launcher.md so the ICT office can script it). Reads go through GET; every change is a
//! POST. Ledger and file work runs on blocking threads, never on the server's own.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;

mod files;
mod fleet;
mod history;
mod runs;
mod schedules;

pub(crate) use runs::Tracked;

use super::access::{RequestInfo, Verdict};
use super::{App, assets};
use crate::ledger::{self, Store};

pub(crate) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route(
            "/",
            get(|| page(assets::INDEX_HTML, "text/html; charset=utf-8")),
        )
        .route(
            "/app.js",
            get(|| page(assets::APP_JS, "text/javascript; charset=utf-8")),
        )
        .route(
            "/style.css",
            get(|| page(assets::STYLE_CSS, "text/css; charset=utf-8")),
        )
        .route("/api/scenarios", get(runs::scenarios))
        .route("/api/scenarios/{id}/run", post(runs::run))
        .route(
            "/api/scenarios/{id}/files/{var}",
            get(files::input_files)
                .post(files::upload)
                .layer(DefaultBodyLimit::max(
                    (crate::scenario::MAX_UPLOAD_MB * 1024.0 * 1024.0) as usize + 1,
                )),
        )
        .route("/api/requests", get(runs::requests))
        .route("/api/requests/{id}", get(runs::request))
        .route("/api/requests/{id}/stop", post(runs::stop))
        .route("/api/requests/{id}/cancel", post(runs::cancel))
        .route("/api/events", get(runs::events))
        .route("/api/history", get(history::history))
        .route("/api/runs/{run_id}/files/{name}", get(history::run_file))
        .route("/api/runs/{run_id}/trace/{name}", get(history::trace_file))
        .route("/api/summary", get(history::summary))
        .route("/api/report", get(history::report))
        .route(
            "/api/schedules",
            get(schedules::schedules).post(schedules::add_schedule),
        )
        .route(
            "/api/schedules/{id}/remove",
            post(schedules::remove_schedule),
        )
        .route(
            "/api/closed-days",
            get(schedules::closed_days).post(schedules::close_day),
        )
        .route("/api/closed-days/{day}/remove", post(schedules::open_day))
        .route("/api/machines", get(fleet::machines))
        .route("/api/machines/{name}/run", post(fleet::send_run))
        .route("/api/run-requests", get(fleet::run_requests))
        .route(
            "/api/run-requests/{id}/cancel",
            post(fleet::cancel_run_request),
        )
        .route("/api/queues", get(fleet::queues))
        .fallback(|| async { ApiError::not_found("no such page") })
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app)
}

/// Every request passes here first (see `access`).
async fn guard(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let verdict = {
        let h = |name: header::HeaderName| req.headers().get(name).and_then(|v| v.to_str().ok());
        app.access.check(&RequestInfo {
            method: req.method().as_str(),
            path: req.uri().path(),
            query: req.uri().query(),
            host: h(header::HOST),
            origin: h(header::ORIGIN),
            sec_fetch_site: req
                .headers()
                .get("sec-fetch-site")
                .and_then(|v| v.to_str().ok()),
            cookie: h(header::COOKIE),
            authorization: h(header::AUTHORIZATION),
        })
    };
    let mut response = match verdict {
        Verdict::Allow => json_errors(next.run(req).await).await,
        Verdict::SetCookieAndRedirect { cookie, location } => {
            let mut r = StatusCode::SEE_OTHER.into_response();
            if let (Ok(c), Ok(l)) = (
                HeaderValue::from_str(&cookie),
                HeaderValue::from_str(&location),
            ) {
                r.headers_mut().insert(header::SET_COOKIE, c);
                r.headers_mut().insert(header::LOCATION, l);
            }
            r
        }
        Verdict::Refuse { status, reason } => ApiError {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN),
            message: reason.to_string(),
        }
        .into_response(),
    };
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
        (
            "content-security-policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             connect-src 'self'; frame-ancestors 'none'; form-action 'self'",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Errors that axum itself answers (a body that is not JSON, a bad query, a wrong method, a
/// body too large) come as plain text or nothing; the API promises `{"error": "..."}`.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_lowercase()
    } else {
        text
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(
        parts,
        axum::body::Body::from(serde_json::json!({ "error": message }).to_string()),
    )
}

async fn page(body: &'static str, content_type: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// An error as the page and scripts get it: a status and `{"error": "..."}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn not_found(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        }
    }
    fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }
}

impl From<ledger::LedgerError> for ApiError {
    fn from(e: ledger::LedgerError) -> Self {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: e.0,
        }
    }
}

impl From<crate::error::Error> for ApiError {
    fn from(e: crate::error::Error) -> Self {
        let status = if e.code() == crate::exit::USAGE {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        ApiError {
            status,
            message: e.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(serde_json::json!({ "error": self.message })),
        )
            .into_response()
    }
}

type ApiResult<T> = Result<Json<T>, ApiError>;

/// Runs ledger and file work off the server's threads.
async fn blocking<T: Send + 'static>(
    app: Arc<App>,
    work: impl FnOnce(&App) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(move || work(&app))
        .await
        .unwrap_or_else(|e| {
            Err(ApiError {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                message: format!("internal error: {e}"),
            })
        })
}

fn open_ledger(app: &App) -> Result<Box<dyn Store>, ApiError> {
    Ok(ledger::open(&app.config.ledger)?)
}

fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}

#[derive(Debug, Serialize)]
struct Done {
    ok: bool,
}

impl From<super::inputs::Refusal> for ApiError {
    fn from(r: super::inputs::Refusal) -> Self {
        ApiError {
            status: StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_REQUEST),
            message: r.message,
        }
    }
}
