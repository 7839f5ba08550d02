//! Robot PCs and work queues, as the launcher shows them: each robot's name, what it runs, which
//! item and its last heartbeat; each queue's counts with the items that need a person (failed,
//! abandoned) and why; and sending a run to a chosen robot.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};

use super::{ApiError, ApiResult, Done, blocking, open_ledger};
use crate::ledger::{
    FailureKind, MachineRecord, QueueItem, QueueState, RunRequestRecord, now, process,
};
use crate::serve::App;

/// How many failed or abandoned items of one queue the page lists.
const ITEMS_SHOWN: u64 = 50;

pub(super) async fn machines(State(app): State<Arc<App>>) -> ApiResult<Vec<MachineRecord>> {
    blocking(app, |app| Ok(open_ledger(app)?.machines()?))
        .await
        .map(Json)
}

#[derive(Debug, Serialize)]
pub(super) struct NeedsPerson {
    key: String,
    state: QueueState,
    failure_kind: Option<FailureKind>,
    reason: Option<String>,
    /// The robot PC that last had it.
    machine: Option<String>,
    attempt: u64,
    updated_at: String,
}

impl NeedsPerson {
    fn new(item: QueueItem, app: &App) -> NeedsPerson {
        NeedsPerson {
            key: item.key,
            state: item.state,
            failure_kind: item.failure_kind,
            reason: item.reason.map(|r| app.shown.text(&r)),
            machine: item.owner,
            attempt: item.attempt,
            updated_at: item.updated_at,
        }
    }
}

#[derive(Debug, Default, Serialize)]
pub(super) struct QueueView {
    queue: String,
    new: u64,
    in_progress: u64,
    done: u64,
    failed: u64,
    abandoned: u64,
    /// Failed and abandoned items (at most 50 of each), for a person to look at.
    needs_person: Vec<NeedsPerson>,
}

pub(super) async fn queues(State(app): State<Arc<App>>) -> ApiResult<Vec<QueueView>> {
    blocking(app, |app| {
        let store = open_ledger(app)?;
        let mut views: Vec<QueueView> = Vec::new();
        for count in store.queue_counts()? {
            if views.last().is_none_or(|v| v.queue != count.queue) {
                views.push(QueueView {
                    queue: count.queue.clone(),
                    ..QueueView::default()
                });
            }
            let Some(view) = views.last_mut() else {
                continue;
            };
            match count.state {
                QueueState::New => view.new = count.items,
                QueueState::InProgress => view.in_progress = count.items,
                QueueState::Done => view.done = count.items,
                QueueState::Failed => view.failed = count.items,
                QueueState::Abandoned => view.abandoned = count.items,
            }
        }
        for view in &mut views {
            for state in [QueueState::Failed, QueueState::Abandoned] {
                let items = store.queue_items(&view.queue, Some(state), ITEMS_SHOWN)?;
                view.needs_person
                    .extend(items.into_iter().map(|i| NeedsPerson::new(i, app)));
            }
        }
        Ok(views)
    })
    .await
    .map(Json)
}

#[derive(Debug, Deserialize)]
pub(super) struct SendRun {
    scenario_id: String,
}

/// Sends a run to a robot PC: it waits in the ledger until that robot's agent takes it.
pub(super) async fn send_run(
    State(app): State<Arc<App>>,
    Path(machine): Path<String>,
    Json(body): Json<SendRun>,
) -> ApiResult<RunRequestRecord> {
    blocking(app, move |app| {
        let mut store = open_ledger(app)?;
        let by = format!("{}@{}", process::os_user(), process::machine_name());
        // Refused (the robot, its agent or the scenario): the clerk's choice, 400; the
        // database failing: 500.
        store
            .run_request_add(&machine, &body.scenario_id, &by, &now())?
            .map_err(ApiError::bad_request)
    })
    .await
    .map(Json)
}

pub(super) async fn run_requests(State(app): State<Arc<App>>) -> ApiResult<Vec<RunRequestRecord>> {
    blocking(app, |app| Ok(open_ledger(app)?.run_requests(50)?))
        .await
        .map(Json)
}

pub(super) async fn cancel_run_request(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> ApiResult<Done> {
    blocking(app, move |app| {
        if open_ledger(app)?.run_request_cancel(&id, &now())? {
            Ok(Done { ok: true })
        } else {
            Err(ApiError::bad_request(
                "that request is not waiting any more (the robot took it, or it was cancelled)",
            ))
        }
    })
    .await
    .map(Json)
}
