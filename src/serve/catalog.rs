//! What the launcher's page lists: the saved scenarios (only those in the scenarios folder can
//! be run from the page), each with its last run and the hours it saved this month, and what
//! the ledger says about past runs (history, the estimate of time left).

use std::path::Path;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::ledger::{Filter, LResult, Reports, RunRecord, RunState};
use crate::scenario::{self, Scenario};

#[derive(Debug, Clone, Serialize)]
pub struct ScenarioCard {
    pub id: String,
    pub name: String,
    pub department: String,
    pub task: String,
    pub description: String,
    pub mode: &'static str,
    /// Files the run asks for (a dialog before it starts).
    pub asks: Vec<crate::scenario::Ask>,
    pub last_run: Option<LastRun>,
    pub saved_hours_this_month: f64,
    /// Why the scenario cannot be run (a broken scenario.toml, say); it is shown, not offered.
    pub problem: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LastRun {
    pub started_at: String,
    pub state: RunState,
}

/// The scenarios folder's scenarios that load.
pub fn scenarios(dir: &Path) -> Vec<Scenario> {
    scenario::list(dir)
        .map(|list| list.into_iter().filter_map(|s| s.ok()).collect())
        .unwrap_or_default()
}

/// A scenario that does not load, as a card that says why (the ICT office fixes it with
/// `kuroko check`).
fn broken_card(e: &crate::scenario::ScenarioError) -> ScenarioCard {
    let folder = e
        .folder()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    ScenarioCard {
        id: folder.clone(),
        name: folder,
        department: String::new(),
        task: String::new(),
        description: String::new(),
        mode: "",
        asks: Vec::new(),
        last_run: None,
        saved_hours_this_month: 0.0,
        problem: Some(e.to_string()),
    }
}

pub fn find(dir: &Path, id: &str) -> Option<Scenario> {
    scenarios(dir).into_iter().find(|s| s.manifest.id == id)
}

pub fn cards(dir: &Path, store: &dyn Reports, today: NaiveDate) -> LResult<Vec<ScenarioCard>> {
    let month_start = today.with_day(1).unwrap_or(today).to_string();
    let list = scenario::list(dir).map_err(|e| crate::ledger::LedgerError(e.to_string()))?;
    list.into_iter()
        .map(|s| {
            let s = match s {
                Ok(s) => s,
                Err(e) => return Ok(broken_card(&e)),
            };
            let m = &s.manifest;
            let last = runs(store, &m.id, None, 1)?.into_iter().next();
            let mut saved = 0.0;
            store.for_each_run(
                &Filter {
                    scenario_id: Some(m.id.clone()),
                    from: Some(month_start.clone()),
                    ..Filter::default()
                },
                &mut |r| {
                    saved += r.time.saved_minutes;
                    Ok(())
                },
            )?;
            Ok(ScenarioCard {
                id: m.id.clone(),
                name: m.name.clone(),
                department: m.department.clone(),
                task: m.task.clone(),
                description: m.description.clone(),
                mode: m.mode.as_str(),
                asks: m.ask.clone(),
                last_run: last.map(|r| LastRun {
                    started_at: r.started_at,
                    state: r.state,
                }),
                saved_hours_this_month: saved / 60.0,
                problem: None,
            })
        })
        .collect()
}

/// The newest runs (of one scenario, or all), newest first.
pub fn runs(
    store: &dyn Reports,
    scenario_id: &str,
    run_id: Option<&str>,
    limit: u64,
) -> LResult<Vec<RunRecord>> {
    let mut out = Vec::new();
    store.for_each_run(
        &Filter {
            scenario_id: (!scenario_id.is_empty()).then(|| scenario_id.to_string()),
            run_id: run_id.map(String::from),
            newest_first: true,
            limit: Some(limit),
            ..Filter::default()
        },
        &mut |r| {
            out.push(r);
            Ok(())
        },
    )?;
    Ok(out)
}

/// How long this scenario's last successful runs took, in milliseconds, and their items.
pub fn past_runs(store: &dyn Reports, scenario_id: &str) -> LResult<Vec<(u64, u64)>> {
    Ok(runs(store, scenario_id, None, 20)?
        .into_iter()
        .filter(|r| r.state == RunState::Succeeded)
        .map(|r| ((r.robot_minutes * 60_000.0) as u64, r.items_done))
        .take(10)
        .collect())
}
