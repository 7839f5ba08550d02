//! The launcher's HTTP routes: the page, and the JSON API it uses (documented in
//! docs/launcher.md so the ICT office can script it). Reads go through GET; every change is a
//! POST. Ledger and file work runs on blocking threads, never on the server's own.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::access::{RequestInfo, Verdict};
use super::progress::{Follower, Pace, Progress};
use super::{App, assets, catalog, evidence, inputs};
use crate::launcher::{RequestState, RequestView, Trigger};
use crate::ledger::{self, RunRecord, Store};
use crate::report::{Period, Report, xlsx};
use crate::schedule::{Schedule, calendar};

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
        .route("/api/scenarios", get(scenarios))
        .route("/api/scenarios/{id}/run", post(run))
        .route(
            "/api/scenarios/{id}/files/{var}",
            get(input_files).post(upload).layer(DefaultBodyLimit::max(
                (crate::scenario::MAX_UPLOAD_MB * 1024.0 * 1024.0) as usize + 1,
            )),
        )
        .route("/api/requests", get(requests))
        .route("/api/requests/{id}", get(request))
        .route("/api/requests/{id}/stop", post(stop))
        .route("/api/requests/{id}/cancel", post(cancel))
        .route("/api/events", get(events))
        .route("/api/history", get(history))
        .route("/api/runs/{run_id}/files/{name}", get(run_file))
        .route("/api/summary", get(summary))
        .route("/api/report", get(report))
        .route("/api/schedules", get(schedules).post(add_schedule))
        .route("/api/schedules/{id}/remove", post(remove_schedule))
        .route("/api/closed-days", get(closed_days).post(close_day))
        .route("/api/closed-days/{day}/remove", post(open_day))
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
        Verdict::Allow => next.run(req).await,
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

async fn scenarios(State(app): State<Arc<App>>) -> ApiResult<Vec<catalog::ScenarioCard>> {
    blocking(app, |app| {
        let store = open_ledger(app)?;
        Ok(catalog::cards(&app.config.scenarios_dir, &*store, today())?)
    })
    .await
    .map(Json)
}

#[derive(Debug, Default, Deserialize)]
struct RunBody {
    #[serde(default)]
    vars: HashMap<String, String>,
}

#[derive(Debug, Serialize)]
struct Queued {
    request_id: u64,
}

async fn run(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    body: Option<Json<RunBody>>,
) -> ApiResult<Queued> {
    let vars = body.map(|Json(b)| b.vars).unwrap_or_default();
    blocking(app, move |app| {
        let scenario = catalog::find(&app.config.scenarios_dir, &id)
            .ok_or_else(|| ApiError::not_found(format!("no scenario {id:?}")))?;
        if let Some(bad) = vars.keys().find(|k| !valid_var_name(k)) {
            return Err(ApiError::bad_request(format!(
                "{bad:?} is not a variable name"
            )));
        }
        let mut vars = vars;
        // A file the scenario asks for: one of those offered, passed as its path.
        for ask in &scenario.manifest.ask {
            let name = vars.get(&ask.var).ok_or_else(|| {
                ApiError::bad_request(format!("choose the file for {} ({})", ask.label, ask.var))
            })?;
            let path = inputs::chosen(&scenario, ask, name).map_err(refusal)?;
            vars.insert(ask.var.clone(), path);
        }
        let mut vars: Vec<(String, String)> = vars.into_iter().collect();
        vars.sort();
        let request_id = app.launcher.submit(&scenario.dir, vars, Trigger::Launcher);
        Ok(Queued { request_id })
    })
    .await
    .map(Json)
}

fn refusal(r: inputs::Refusal) -> ApiError {
    ApiError {
        status: StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_REQUEST),
        message: r.message,
    }
}

fn scenario_and_ask(
    app: &App,
    id: &str,
    var: &str,
) -> Result<(crate::scenario::Scenario, crate::scenario::Ask), ApiError> {
    let scenario = catalog::find(&app.config.scenarios_dir, id)
        .ok_or_else(|| ApiError::not_found(format!("no scenario {id:?}")))?;
    let ask = inputs::ask(&scenario, var)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("scenario {id:?} asks for no {var:?}")))?;
    Ok((scenario, ask))
}

/// The files a scenario's ask offers, newest first.
async fn input_files(
    State(app): State<Arc<App>>,
    Path((id, var)): Path<(String, String)>,
) -> ApiResult<Vec<inputs::InputFile>> {
    blocking(app, move |app| {
        let (scenario, ask) = scenario_and_ask(app, &id, &var)?;
        Ok(inputs::list(&scenario, &ask))
    })
    .await
    .map(Json)
}

#[derive(Debug, Deserialize)]
struct UploadQuery {
    name: String,
}

/// Uploads a file into the ask's folder: the body is the file, `?name=` its name.
async fn upload(
    State(app): State<Arc<App>>,
    Path((id, var)): Path<(String, String)>,
    Query(q): Query<UploadQuery>,
    body: axum::body::Bytes,
) -> ApiResult<inputs::InputFile> {
    blocking(app, move |app| {
        let (scenario, ask) = scenario_and_ask(app, &id, &var)?;
        inputs::save(&scenario, &ask, &q.name, &body).map_err(refusal)
    })
    .await
    .map(Json)
}

fn valid_var_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// One request as the page shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct RequestStatus {
    id: u64,
    scenario_id: String,
    scenario_name: String,
    trigger: Trigger,
    /// queued, running, finished, cancelled.
    state: &'static str,
    /// When finished: succeeded, failed, aborted (stopped), interrupted (killed), error (did
    /// not start: the log says why).
    outcome: Option<String>,
    /// 1 for the next to run.
    queue_position: Option<usize>,
    /// The run's process, while it runs.
    pid: Option<u32>,
    killed_after_timeout: bool,
    /// 停止 was pressed and the run did not end by itself within 5 s, so it was killed.
    killed_after_stop: bool,
    progress: Progress,
    /// Time since the run's process started (also while it sleeps or waits).
    running_ms: u64,
    eta_ms: Option<u64>,
    /// Files of the run's evidence the page can show (`/api/runs/{run_id}/files/{name}`).
    files: Vec<String>,
    /// The last lines the run's process printed, when it ended without saying how.
    output_tail: Option<String>,
}

/// What the server remembers of each request between looks.
pub(crate) struct Tracked {
    follower: Follower,
    scenario_id: String,
    scenario_name: String,
    pace: Pace,
    started: Option<std::time::Instant>,
    ended_ms: Option<u64>,
}

fn statuses(app: &App) -> Vec<RequestStatus> {
    let views = app.launcher.requests();
    let mut tracked = app.followers.lock().unwrap_or_else(|e| e.into_inner());
    let queued: Vec<u64> = views
        .iter()
        .filter(|v| v.state == RequestState::Queued)
        .map(|v| v.id)
        .collect();
    views
        .iter()
        .rev()
        .take(30)
        .map(|v| {
            let t = tracked.entry(v.id).or_insert_with(|| track(app, v));
            status(t, v, &queued)
        })
        .collect()
}

fn track(app: &App, v: &RequestView) -> Tracked {
    let manifest = crate::scenario::Scenario::load(&v.scenario)
        .ok()
        .map(|s| s.manifest);
    let scenario_id = manifest.as_ref().map(|m| m.id.clone()).unwrap_or_default();
    let past_runs = ledger::open(&app.config.ledger)
        .ok()
        .and_then(|store| catalog::past_runs(&*store, &scenario_id).ok())
        .unwrap_or_default();
    Tracked {
        follower: Follower::new(&v.runs_dir),
        scenario_name: manifest
            .map(|m| m.name)
            .unwrap_or_else(|| v.scenario.display().to_string()),
        scenario_id,
        pace: Pace { past_runs },
        started: None,
        ended_ms: None,
    }
}

fn status(t: &mut Tracked, v: &RequestView, queued: &[u64]) -> RequestStatus {
    let (state, outcome, killed, killed_after_stop) = match &v.state {
        RequestState::Queued => ("queued", None, false, false),
        RequestState::Running { .. } => ("running", None, false, false),
        RequestState::Cancelled => ("cancelled", None, false, false),
        RequestState::Finished {
            exit_code,
            killed_after_timeout,
            killed_after_stop,
        } => (
            "finished",
            Some(*exit_code),
            *killed_after_timeout,
            *killed_after_stop,
        ),
    };
    if state != "queued" && state != "cancelled" {
        t.follower.update();
    }
    if state == "running" && t.started.is_none() {
        t.started = Some(std::time::Instant::now());
    }
    if state == "finished" && t.ended_ms.is_none() {
        t.ended_ms = Some(t.started.map_or(0, |s| s.elapsed().as_millis() as u64));
    }
    let running_ms = t
        .ended_ms
        .or_else(|| t.started.map(|s| s.elapsed().as_millis() as u64))
        .unwrap_or(0);
    let mut progress = t.follower.progress.clone();
    if state == "running" && progress.run_id.is_none() {
        // Not started yet (e.g. waiting for another run to leave the desktop): what it printed.
        progress.step = tail(&v.runs_dir.with_extension("log"), 1);
    }
    let outcome = outcome.map(|code| match (&progress.outcome, code) {
        (Some(o), _) => o.clone(),
        (None, None) => "interrupted".into(),
        (None, Some(_)) => "error".into(),
    });
    let files = t.follower.run_dir().map(evidence_files).unwrap_or_default();
    let output_tail = (outcome.as_deref() == Some("error")
        || outcome.as_deref() == Some("interrupted"))
    .then(|| tail(&v.runs_dir.with_extension("log"), 8))
    .flatten();
    RequestStatus {
        id: v.id,
        scenario_id: t.scenario_id.clone(),
        scenario_name: t.scenario_name.clone(),
        trigger: v.trigger,
        state,
        outcome,
        queue_position: queued.iter().position(|q| *q == v.id).map(|p| p + 1),
        pid: match v.state {
            RequestState::Running { pid } if pid != 0 => Some(pid),
            _ => None,
        },
        killed_after_timeout: killed,
        killed_after_stop,
        eta_ms: (state == "running")
            .then(|| t.pace.left_ms(&progress, running_ms))
            .flatten(),
        progress,
        running_ms,
        files,
        output_tail,
    }
}

fn evidence_files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| evidence::plain_name(n) && evidence::content_type(n).is_some())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn tail(path: &std::path::Path, lines: usize) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let all: Vec<&str> = text.lines().collect();
    let shown = all[all.len().saturating_sub(lines)..].join("\n");
    (!shown.trim().is_empty()).then_some(shown)
}

async fn requests(State(app): State<Arc<App>>) -> ApiResult<Vec<RequestStatus>> {
    blocking(app, |app| Ok(statuses(app))).await.map(Json)
}

async fn request(State(app): State<Arc<App>>, Path(id): Path<u64>) -> ApiResult<RequestStatus> {
    blocking(app, move |app| {
        statuses(app)
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| ApiError::not_found(format!("no request {id}")))
    })
    .await
    .map(Json)
}

#[derive(Debug, Serialize)]
struct Done {
    ok: bool,
}

async fn stop(State(app): State<Arc<App>>, Path(id): Path<u64>) -> ApiResult<Done> {
    if app.launcher.stop(id) {
        Ok(Json(Done { ok: true }))
    } else {
        Err(ApiError {
            status: StatusCode::CONFLICT,
            message: format!("request {id} is not running"),
        })
    }
}

async fn cancel(State(app): State<Arc<App>>, Path(id): Path<u64>) -> ApiResult<Done> {
    if app.launcher.cancel(id) {
        Ok(Json(Done { ok: true }))
    } else {
        Err(ApiError {
            status: StatusCode::CONFLICT,
            message: format!("request {id} is not waiting"),
        })
    }
}

/// The requests, as server-sent events (`event: requests`, data: the JSON array), sent when
/// anything changed, at most every 250 ms and at least every second while a run goes on.
async fn events(
    State(app): State<Arc<App>>,
) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
    let stream = futures_util::stream::unfold(
        (app, String::new(), true),
        |(app, last, first)| async move {
            loop {
                if !first || !last.is_empty() {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                let snapshot = blocking(app.clone(), |app| Ok(statuses(app)))
                    .await
                    .ok()
                    .and_then(|s| serde_json::to_string(&s).ok())
                    .unwrap_or_else(|| "[]".into());
                if snapshot != last {
                    let event = Event::default().event("requests").data(snapshot.clone());
                    return Some((Ok(event), (app, snapshot, false)));
                }
            }
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(10)))
}

#[derive(Debug, Deserialize)]
struct HistoryQuery {
    scenario: Option<String>,
    limit: Option<u64>,
}

#[derive(Debug, Serialize)]
struct HistoryRow {
    #[serde(flatten)]
    run: RunRecord,
    files: Vec<String>,
}

async fn history(
    State(app): State<Arc<App>>,
    Query(q): Query<HistoryQuery>,
) -> ApiResult<Vec<HistoryRow>> {
    blocking(app, move |app| {
        let store = open_ledger(app)?;
        let runs = catalog::runs(
            &*store,
            q.scenario.as_deref().unwrap_or(""),
            None,
            q.limit.unwrap_or(50).min(500),
        )?;
        Ok(runs
            .into_iter()
            .map(|run| {
                let files = run
                    .run_dir
                    .as_deref()
                    .map(std::path::Path::new)
                    .filter(|d| inside_runs_root(app, d))
                    .map(evidence_files)
                    .unwrap_or_default();
                HistoryRow { run, files }
            })
            .collect())
    })
    .await
    .map(Json)
}

fn inside_runs_root(app: &App, dir: &std::path::Path) -> bool {
    match (
        std::fs::canonicalize(&app.config.runs_root),
        std::fs::canonicalize(dir),
    ) {
        (Ok(root), Ok(dir)) => dir.starts_with(root),
        _ => false,
    }
}

async fn run_file(
    State(app): State<Arc<App>>,
    Path((run_id, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    blocking(app, move |app| {
        let missing = || ApiError::not_found("no such file");
        if !evidence::plain_name(&run_id) {
            return Err(missing());
        }
        let store = open_ledger(app)?;
        let run = catalog::runs(&*store, "", Some(&run_id), 1)?
            .into_iter()
            .next()
            .ok_or_else(missing)?;
        let dir = run.run_dir.ok_or_else(missing)?;
        let path = evidence::resolve(&app.config.runs_root, std::path::Path::new(&dir), &name)
            .ok_or_else(missing)?;
        let bytes = std::fs::read(&path).map_err(|_| missing())?;
        let kind = evidence::content_type(&name).unwrap_or("application/octet-stream");
        Ok(([(header::CONTENT_TYPE, kind)], bytes).into_response())
    })
    .await
}

#[derive(Debug, Serialize)]
struct DepartmentSaved {
    department: String,
    saved_hours: f64,
    runs: u64,
    items: u64,
}

#[derive(Debug, Serialize)]
struct PeriodSaved {
    label: String,
    slug: String,
    saved_hours: f64,
    departments: Vec<DepartmentSaved>,
}

#[derive(Debug, Serialize)]
struct Summary {
    month: PeriodSaved,
    fiscal_year: PeriodSaved,
}

fn period_saved(store: &dyn Store, period: Period) -> Result<PeriodSaved, ApiError> {
    let report = Report::build(store, period, None)?;
    Ok(PeriodSaved {
        label: report.period.label.clone(),
        slug: report.period.slug.clone(),
        saved_hours: report.total.saved_hours(),
        departments: report
            .by_department
            .iter()
            .map(|(d, t)| DepartmentSaved {
                department: d.clone(),
                saved_hours: t.saved_hours(),
                runs: t.runs,
                items: t.items_done,
            })
            .collect(),
    })
}

/// 削減時間 this month and this fiscal year, per 課.
async fn summary(State(app): State<Arc<App>>) -> ApiResult<Summary> {
    blocking(app, |app| {
        let store = open_ledger(app)?;
        let day = today();
        let month =
            Period::month(&day.format("%Y-%m").to_string()).map_err(ApiError::bad_request)?;
        let fy = crate::japanese::wareki::fiscal_year_of(day);
        let fiscal_year = Period::fiscal_year(&fy.to_string()).map_err(ApiError::bad_request)?;
        Ok(Summary {
            month: period_saved(&*store, month)?,
            fiscal_year: period_saved(&*store, fiscal_year)?,
        })
    })
    .await
    .map(Json)
}

#[derive(Debug, Deserialize)]
struct ReportQuery {
    month: Option<String>,
    fiscal_year: Option<String>,
}

/// The xlsx time-saved report (as `kuroko report`), for a month or a fiscal year.
async fn report(
    State(app): State<Arc<App>>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    blocking(app, move |app| {
        let period = match (&q.month, &q.fiscal_year) {
            (Some(m), _) => Period::month(m),
            (None, Some(fy)) => Period::fiscal_year(fy),
            (None, None) => Err("give month=YYYY-MM or fiscal_year=YYYY".into()),
        }
        .map_err(ApiError::bad_request)?;
        let store = open_ledger(app)?;
        let report = Report::build(&*store, period, None)?;
        let name = format!("kuroko-report-{}.xlsx", report.period.slug);
        std::fs::create_dir_all(&app.config.reports_dir).map_err(|e| ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: format!("{}: {e}", app.config.reports_dir.display()),
        })?;
        let path = app.config.reports_dir.join(&name);
        xlsx::write(&report, &*store, &path, xlsx::DEFAULT_MAX_RUNS)?;
        let bytes = std::fs::read(&path).map_err(|e| ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: format!("{}: {e}", path.display()),
        })?;
        Ok((
            [
                (
                    header::CONTENT_TYPE,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
            ],
            bytes,
        )
            .into_response())
    })
    .await
}

#[derive(Debug, Serialize)]
struct ScheduleRow {
    id: String,
    scenario_id: String,
    spec: String,
    next_run: Option<String>,
}

async fn schedules(State(app): State<Arc<App>>) -> ApiResult<Vec<ScheduleRow>> {
    blocking(app, |app| {
        let store = open_ledger(app)?;
        let cal = calendar(&*store)?;
        let now = app.config.now();
        Ok(store
            .schedules()?
            .into_iter()
            .map(|s| ScheduleRow {
                next_run: Schedule::parse(&s.spec)
                    .ok()
                    .and_then(|sch| sch.next_after(now, &cal))
                    .map(|t| t.format("%Y-%m-%d %H:%M").to_string()),
                id: s.id,
                scenario_id: s.scenario_id,
                spec: s.spec,
            })
            .collect())
    })
    .await
    .map(Json)
}

#[derive(Debug, Deserialize)]
struct NewSchedule {
    scenario_id: String,
    spec: String,
}

async fn add_schedule(
    State(app): State<Arc<App>>,
    Json(body): Json<NewSchedule>,
) -> ApiResult<ScheduleRow> {
    blocking(app, move |app| {
        let scenario = catalog::find(&app.config.scenarios_dir, &body.scenario_id)
            .ok_or_else(|| ApiError::not_found(format!("no scenario {:?}", body.scenario_id)))?;
        let mut store = open_ledger(app)?;
        let record = crate::schedule::add(&mut *store, &scenario, &body.spec)?;
        let cal = calendar(&*store)?;
        Ok(ScheduleRow {
            next_run: Schedule::parse(&record.spec)
                .ok()
                .and_then(|s| s.next_after(app.config.now(), &cal))
                .map(|t| t.format("%Y-%m-%d %H:%M").to_string()),
            id: record.id,
            scenario_id: record.scenario_id,
            spec: record.spec,
        })
    })
    .await
    .map(Json)
}

async fn remove_schedule(State(app): State<Arc<App>>, Path(id): Path<String>) -> ApiResult<Done> {
    blocking(app, move |app| {
        let mut store = open_ledger(app)?;
        if store.remove_schedule(&id)? {
            Ok(Done { ok: true })
        } else {
            Err(ApiError::not_found(format!("no schedule {id:?}")))
        }
    })
    .await
    .map(Json)
}

#[derive(Debug, Serialize, Deserialize)]
struct ClosedDay {
    day: String,
    #[serde(default)]
    reason: String,
}

fn valid_day(day: &str) -> Result<String, ApiError> {
    chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .map(|d| d.to_string())
        .map_err(|_| ApiError::bad_request(format!("{day:?}: a day is YYYY-MM-DD")))
}

/// The office's closure days besides weekends, holidays and 年末年始 (schedules skip them).
async fn closed_days(State(app): State<Arc<App>>) -> ApiResult<Vec<ClosedDay>> {
    blocking(app, |app| {
        let store = open_ledger(app)?;
        Ok(store
            .closed_days()?
            .into_iter()
            .map(|(day, reason)| ClosedDay { day, reason })
            .collect())
    })
    .await
    .map(Json)
}

async fn close_day(
    State(app): State<Arc<App>>,
    Json(body): Json<ClosedDay>,
) -> ApiResult<ClosedDay> {
    blocking(app, move |app| {
        let day = valid_day(&body.day)?;
        let reason = match body.reason.trim() {
            "" => "閉庁日".to_string(),
            r => r.to_string(),
        };
        open_ledger(app)?.set_closed_day(&day, Some(&reason))?;
        Ok(ClosedDay { day, reason })
    })
    .await
    .map(Json)
}

async fn open_day(State(app): State<Arc<App>>, Path(day): Path<String>) -> ApiResult<Done> {
    blocking(app, move |app| {
        let day = valid_day(&day)?;
        if open_ledger(app)?.set_closed_day(&day, None)? {
            Ok(Done { ok: true })
        } else {
            Err(ApiError::not_found(format!("{day} is not marked closed")))
        }
    })
    .await
    .map(Json)
}
