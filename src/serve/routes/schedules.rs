//! Schedules and the office's closure days, edited from the page.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};

use super::{ApiError, ApiResult, Done, blocking, open_ledger};
use crate::schedule::{calendar, next_run_text};
use crate::serve::{App, catalog};

#[derive(Debug, Serialize)]
pub(super) struct ScheduleRow {
    id: String,
    scenario_id: String,
    spec: String,
    next_run: Option<String>,
}

impl ScheduleRow {
    fn new(
        s: crate::ledger::ScheduleRecord,
        now: chrono::NaiveDateTime,
        cal: &crate::japanese::holidays::OfficeCalendar,
    ) -> ScheduleRow {
        ScheduleRow {
            next_run: next_run_text(&s.spec, now, cal),
            id: s.id,
            scenario_id: s.scenario_id,
            spec: s.spec,
        }
    }
}

pub(super) async fn schedules(State(app): State<Arc<App>>) -> ApiResult<Vec<ScheduleRow>> {
    blocking(app, |app| {
        let store = open_ledger(app)?;
        let cal = calendar(&*store)?;
        let now = app.config.now();
        Ok(store
            .schedules()?
            .into_iter()
            .map(|s| ScheduleRow::new(s, now, &cal))
            .collect())
    })
    .await
    .map(Json)
}

#[derive(Debug, Deserialize)]
pub(super) struct NewSchedule {
    scenario_id: String,
    spec: String,
}

pub(super) async fn add_schedule(
    State(app): State<Arc<App>>,
    Json(body): Json<NewSchedule>,
) -> ApiResult<ScheduleRow> {
    blocking(app, move |app| {
        let scenario = catalog::find(&app.config.scenarios_dir, &body.scenario_id)
            .ok_or_else(|| ApiError::not_found(format!("no scenario {:?}", body.scenario_id)))?;
        let mut store = open_ledger(app)?;
        let record = crate::schedule::add(&mut *store, &scenario, &body.spec)?;
        let cal = calendar(&*store)?;
        Ok(ScheduleRow::new(record, app.config.now(), &cal))
    })
    .await
    .map(Json)
}

pub(super) async fn remove_schedule(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> ApiResult<Done> {
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
pub(super) struct ClosedDay {
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
pub(super) async fn closed_days(State(app): State<Arc<App>>) -> ApiResult<Vec<ClosedDay>> {
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

pub(super) async fn close_day(
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

pub(super) async fn open_day(
    State(app): State<Arc<App>>,
    Path(day): Path<String>,
) -> ApiResult<Done> {
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
