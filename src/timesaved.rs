//! The time-saved model, as a pure function, so the run summary, the ledger and the report
//! compute it the same way: before = items × manual; after = items × human per item + human
//! per run (+ the robot's runtime when the run is attended, because the clerk's PC is busy).

use serde::{Deserialize, Serialize};

/// The baselines in force for one run (stored with the run, so later manifest edits do not
/// rewrite history).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Baselines {
    pub manual_minutes_per_item: f64,
    pub human_minutes_per_item: f64,
    pub human_minutes_per_run: f64,
    pub attended: bool,
}

/// Minutes before and after automation for one run, and the difference.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TimeSaved {
    pub before_minutes: f64,
    pub after_minutes: f64,
    pub saved_minutes: f64,
}

/// Only items actually done count; a run that did nothing still costs its per-run human time.
pub fn for_run(b: &Baselines, items_done: u64, robot_minutes: f64) -> TimeSaved {
    let items = items_done as f64;
    let before = items * b.manual_minutes_per_item;
    let mut after = items * b.human_minutes_per_item + b.human_minutes_per_run;
    if b.attended {
        after += robot_minutes;
    }
    TimeSaved {
        before_minutes: before,
        after_minutes: after,
        saved_minutes: before - after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: Baselines = Baselines {
        manual_minutes_per_item: 5.0,
        human_minutes_per_item: 0.5,
        human_minutes_per_run: 3.0,
        attended: false,
    };

    #[test]
    fn unattended_runs_do_not_count_robot_time() {
        let t = for_run(&B, 10, 7.0);
        assert_eq!(
            (t.before_minutes, t.after_minutes, t.saved_minutes),
            (50.0, 8.0, 42.0)
        );
    }

    #[test]
    fn attended_runs_count_robot_time_against_the_saving() {
        let t = for_run(
            &Baselines {
                attended: true,
                ..B
            },
            10,
            7.0,
        );
        assert_eq!((t.after_minutes, t.saved_minutes), (15.0, 35.0));
    }

    #[test]
    fn nothing_done_saves_nothing_and_costs_the_run_overhead() {
        let t = for_run(&B, 0, 1.0);
        assert_eq!((t.before_minutes, t.saved_minutes), (0.0, -3.0));
    }
}
