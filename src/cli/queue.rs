//! `kuroko queue`: work queues on the ledger — add a file's rows, see the queues and their
//! items, and put failed or abandoned items back (a person decides; nothing is retried by
//! itself).

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};

use crate::error::{Error, Result};
use crate::exit;
use crate::ledger::{self, QueueState, queue_file};
use crate::text_table::{Align, table};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    ledger: super::LedgerArg,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Add one work item per row of an xlsx or CSV file (UTF-8 or Shift_JIS), keyed by a
    /// column. All rows or none: a bad or repeated key, or a key already in the queue, refuses
    /// the file.
    Add {
        /// The queue's name, as scenarios declare it (`[queue] name = "…"`).
        queue: String,
        file: PathBuf,
        /// The column whose value names each item (e.g. 受付番号), unique in the queue.
        #[arg(long, value_name = "COLUMN")]
        key: String,
    },
    /// Every queue, with how many items are in each state.
    List,
    /// A queue's items, in the order they were added.
    Show {
        queue: String,
        /// Only items in this state.
        #[arg(long, value_enum)]
        state: Option<StateArg>,
        /// How many items to show.
        #[arg(long, default_value_t = 50)]
        limit: u64,
        /// Every claim of every item (who took it, when, how it ended) as CSV, instead.
        #[arg(long)]
        attempts: bool,
    },
    /// Put failed or abandoned items back as new, to be worked again.
    Retry {
        queue: String,
        #[arg(required = true)]
        keys: Vec<String>,
    },
    /// Take items out of the work (new, failed or in progress), as abandoned.
    Abandon {
        queue: String,
        #[arg(required = true)]
        keys: Vec<String>,
        /// Why, for whoever looks at the queue later.
        #[arg(long, default_value = "taken out of the work by hand")]
        reason: String,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum StateArg {
    New,
    InProgress,
    Done,
    Failed,
    Abandoned,
}

impl From<StateArg> for QueueState {
    fn from(s: StateArg) -> QueueState {
        match s {
            StateArg::New => QueueState::New,
            StateArg::InProgress => QueueState::InProgress,
            StateArg::Done => QueueState::Done,
            StateArg::Failed => QueueState::Failed,
            StateArg::Abandoned => QueueState::Abandoned,
        }
    }
}

fn check_name(queue: &str) -> Result<()> {
    let name = queue.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(Error::usage(format!(
            "queue name {queue:?}: 1 to 100 characters, no control characters"
        )));
    }
    Ok(())
}

pub fn execute(args: Args) -> Result<i32> {
    let address = args.ledger.address();
    match args.command {
        Command::Add { queue, file, key } => {
            check_name(&queue)?;
            let rows = queue_file::read_rows(&file, &key).map_err(|problems| Error::Refused {
                message: format!("{}\nnothing was added", problems.join("\n")),
            })?;
            let mut store = ledger::open(&address)?;
            let added = store
                .queue_add(queue.trim(), &rows, &ledger::now())
                .map_err(|e| Error::Refused { message: e.0 })?;
            println!(
                "added {added} item(s) to queue {:?} from {} (in {address})",
                queue.trim(),
                file.display()
            );
            Ok(exit::SUCCEEDED)
        }
        Command::List => {
            let store = ledger::open(&address)?;
            let counts = store.queue_counts()?;
            if counts.is_empty() {
                eprintln!("no queues in {address}: kuroko queue add <queue> <file> --key <column>");
                return Ok(exit::SUCCEEDED);
            }
            let mut names: Vec<&str> = counts.iter().map(|c| c.queue.as_str()).collect();
            names.dedup();
            let header: Vec<String> = std::iter::once("queue".to_string())
                .chain(QueueState::ALL.iter().map(|s| s.as_str().to_string()))
                .collect();
            let rows: Vec<Vec<String>> = names
                .iter()
                .map(|name| {
                    std::iter::once(name.to_string())
                        .chain(QueueState::ALL.iter().map(|state| {
                            counts
                                .iter()
                                .find(|c| c.queue == *name && c.state == *state)
                                .map_or(0, |c| c.items)
                                .to_string()
                        }))
                        .collect()
                })
                .collect();
            let mut align = vec![Align::Left];
            align.extend([Align::Right; 5]);
            print!("{}", table(&header, &rows, &align));
            Ok(exit::SUCCEEDED)
        }
        Command::Show {
            queue,
            state,
            limit,
            attempts,
        } => {
            let store = ledger::open(&address)?;
            if attempts {
                let mut out = csv::Writer::from_writer(std::io::stdout());
                let io = |e: csv::Error| Error::Refused {
                    message: format!("cannot write the attempts: {e}"),
                };
                out.write_record([
                    "key",
                    "attempt",
                    "machine",
                    "run_id",
                    "claimed_at",
                    "ended_at",
                    "outcome",
                ])
                .map_err(io)?;
                for a in store.queue_attempts(queue.trim())? {
                    out.write_record([
                        a.key,
                        a.attempt.to_string(),
                        a.machine,
                        a.run_id,
                        a.claimed_at,
                        a.ended_at.unwrap_or_default(),
                        a.outcome.unwrap_or_default(),
                    ])
                    .map_err(io)?;
                }
                out.flush().map_err(|e| Error::Refused {
                    message: format!("cannot write the attempts: {e}"),
                })?;
                return Ok(exit::SUCCEEDED);
            }
            let items = store.queue_items(queue.trim(), state.map(Into::into), limit)?;
            if items.is_empty() {
                eprintln!(
                    "no items in queue {:?}{}",
                    queue.trim(),
                    match state {
                        Some(s) => format!(" that are {}", QueueState::from(s).as_str()),
                        None => String::new(),
                    }
                );
                return Ok(exit::SUCCEEDED);
            }
            let header: Vec<String> = ["key", "state", "attempt", "machine", "updated", "reason"]
                .map(String::from)
                .to_vec();
            let rows: Vec<Vec<String>> = items
                .into_iter()
                .map(|i| {
                    let reason = match (i.failure_kind, i.reason) {
                        (Some(kind), Some(r)) => format!("{}: {r}", kind.as_str()),
                        (None, Some(r)) => r,
                        _ => match i.lease_left_s {
                            Some(left) => format!("lease {left:.0} s left"),
                            None => String::new(),
                        },
                    };
                    vec![
                        i.key,
                        i.state.as_str().to_string(),
                        i.attempt.to_string(),
                        i.owner.unwrap_or_default(),
                        i.updated_at
                            .get(..19)
                            .unwrap_or(&i.updated_at)
                            .replace('T', " "),
                        reason,
                    ]
                })
                .collect();
            let align = [
                Align::Left,
                Align::Left,
                Align::Right,
                Align::Left,
                Align::Left,
                Align::Left,
            ];
            print!("{}", table(&header, &rows, &align));
            Ok(exit::SUCCEEDED)
        }
        Command::Retry { queue, keys } => {
            let mut store = ledger::open(&address)?;
            let results = store.queue_retry(queue.trim(), &keys, &ledger::now())?;
            report(
                &results,
                "put back as new",
                "only failed or abandoned items are retried",
            )
        }
        Command::Abandon {
            queue,
            keys,
            reason,
        } => {
            let mut store = ledger::open(&address)?;
            let results = store.queue_abandon(queue.trim(), &keys, &reason, &ledger::now())?;
            report(
                &results,
                "abandoned",
                "done and abandoned items stay as they are",
            )
        }
    }
}

/// Prints what happened to each key; exit 1 when any could not be changed.
fn report(
    results: &[(String, std::result::Result<(), String>)],
    did: &str,
    rule: &str,
) -> Result<i32> {
    let mut refused = Vec::new();
    for (key, result) in results {
        match result {
            Ok(()) => println!("{key}: {did}"),
            Err(why) => refused.push(format!("{key}: {why}")),
        }
    }
    if refused.is_empty() {
        Ok(exit::SUCCEEDED)
    } else {
        Err(Error::Refused {
            message: format!("{} ({rule}); the others were changed", refused.join("\n")),
        })
    }
}
