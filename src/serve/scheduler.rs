//! Fires the ledger's schedules through the launcher's queue, so a scheduled run waits its turn
//! like a clerk's and one failed or hung run cannot block the next (the queue kills a run past
//! its timeout). Which schedules fire is `schedule::tick`; this is only the loop that asks.

use std::sync::Arc;

use crate::events::Trigger;
use crate::ledger;
use crate::schedule::tick::tick;

/// Looks at the schedules now and then, for as long as the server runs.
pub(crate) fn spawn(app: Arc<super::App>) {
    std::thread::spawn(move || {
        loop {
            let now = app.config.now();
            let fired =
                ledger::open(&app.config.ledger).and_then(|mut store| tick(&mut *store, now));
            match fired {
                Ok(fired) => {
                    for f in fired {
                        let made_up = if f.missed > 0 {
                            format!(
                                " (made up: {} missed while the launcher was down)",
                                f.missed
                            )
                        } else {
                            String::new()
                        };
                        eprintln!(
                            "kuroko serve: schedule {} due {}{made_up}: queued",
                            f.schedule_id,
                            f.due.format("%Y-%m-%d %H:%M")
                        );
                        app.launcher
                            .submit(&f.scenario_path, Vec::new(), Trigger::Scheduled);
                    }
                }
                Err(e) => eprintln!("kuroko serve: schedules not looked at: {e}"),
            }
            std::thread::sleep(app.config.schedule_every);
        }
    });
}
