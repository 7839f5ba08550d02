//! What the ledger says: history with evidence, hours saved per 課, the xlsx report.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::{ApiError, ApiResult, blocking, open_ledger, today};
use crate::ledger::{Reports, RunRecord};
use crate::report::{Period, Report, text, xlsx};
use crate::serve::{App, catalog, evidence};

#[derive(Debug, Deserialize)]
pub(super) struct HistoryQuery {
    scenario: Option<String>,
    limit: Option<u64>,
}

#[derive(Debug, Serialize)]
pub(super) struct HistoryRow {
    #[serde(flatten)]
    run: RunRecord,
    files: Vec<String>,
    /// The run kept a web trace (`/api/runs/{id}/trace/trace.json`).
    trace: bool,
}

pub(super) async fn history(
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
                let mut run = run;
                let inside = run
                    .run_dir
                    .as_deref()
                    .map(std::path::Path::new)
                    .filter(|d| evidence::within(&app.config.runs_root, d));
                let files = inside.map(evidence::files).unwrap_or_default();
                let trace = inside.is_some_and(evidence::has_trace);
                // A run folder outside the launcher's (a command-line run's) is not shown.
                run.run_dir = inside.map(|d| app.shown.text(&d.display().to_string()));
                run.message = run.message.map(|m| app.shown.text(&m));
                run.location = run.location.map(|l| app.shown.text(&l));
                HistoryRow { run, files, trace }
            })
            .collect())
    })
    .await
    .map(Json)
}

pub(super) async fn run_file(
    State(app): State<Arc<App>>,
    Path((run_id, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    evidence_file(app, run_id, name, false).await
}

/// A file of the run's web trace: `trace.json` or one of its pictures.
pub(super) async fn trace_file(
    State(app): State<Arc<App>>,
    Path((run_id, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    evidence_file(app, run_id, name, true).await
}

async fn evidence_file(
    app: Arc<App>,
    run_id: String,
    name: String,
    trace: bool,
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
        let dir = std::path::Path::new(&dir);
        let path = if trace {
            evidence::resolve_trace(&app.config.runs_root, dir, &name)
        } else {
            evidence::resolve(&app.config.runs_root, dir, &name)
        }
        .ok_or_else(missing)?;
        let bytes = std::fs::read(&path).map_err(|_| missing())?;
        let kind = evidence::content_type(&name).unwrap_or("application/octet-stream");
        Ok(([(header::CONTENT_TYPE, kind)], bytes).into_response())
    })
    .await
}

#[derive(Debug, Serialize)]
pub(super) struct DepartmentSaved {
    department: String,
    saved_hours: f64,
    runs: u64,
    items: u64,
}

/// A period's hours saved: the headline first (the figures, and the Japanese line exactly as
/// `kuroko report --format table` prints it), then per 課.
#[derive(Debug, Serialize)]
pub(super) struct PeriodSaved {
    label: String,
    slug: String,
    headline: String,
    before_hours: f64,
    after_hours: f64,
    saved_hours: f64,
    /// Saved ÷ before; `None` when nothing was done by hand before.
    saved_rate: Option<f64>,
    runs: u64,
    items: u64,
    departments: Vec<DepartmentSaved>,
}

#[derive(Debug, Serialize)]
pub(super) struct Summary {
    month: PeriodSaved,
    fiscal_year: PeriodSaved,
}

fn period_saved(store: &dyn Reports, period: Period) -> Result<PeriodSaved, ApiError> {
    let report = Report::build(store, period, None)?;
    let t = &report.total;
    Ok(PeriodSaved {
        label: report.period.label.clone(),
        slug: report.period.slug.clone(),
        headline: text::headline(t),
        before_hours: t.before_hours(),
        after_hours: t.after_hours(),
        saved_hours: t.saved_hours(),
        saved_rate: t.saved_rate(),
        runs: t.runs,
        items: t.items_done,
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
pub(super) async fn summary(State(app): State<Arc<App>>) -> ApiResult<Summary> {
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
pub(super) struct ReportQuery {
    month: Option<String>,
    fiscal_year: Option<String>,
}

/// The xlsx time-saved report (as `kuroko report`), for a month or a fiscal year.
pub(super) async fn report(
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
        // Built in memory for this request alone: downloads at once never share a file.
        let bytes = xlsx::to_bytes(&report, &*store, xlsx::DEFAULT_MAX_RUNS)?;
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
