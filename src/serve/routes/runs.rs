//! Starting runs and following them: the scenarios, the queue, stop and cancel, and the
//! live status the page gets as server-sent events.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use serde::{Deserialize, Serialize};

use super::{ApiError, ApiResult, Done, blocking, open_ledger, today};
use crate::events::{Outcome, Trigger};
use crate::ledger;
use crate::serve::launcher::{RequestState, RequestView};
use crate::serve::progress::{Follower, Pace, Progress};
use crate::serve::{App, catalog, evidence, inputs};

pub(super) async fn scenarios(
    State(app): State<Arc<App>>,
) -> ApiResult<Vec<catalog::ScenarioCard>> {
    blocking(app, |app| {
        let store = open_ledger(app)?;
        let mut cards = catalog::cards(&app.config.scenarios_dir, &*store, today())?;
        // A broken scenario's problem names its file: by the scenarios folder's name.
        for card in &mut cards {
            card.problem = card.problem.take().map(|p| app.shown.text(&p));
        }
        Ok(cards)
    })
    .await
    .map(Json)
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct RunBody {
    #[serde(default)]
    vars: HashMap<String, String>,
}

#[derive(Debug, Serialize)]
pub(super) struct Queued {
    request_id: u64,
}

pub(super) async fn run(
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
        // A value becomes a command-line argument of the run: no NUL (no system passes one),
        // no other control characters, and a sane length.
        if let Some((name, _)) = vars.iter().find(|(_, v)| {
            v.chars().count() > MAX_VAR_CHARS
                || v.chars().any(|c| c.is_control() && c != '\t')
        }) {
            return Err(ApiError::bad_request(format!(
                "the value of {name:?} has control characters or is longer than {MAX_VAR_CHARS} characters"
            )));
        }
        let mut vars = vars;
        // A file the scenario asks for: one of those offered, passed as its path.
        for ask in &scenario.manifest.ask {
            let name = vars.get(&ask.var).ok_or_else(|| {
                ApiError::bad_request(format!("choose the file for {} ({})", ask.label, ask.var))
            })?;
            let path = inputs::chosen(&scenario, ask, name).map_err(ApiError::from)?;
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

/// The longest run variable value the launcher passes on.
const MAX_VAR_CHARS: usize = 4096;

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
    state: Phase,
    /// When finished.
    outcome: Option<RequestOutcome>,
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

/// Where a request is, as the page shows it.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Phase {
    Queued,
    Running,
    Finished,
    Cancelled,
}

/// How a finished request ended: the run's own outcome when it said one, otherwise what the
/// launcher saw of its process.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RequestOutcome {
    Succeeded,
    Failed,
    /// Stopped.
    Aborted,
    /// Killed before it could say how it ended.
    Interrupted,
    /// Did not start: the log says why.
    Error,
}

impl From<Outcome> for RequestOutcome {
    fn from(o: Outcome) -> Self {
        match o {
            Outcome::Succeeded => RequestOutcome::Succeeded,
            Outcome::Failed => RequestOutcome::Failed,
            Outcome::Aborted => RequestOutcome::Aborted,
        }
    }
}

/// What the server remembers of each request between looks.
pub(crate) struct Tracked {
    follower: Follower,
    scenario_id: String,
    scenario_name: String,
    pace: Pace,
}

fn statuses(app: &App) -> Vec<RequestStatus> {
    let views = app.launcher.requests();
    let mut tracked = app.followers.lock().unwrap_or_else(|e| e.into_inner());
    tracked.retain(|id, _| views.iter().any(|v| v.id == *id));
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
            status(t, v, &queued, &app.shown)
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
    }
}

fn status(
    t: &mut Tracked,
    v: &RequestView,
    queued: &[u64],
    shown: &crate::serve::Shown,
) -> RequestStatus {
    let (state, outcome, killed, killed_after_stop) = match &v.state {
        RequestState::Queued => (Phase::Queued, None, false, false),
        RequestState::Running { .. } => (Phase::Running, None, false, false),
        RequestState::Cancelled => (Phase::Cancelled, None, false, false),
        RequestState::Finished {
            exit_code,
            killed_after_timeout,
            killed_after_stop,
        } => (
            Phase::Finished,
            Some(*exit_code),
            *killed_after_timeout,
            *killed_after_stop,
        ),
    };
    if matches!(state, Phase::Running | Phase::Finished) {
        t.follower.update();
    }
    let running_ms = v.running_for().as_millis() as u64;
    let mut progress = t.follower.progress.clone();
    if state == Phase::Running && progress.run_id.is_none() {
        // Not started yet (e.g. waiting for another run to leave the desktop): what it printed.
        progress.step = tail(&v.runs_dir.with_extension("log"), 1);
    }
    let outcome = outcome.map(|code| match (progress.outcome, code) {
        (Some(o), _) => o.into(),
        (None, None) => RequestOutcome::Interrupted,
        (None, Some(_)) => RequestOutcome::Error,
    });
    let files = t
        .follower
        .run_dir()
        .map(evidence::files)
        .unwrap_or_default();
    let output_tail = matches!(
        outcome,
        Some(RequestOutcome::Error | RequestOutcome::Interrupted)
    )
    .then(|| tail(&v.runs_dir.with_extension("log"), 8))
    .flatten();
    // What the run printed names this PC's folders; the page gets them by name.
    let shown = |text: Option<String>| text.map(|t| shown.text(&t));
    progress.step = shown(progress.step.take());
    progress.message = shown(progress.message.take());
    progress.location = shown(progress.location.take());
    let output_tail = shown(output_tail);
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
        eta_ms: (state == Phase::Running)
            .then(|| t.pace.left_ms(&progress, running_ms))
            .flatten(),
        progress,
        running_ms,
        files,
        output_tail,
    }
}

fn tail(path: &std::path::Path, lines: usize) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let all: Vec<&str> = text.lines().collect();
    let shown = all[all.len().saturating_sub(lines)..].join("\n");
    (!shown.trim().is_empty()).then_some(shown)
}

pub(super) async fn requests(State(app): State<Arc<App>>) -> ApiResult<Vec<RequestStatus>> {
    blocking(app, |app| Ok(statuses(app))).await.map(Json)
}

pub(super) async fn request(
    State(app): State<Arc<App>>,
    Path(id): Path<u64>,
) -> ApiResult<RequestStatus> {
    blocking(app, move |app| {
        statuses(app)
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| ApiError::not_found(format!("no request {id}")))
    })
    .await
    .map(Json)
}

/// `{"ok": true}`, or 409 with `why` when the request was not in a state to be changed.
fn done_or_conflict(done: bool, why: impl FnOnce() -> String) -> ApiResult<Done> {
    if done {
        Ok(Json(Done { ok: true }))
    } else {
        Err(ApiError {
            status: StatusCode::CONFLICT,
            message: why(),
        })
    }
}

pub(super) async fn stop(State(app): State<Arc<App>>, Path(id): Path<u64>) -> ApiResult<Done> {
    done_or_conflict(app.launcher.stop(id), || {
        format!("request {id} is not running")
    })
}

pub(super) async fn cancel(State(app): State<Arc<App>>, Path(id): Path<u64>) -> ApiResult<Done> {
    done_or_conflict(app.launcher.cancel(id), || {
        format!("request {id} is not waiting")
    })
}

/// The requests, as server-sent events (`event: requests`, data: the JSON array), sent when
/// anything changed, at most every 250 ms and at least every second while a run goes on.
pub(super) async fn events(
    State(app): State<Arc<App>>,
) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
    let stream = futures_util::stream::unfold((app, String::new()), |(app, last)| async move {
        loop {
            // Nothing sent yet: at once; afterwards, a look every 250 ms.
            if !last.is_empty() {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            let snapshot = blocking(app.clone(), |app| Ok(statuses(app)))
                .await
                .ok()
                .and_then(|s| serde_json::to_string(&s).ok())
                .unwrap_or_else(|| "[]".into());
            if snapshot != last {
                let event = Event::default().event("requests").data(snapshot.clone());
                return Some((Ok(event), (app, snapshot)));
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(10)))
}
