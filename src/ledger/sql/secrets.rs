//! Secrets: the PCs registered to read them (`secret_recipients`) and each secret's ciphertext
//! with the PCs it was encrypted to (`secrets`, the list as JSON). Values never come here.

use super::{Db, Row, SqlResult, SqlStore, params};
use crate::ledger::*;

fn recipients_json(list: &[Recipient]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}

fn recipients_from(text: &str) -> Vec<Recipient> {
    #[derive(serde::Deserialize)]
    struct Stored {
        machine: String,
        public_key: String,
        added_at: String,
    }
    serde_json::from_str::<Vec<Stored>>(text)
        .unwrap_or_default()
        .into_iter()
        .map(|r| Recipient {
            machine: r.machine,
            public_key: r.public_key,
            added_at: r.added_at,
        })
        .collect()
}

fn secret_row(r: &Row) -> SqlResult<SecretRecord> {
    Ok(SecretRecord {
        name: r.text(0)?,
        ciphertext: r.text(1)?,
        set_by: r.text(2)?,
        set_at: r.text(3)?,
        recipients: recipients_from(&r.text(4)?),
    })
}

const SECRET_COLUMNS: &str = "name, ciphertext, set_by, set_at, recipients";

impl<D: Db> Secrets for SqlStore<D> {
    fn add_recipient(&mut self, machine: &str, public_key: &str, at: &str) -> LResult<Registered> {
        self.write("cannot register the PC's key for secrets", |tx| {
            let had = tx
                .query_opt(
                    "SELECT public_key FROM secret_recipients WHERE machine = ?1",
                    params![machine],
                )?
                .map(|r| r.text(0))
                .transpose()?;
            match had {
                Some(key) if key == public_key => Ok(Registered::Unchanged),
                Some(_) => {
                    tx.execute(
                        "UPDATE secret_recipients SET public_key = ?2, added_at = ?3 \
                         WHERE machine = ?1",
                        params![machine, public_key, at],
                    )?;
                    Ok(Registered::KeyChanged)
                }
                None => {
                    // Two agents of one name starting at once: the second finds the first's row.
                    tx.execute(
                        "INSERT INTO secret_recipients (machine, public_key, added_at) \
                         VALUES (?1, ?2, ?3) ON CONFLICT (machine) DO UPDATE \
                         SET public_key = excluded.public_key, added_at = excluded.added_at",
                        params![machine, public_key, at],
                    )?;
                    Ok(Registered::Added)
                }
            }
        })
    }

    fn recipients(&self) -> LResult<Vec<Recipient>> {
        self.rows(
            "cannot read the PCs registered for secrets",
            "SELECT machine, public_key, added_at FROM secret_recipients ORDER BY machine",
            &[],
            |r| {
                Ok(Recipient {
                    machine: r.text(0)?,
                    public_key: r.text(1)?,
                    added_at: r.text(2)?,
                })
            },
        )
    }

    fn remove_recipient(&mut self, machine: &str) -> LResult<bool> {
        self.write("cannot remove the PC from secrets", |tx| {
            tx.execute(
                "DELETE FROM secret_recipients WHERE machine = ?1",
                params![machine],
            )
            .map(|n| n > 0)
        })
    }

    fn set_secret(&mut self, s: &SecretRecord) -> LResult<()> {
        let recipients = recipients_json(&s.recipients);
        self.write("cannot set the secret", |tx| {
            tx.execute(
                &format!(
                    "INSERT INTO secrets ({SECRET_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5) \
                     ON CONFLICT (name) DO UPDATE SET ciphertext = excluded.ciphertext, \
                     set_by = excluded.set_by, set_at = excluded.set_at, \
                     recipients = excluded.recipients"
                ),
                params![&s.name, &s.ciphertext, &s.set_by, &s.set_at, recipients],
            )
            .map(|_| ())
        })
    }

    fn secret(&self, name: &str) -> LResult<Option<SecretRecord>> {
        self.read("cannot read the secret", |tx| {
            tx.query_opt(
                &format!("SELECT {SECRET_COLUMNS} FROM secrets WHERE name = ?1"),
                params![name],
            )?
            .as_ref()
            .map(secret_row)
            .transpose()
        })
    }

    fn secrets(&self) -> LResult<Vec<SecretRecord>> {
        self.rows(
            "cannot read the secrets",
            &format!("SELECT {SECRET_COLUMNS} FROM secrets ORDER BY name"),
            &[],
            secret_row,
        )
    }

    fn remove_secret(&mut self, name: &str) -> LResult<bool> {
        self.write("cannot remove the secret", |tx| {
            tx.execute("DELETE FROM secrets WHERE name = ?1", params![name])
                .map(|n| n > 0)
        })
    }
}
