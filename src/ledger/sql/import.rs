//! History from before kuroko: a whole file or nothing, never the same file twice.

use super::runs::add_to_daily;
use super::{Db, RUN_COLUMNS, SqlStore, params};
use crate::ledger::*;

impl<D: Db> Imports for SqlStore<D> {
    fn import(&mut self, batch: &ImportBatch) -> LResult<usize> {
        let earlier = self.read("cannot check earlier imports", |tx| {
            tx.query_opt(
                "SELECT file_name, imported_at FROM imports WHERE file_hash = ?1",
                params![&batch.file_hash],
            )
        })?;
        if let Some(row) = earlier {
            return Err(LedgerError(format!(
                "{}: this file was already imported (as {}, at {}); nothing imported",
                batch.file_name,
                row.text(0).unwrap_or_default(),
                row.text(1).unwrap_or_default()
            )));
        }
        let machine = process::machine_name();
        let user = process::os_user();
        let now = now();
        let prefix = &batch.file_hash[..16.min(batch.file_hash.len())];
        self.write("cannot import", |tx| {
            let insert = format!(
                "INSERT INTO runs ({RUN_COLUMNS}, pid, process_started) VALUES \
                 (?1, 'import', '', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, 'succeeded', ?9, ?10, 0, \
                  ?11, ?12, 0, 0, 0, ?13, ?14, ?15, NULL, NULL, NULL, 0, '')"
            );
            for row in &batch.rows {
                let manual = if row.items > 0 {
                    row.before_minutes / row.items as f64
                } else {
                    0.0
                };
                tx.execute(
                    &insert,
                    params![
                        format!("import-{prefix}-{}", row.line),
                        &row.task,
                        &batch.file_hash,
                        &row.department,
                        &row.task,
                        &machine,
                        &user,
                        format!("{}T00:00:00", row.date),
                        row.runs,
                        row.items,
                        row.robot_minutes,
                        manual,
                        row.before_minutes,
                        row.after_minutes,
                        row.before_minutes - row.after_minutes,
                    ],
                )?;
                add_to_daily(
                    tx,
                    &row.date,
                    &row.department,
                    &row.task,
                    super::IMPORTED,
                    &Totals {
                        runs: row.runs,
                        succeeded: row.runs,
                        items_done: row.items,
                        before_minutes: row.before_minutes,
                        after_minutes: row.after_minutes,
                        saved_minutes: row.before_minutes - row.after_minutes,
                        robot_minutes: row.robot_minutes,
                        ..Totals::default()
                    },
                )?;
            }
            tx.execute(
                "INSERT INTO imports (file_hash, file_name, imported_at, rows_imported) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    &batch.file_hash,
                    &batch.file_name,
                    &now,
                    batch.rows.len() as u64
                ],
            )?;
            Ok(batch.rows.len())
        })
    }
}
