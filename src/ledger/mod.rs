//! The ledger: every run, with the items it finished and the baselines in force, so the
//! time-saved report is computed from what really happened. Storage sits behind four traits,
//! one per user: `RunLog` (a run recording itself), `Reports` (read-only queries), `Schedules`,
//! `Imports`, `Queues` and `Secrets` (ciphertexts and the PCs that can read them); `Store` is
//! all of them. The logic is written once in portable SQL (`sql/`) over
//! two databases: SQLite (`sqlite.rs`), the one-PC default, and PostgreSQL (`postgres.rs`),
//! which several robot PCs share. An `Address` says which.

pub mod import;
mod postgres;
pub mod process;
pub mod queue_file;
pub mod recorder;
mod sql;
mod sqlite;

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::events::Trigger;

pub use crate::timesaved::{Baselines, TimeSaved};
pub use recorder::Recorder;

/// A ledger error: what failed, and on which ledger.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct LedgerError(pub String);

pub type LResult<T> = Result<T, LedgerError>;

/// How a run ended, as the ledger keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Still going (or its process died and nobody has looked since).
    Running,
    Succeeded,
    Failed,
    Aborted,
    /// The process ended without finishing the run: killed, crashed, power lost.
    Interrupted,
}

impl RunState {
    pub const ALL: [RunState; 5] = [
        RunState::Running,
        RunState::Succeeded,
        RunState::Failed,
        RunState::Aborted,
        RunState::Interrupted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Succeeded => "succeeded",
            RunState::Failed => "failed",
            RunState::Aborted => "aborted",
            RunState::Interrupted => "interrupted",
        }
    }

    pub fn parse(text: &str) -> Option<RunState> {
        RunState::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// In Japanese, for reports.
    pub fn label_ja(self) -> &'static str {
        match self {
            RunState::Running => "実行中",
            RunState::Succeeded => "成功",
            RunState::Failed => "失敗",
            RunState::Aborted => "中止",
            RunState::Interrupted => "中断",
        }
    }
}

impl From<crate::events::Outcome> for RunState {
    fn from(o: crate::events::Outcome) -> Self {
        use crate::events::Outcome;
        match o {
            Outcome::Succeeded => RunState::Succeeded,
            Outcome::Failed => RunState::Failed,
            Outcome::Aborted => RunState::Aborted,
        }
    }
}

/// Where a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A run of kuroko.
    Run,
    /// A row of `kuroko ledger import` (history from before kuroko; may stand for many runs).
    Import,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Run => "run",
            Kind::Import => "import",
        }
    }
}

/// Who runs what, written when a run starts.
#[derive(Debug, Clone)]
pub struct RunStart {
    pub run_id: String,
    pub scenario_id: String,
    pub scenario_name: String,
    /// SHA-256 of the manifest and the script, so a report can tell versions apart.
    pub script_hash: String,
    pub department: String,
    pub task: String,
    pub machine: String,
    pub os_user: String,
    pub process: process::Identity,
    /// Local time, RFC 3339 (`2024-04-01T09:00:00.000+09:00`).
    pub started_at: String,
    pub baselines: Baselines,
    pub run_dir: String,
    /// What started it.
    pub trigger: Trigger,
}

/// How a run ended, written when it ends.
#[derive(Debug, Clone)]
pub struct RunEnd {
    pub state: RunState,
    pub ended_at: String,
    pub robot_minutes: f64,
    pub items_done: u64,
    pub items_failed: u64,
    pub time: TimeSaved,
    pub message: Option<String>,
    pub location: Option<String>,
}

/// What happened to an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemState {
    /// About to do what cannot be undone (e.g. press 登録); not counted.
    Started,
    Done,
    Failed(String),
}

impl ItemState {
    pub fn as_str(&self) -> &'static str {
        match self {
            ItemState::Started => "started",
            ItemState::Done => "done",
            ItemState::Failed(_) => "failed",
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            ItemState::Failed(r) => Some(r),
            _ => None,
        }
    }
}

/// One item's step in a run.
#[derive(Debug, Clone)]
pub struct ItemRecord {
    pub key: String,
    pub state: ItemState,
    pub at: String,
}

/// A run as the ledger has it.
#[derive(Debug, Clone, Serialize)]
pub struct RunRecord {
    pub run_id: String,
    pub kind: Kind,
    pub scenario_id: String,
    pub scenario_name: String,
    pub script_hash: String,
    pub department: String,
    pub task: String,
    pub machine: String,
    pub os_user: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub state: RunState,
    /// 1 for a run; for an imported row, the runs it stands for.
    pub runs: u64,
    pub items_done: u64,
    pub items_failed: u64,
    pub robot_minutes: f64,
    pub baselines: Baselines,
    pub time: TimeSaved,
    pub message: Option<String>,
    pub location: Option<String>,
    pub run_dir: Option<String>,
    /// What started it (imports: manual).
    pub trigger: Trigger,
}

/// A failed item, for the report's failure sheet.
#[derive(Debug, Clone)]
pub struct FailedItem {
    pub run_id: String,
    pub department: String,
    pub task: String,
    pub key: String,
    pub reason: String,
    pub at: String,
}

/// Which records to look at. Dates are `YYYY-MM-DD` in local time; `to` is exclusive.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub from: Option<String>,
    pub to: Option<String>,
    pub department: Option<String>,
    pub scenario_id: Option<String>,
    /// One run.
    pub run_id: Option<String>,
    /// Only runs that failed, were stopped or were interrupted.
    pub problems_only: bool,
    pub newest_first: bool,
    pub limit: Option<u64>,
}

/// Sums over runs: counts by outcome, items, and the time-saved minutes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    pub runs: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub aborted: u64,
    pub interrupted: u64,
    pub items_done: u64,
    pub items_failed: u64,
    pub before_minutes: f64,
    pub after_minutes: f64,
    pub saved_minutes: f64,
    pub robot_minutes: f64,
}

impl Totals {
    pub fn add(&mut self, t: &Totals) {
        self.runs += t.runs;
        self.succeeded += t.succeeded;
        self.failed += t.failed;
        self.aborted += t.aborted;
        self.interrupted += t.interrupted;
        self.items_done += t.items_done;
        self.items_failed += t.items_failed;
        self.before_minutes += t.before_minutes;
        self.after_minutes += t.after_minutes;
        self.saved_minutes += t.saved_minutes;
        self.robot_minutes += t.robot_minutes;
    }

    pub fn before_hours(&self) -> f64 {
        self.before_minutes / 60.0
    }
    pub fn after_hours(&self) -> f64 {
        self.after_minutes / 60.0
    }
    pub fn saved_hours(&self) -> f64 {
        self.saved_minutes / 60.0
    }
    pub fn robot_hours(&self) -> f64 {
        self.robot_minutes / 60.0
    }

    /// 削減率: saved / before, as a fraction (`None` when nothing was done by hand before).
    pub fn saved_rate(&self) -> Option<f64> {
        (self.before_minutes > 0.0).then(|| self.saved_minutes / self.before_minutes)
    }

    /// Runs that did not finish their work: failed, stopped or interrupted.
    pub fn unsuccessful(&self) -> u64 {
        self.failed + self.aborted + self.interrupted
    }
}

/// Sums for one (month, department, task): what the report is built from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupTotals {
    /// `YYYY-MM`.
    pub month: String,
    pub department: String,
    pub task: String,
    pub sums: Totals,
}

/// Sums for one (machine, department): who did the work, for the report's PC別 sheet.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MachineTotals {
    pub machine: String,
    pub department: String,
    pub sums: Totals,
}

/// A scenario that runs by itself (see `crate::schedule` for `spec`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScheduleRecord {
    pub id: String,
    pub scenario_id: String,
    /// The scenario folder, absolute.
    pub scenario_path: String,
    /// e.g. "daily 09:00", "monthly office-day 3 08:30 skip-missed".
    pub spec: String,
    pub created_at: String,
    /// When the launcher last looked (missed runs are counted from here).
    pub last_checked: String,
}

/// One validated row of an import file.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    pub line: usize,
    pub date: String,
    pub department: String,
    pub task: String,
    pub runs: u64,
    pub items: u64,
    pub before_minutes: f64,
    pub after_minutes: f64,
    pub robot_minutes: f64,
}

/// A whole import file: all its rows go in, or none.
#[derive(Debug, Clone)]
pub struct ImportBatch {
    /// SHA-256 of the file, so the same file is not imported twice.
    pub file_hash: String,
    pub file_name: String,
    pub rows: Vec<ImportRow>,
}

/// A work item's state in a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueState {
    /// Waiting for a robot.
    New,
    /// Claimed by a run, which holds a lease on it.
    InProgress,
    Done,
    /// Failed: the data is wrong (business) or the system misbehaved (application).
    Failed,
    /// Left unfinished (its run died or its lease ran out): a person must look before it is
    /// tried again, because work on a screen cannot be safely repeated. Never retried by itself.
    Abandoned,
}

impl QueueState {
    pub const ALL: [QueueState; 5] = [
        QueueState::New,
        QueueState::InProgress,
        QueueState::Done,
        QueueState::Failed,
        QueueState::Abandoned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            QueueState::New => "new",
            QueueState::InProgress => "in_progress",
            QueueState::Done => "done",
            QueueState::Failed => "failed",
            QueueState::Abandoned => "abandoned",
        }
    }

    pub fn parse(text: &str) -> Option<QueueState> {
        QueueState::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// In Japanese, for the launcher.
    pub fn label_ja(self) -> &'static str {
        match self {
            QueueState::New => "未処理",
            QueueState::InProgress => "処理中",
            QueueState::Done => "完了",
            QueueState::Failed => "失敗",
            QueueState::Abandoned => "要確認",
        }
    }
}

/// Why a work item failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The data is wrong (e.g. 住所不明): a person fixes the data.
    Business,
    /// The system misbehaved (timeout, error screen): it may work on a retry.
    Application,
}

impl FailureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Business => "business",
            FailureKind::Application => "application",
        }
    }

    pub fn parse(text: &str) -> Option<FailureKind> {
        [FailureKind::Business, FailureKind::Application]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

/// One row to add to a queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueRow {
    pub key: String,
    /// The row as a JSON object (column → value).
    pub data: String,
}

/// A work item as the queue has it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueItem {
    pub queue: String,
    pub key: String,
    /// The row as a JSON object (column → value).
    pub data: String,
    pub state: QueueState,
    pub failure_kind: Option<FailureKind>,
    pub reason: Option<String>,
    /// The machine of the run that holds or last held it.
    pub owner: Option<String>,
    pub run_id: Option<String>,
    /// How many times it was claimed.
    pub attempt: u64,
    /// Seconds left on the lease (negative: ran out), while in progress.
    pub lease_left_s: Option<f64>,
    pub added_at: String,
    pub updated_at: String,
}

/// One claim of an item, kept for good: who had it and how it ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueAttempt {
    pub key: String,
    pub attempt: u64,
    pub machine: String,
    pub run_id: String,
    pub claimed_at: String,
    pub ended_at: Option<String>,
    /// done, failed, abandoned; `None` while in progress.
    pub outcome: Option<String>,
}

/// How many items of a queue are in a state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueCount {
    pub queue: String,
    pub state: QueueState,
    pub items: u64,
}

/// Who claims: a run on a machine.
#[derive(Debug, Clone, PartialEq)]
pub struct Claimant {
    pub run_id: String,
    pub machine: String,
}

/// How a claimed item ended.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemEnd {
    Done,
    Failed { kind: FailureKind, reason: String },
}

/// A scenario a robot PC can run, as its agent registered it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct MachineScenario {
    pub id: String,
    pub name: String,
    /// The queue it takes items from, if it declares one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
}

/// A robot PC's agent saying it is there (`kuroko agent` at its start).
#[derive(Debug, Clone, PartialEq)]
pub struct MachineStart {
    pub name: String,
    pub os_user: String,
    pub os: String,
    pub version: String,
    pub scenarios: Vec<MachineScenario>,
    pub at: String,
}

/// What a robot PC runs now: its running run, and the queue item that run holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MachineRun {
    pub run_id: String,
    pub scenario_name: String,
    pub started_at: String,
    pub queue: Option<String>,
    pub item_key: Option<String>,
}

/// A robot PC as the ledger knows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MachineRecord {
    pub name: String,
    pub os_user: String,
    pub os: String,
    pub version: String,
    pub scenarios: Vec<MachineScenario>,
    pub started_at: String,
    /// Its agent's last heartbeat (local time of the agent).
    pub last_seen: String,
    /// Seconds since that heartbeat, by the database's clock.
    pub seen_s_ago: f64,
    /// `waiting` (its agent is there, nothing running), `running`, `stopped` (its agent ended
    /// cleanly) or `silent` (no heartbeat within the limit: the PC or its agent died).
    pub status: String,
    pub run: Option<MachineRun>,
}

/// A run a person asked a chosen robot PC to do (from the launcher, or `kuroko agent`'s own
/// tools).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRequestRecord {
    pub id: String,
    pub machine: String,
    pub scenario_id: String,
    pub requested_by: String,
    pub requested_at: String,
    /// `waiting`, `taken` (the robot started it), `done`, `failed`, `cancelled`.
    pub state: String,
    pub taken_at: Option<String>,
    pub ended_at: Option<String>,
    pub message: Option<String>,
}

/// A PC registered to read secrets: its name and the public half of its key (`age1…`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recipient {
    pub machine: String,
    pub public_key: String,
    pub added_at: String,
}

/// What registering a PC's key did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registered {
    /// The PC is new.
    Added,
    /// The PC was registered with this key already.
    Unchanged,
    /// The PC was registered with another key (its key file was lost or made anew): secrets set
    /// before cannot be read by it until they are set again.
    KeyChanged,
}

/// A secret as the ledger keeps it: one age ciphertext of the value, readable by the PCs it was
/// encrypted to, and never the value itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRecord {
    pub name: String,
    /// The age ciphertext, base64.
    pub ciphertext: String,
    /// Who set it: `user@machine`.
    pub set_by: String,
    pub set_at: String,
    /// The PCs (and their keys at the time) it was encrypted to.
    pub recipients: Vec<Recipient>,
}

/// Where a store keeps its records, for messages.
pub trait Location {
    fn location(&self) -> String;
}

/// What a run needs: writing itself down as it goes (the `Recorder` is its one user), and what
/// earlier runs of its scenario did, so nothing is entered twice.
pub trait RunLog: Location {
    /// Writes a run as `running` before it starts.
    fn begin_run(&mut self, run: &RunStart) -> LResult<()>;
    /// Records one item step of a running run, durably, as it happens.
    fn record_item(&mut self, run_id: &str, item: &ItemRecord) -> LResult<()>;
    fn finish_run(&mut self, run_id: &str, end: &RunEnd) -> LResult<()>;
    /// Marks `running` runs of this machine whose process is gone as `interrupted`, with the
    /// items they had finished. Returns their ids.
    fn recover_interrupted(
        &mut self,
        machine: &str,
        alive: &dyn Fn(&process::Identity) -> bool,
    ) -> LResult<Vec<String>>;
    /// Says the run is alive for `lease_s` more seconds (by the database's clock), and extends
    /// the leases of the queue items it holds as long.
    fn heartbeat(&mut self, run_id: &str, lease_s: f64) -> LResult<()>;
    /// Marks `running` runs of any machine that were not heartbeat within their time as
    /// `interrupted` (their queue items abandoned). Returns their ids.
    fn recover_stale(&mut self) -> LResult<Vec<String>>;
    /// Keys of the items this scenario has done in any earlier run.
    fn done_keys(&self, scenario_id: &str) -> LResult<HashSet<String>>;
    /// Keys this scenario started in an earlier run but never finished (done or failed).
    fn unfinished_keys(&self, scenario_id: &str) -> LResult<HashSet<String>>;
}

/// What the report, `kuroko ledger list|export` and the launcher's history read. Read-only.
pub trait Reports: Location {
    /// Sums of the finished runs (and imported rows) per month, department and task. Only
    /// `from`, `to` and `department` of the filter apply.
    fn group_totals(&self, filter: &Filter) -> LResult<Vec<GroupTotals>>;
    /// Sums per machine and department of the runs that ended (from the per-day sums; history
    /// imported from before kuroko under （取込）), by machine then department.
    fn machine_totals(&self, filter: &Filter) -> LResult<Vec<MachineTotals>>;
    fn for_each_run(
        &self,
        filter: &Filter,
        each: &mut dyn FnMut(RunRecord) -> LResult<()>,
    ) -> LResult<()>;
    /// Items that failed, with their reasons (oldest first, or newest first and at most
    /// `limit` when the filter says so).
    fn failed_items(&self, filter: &Filter) -> LResult<Vec<FailedItem>>;
}

/// Schedules and the office's closure days, for the launcher's scheduler and `kuroko schedule`.
pub trait Schedules: Location {
    fn add_schedule(&mut self, schedule: &ScheduleRecord) -> LResult<()>;
    fn schedules(&self) -> LResult<Vec<ScheduleRecord>>;
    /// Whether there was such a schedule.
    fn remove_schedule(&mut self, id: &str) -> LResult<bool>;
    /// Remembers when the launcher last looked at a schedule (missed runs count from there).
    fn set_schedule_checked(&mut self, id: &str, at: &str) -> LResult<()>;
    /// Office closure days (`YYYY-MM-DD`, reason) besides 年末年始.
    fn closed_days(&self) -> LResult<Vec<(String, String)>>;
    /// Adds (or renames) a closure day; `None` as the reason removes it. Whether it changed.
    fn set_closed_day(&mut self, day: &str, reason: Option<&str>) -> LResult<bool>;
}

/// Work queues: rows added by `kuroko queue add`, claimed one at a time by runs on any robot PC
/// (never the same item twice at once), ended once by the run that holds it.
pub trait Queues: Location {
    /// Adds rows to a queue: all of them, or none (a key already in the queue refuses the whole
    /// file, and the error names the keys and their states). How many were added.
    fn queue_add(&mut self, queue: &str, rows: &[QueueRow], at: &str) -> LResult<usize>;
    /// Items per queue and state (states with none are left out).
    fn queue_counts(&self) -> LResult<Vec<QueueCount>>;
    /// A queue's items in the order they were added, of one state or all, at most `limit`.
    fn queue_items(
        &self,
        queue: &str,
        state: Option<QueueState>,
        limit: u64,
    ) -> LResult<Vec<QueueItem>>;
    /// Every claim of a queue's items, by key and attempt.
    fn queue_attempts(&self, queue: &str) -> LResult<Vec<QueueAttempt>>;
    /// Claims the oldest new item of the queue for a run, with a lease of `lease_s` seconds
    /// (by the database's clock); `None` when no item waits. Items whose lease ran out are
    /// marked abandoned first.
    fn queue_claim(
        &mut self,
        queue: &str,
        who: &Claimant,
        lease_s: f64,
        at: &str,
    ) -> LResult<Option<QueueItem>>;
    /// Ends an item this run holds, and records it as the run's item done or failed, in one
    /// transaction. `false` (and nothing written) when the run no longer holds that attempt.
    fn queue_end(
        &mut self,
        item: &QueueItem,
        who: &Claimant,
        end: &ItemEnd,
        at: &str,
    ) -> LResult<bool>;
    /// Puts failed or abandoned items back as new (a person decided to try again). Per key:
    /// `Ok` or why not.
    fn queue_retry(
        &mut self,
        queue: &str,
        keys: &[String],
        at: &str,
    ) -> LResult<Vec<(String, Result<(), String>)>>;
    /// Takes new, failed or in-progress items out of the work (abandoned, with the reason).
    fn queue_abandon(
        &mut self,
        queue: &str,
        keys: &[String],
        reason: &str,
        at: &str,
    ) -> LResult<Vec<(String, Result<(), String>)>>;
    /// Items in progress whose lease ran out become abandoned. How many.
    fn expire_leases(&mut self, at: &str) -> LResult<u64>;
}

/// Robot PCs on a ledger: their agents register and heartbeat, and people send them runs.
pub trait Fleet: Location {
    /// Registers (or re-registers) a robot PC as waiting, alive for `limit_s` seconds. Run
    /// requests it had taken and never ended (its agent died) end as failed.
    fn machine_register(&mut self, machine: &MachineStart, at: &str, limit_s: f64) -> LResult<()>;
    /// Says the robot PC's agent is still there, for `limit_s` more seconds (database clock).
    fn machine_heartbeat(&mut self, name: &str, at: &str, limit_s: f64) -> LResult<()>;
    /// Its agent ended cleanly; run requests still waiting for it stay waiting, and one it
    /// had taken and could not end is failed.
    fn machine_stopped(&mut self, name: &str, at: &str) -> LResult<()>;
    /// Every robot PC, by name, with what it runs now.
    fn machines(&self) -> LResult<Vec<MachineRecord>>;
    /// Asks a robot PC to run one of the scenarios it registered. `Ok(Err(why))` when it is
    /// refused: the robot is unknown, its agent is not running, or it lacks that scenario.
    fn run_request_add(
        &mut self,
        machine: &str,
        scenario_id: &str,
        requested_by: &str,
        at: &str,
    ) -> LResult<Result<RunRequestRecord, String>>;
    /// The oldest waiting request for this robot PC, now taken by it.
    fn run_request_take(&mut self, machine: &str, at: &str) -> LResult<Option<RunRequestRecord>>;
    /// Ends a taken request: `done` or `failed`, with a message.
    fn run_request_end(&mut self, id: &str, state: &str, message: &str, at: &str) -> LResult<()>;
    /// Cancels a request that is still waiting. Whether it was.
    fn run_request_cancel(&mut self, id: &str, at: &str) -> LResult<bool>;
    /// The latest requests, newest first.
    fn run_requests(&self, limit: u64) -> LResult<Vec<RunRequestRecord>>;
}

/// Secrets (`kuroko secret`, `secret::get`): the PCs registered to read them, and each secret's
/// ciphertext. Values never reach the store, only ciphertexts encrypted to the recipients.
pub trait Secrets: Location {
    /// Registers a PC's public key (or replaces the key it had).
    fn add_recipient(&mut self, machine: &str, public_key: &str, at: &str) -> LResult<Registered>;
    /// The registered PCs, by name.
    fn recipients(&self) -> LResult<Vec<Recipient>>;
    /// Takes a PC off the list (it reads no secret set from now on). Whether it was there.
    fn remove_recipient(&mut self, machine: &str) -> LResult<bool>;
    /// Sets (or replaces) a secret.
    fn set_secret(&mut self, secret: &SecretRecord) -> LResult<()>;
    fn secret(&self, name: &str) -> LResult<Option<SecretRecord>>;
    /// Every secret, by name.
    fn secrets(&self) -> LResult<Vec<SecretRecord>>;
    /// Whether there was such a secret.
    fn remove_secret(&mut self, name: &str) -> LResult<bool>;
}

/// History from before kuroko (`kuroko ledger import`).
pub trait Imports: Location {
    /// Adds a whole file of history, or nothing (also nothing when it was imported before).
    fn import(&mut self, batch: &ImportBatch) -> LResult<usize>;
}

/// A whole ledger: every user's part. `open` gives one; each user takes only its own trait
/// (`&dyn Reports`, `&mut dyn Schedules`, ...), so another store (PostgreSQL for several robot
/// PCs) is one more type implementing these four.
pub trait Store: RunLog + Reports + Schedules + Imports + Queues + Fleet + Secrets {}

impl<T: RunLog + Reports + Schedules + Imports + Queues + Fleet + Secrets> Store for T {}

/// Where a ledger is: a SQLite file on this PC, or a PostgreSQL database several PCs share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    File(PathBuf),
    /// `postgres://user@host:port/database` (or `postgresql://`).
    Postgres(String),
}

impl Address {
    /// `--ledger` or `$KUROKO_LEDGER` as given: a `postgres://` or `postgresql://` address,
    /// else a file.
    pub fn parse(given: impl Into<OsString>) -> Address {
        let given: OsString = given.into();
        match given.to_str() {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Address::Postgres(url.to_string())
            }
            _ => Address::File(PathBuf::from(given)),
        }
    }

    /// The default ledger: `$KUROKO_LEDGER`, else `$XDG_DATA_HOME/kuroko/ledger.sqlite3`, else
    /// `~/.local/share/kuroko/ledger.sqlite3`.
    pub fn default_for_user() -> Address {
        match std::env::var_os("KUROKO_LEDGER").filter(|p| !p.is_empty()) {
            Some(given) => Address::parse(given),
            None => Address::File(crate::files::data_dir().join("ledger.sqlite3")),
        }
    }

    /// The file, for a SQLite ledger.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Address::File(path) => Some(path),
            Address::Postgres(_) => None,
        }
    }

    /// Whether several PCs share it.
    pub fn is_shared(&self) -> bool {
        matches!(self, Address::Postgres(_))
    }

    /// As given, password included: for handing to a child process (through its environment,
    /// never its command line).
    pub fn as_os_str(&self) -> &std::ffi::OsStr {
        match self {
            Address::File(path) => path.as_os_str(),
            Address::Postgres(url) => url.as_ref(),
        }
    }
}

/// For messages: the file, or the database without its password.
impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Address::File(path) => write!(f, "{}", path.display()),
            Address::Postgres(url) => f.write_str(&postgres::redact(url)),
        }
    }
}

/// Opens (creating if needed) the ledger, then marks this machine's runs whose process died as
/// `interrupted`.
pub fn open(address: &Address) -> LResult<Box<dyn Store>> {
    let mut store: Box<dyn Store> = match address {
        Address::File(path) => Box::new(sqlite::Sqlite::open(path)?),
        Address::Postgres(url) => Box::new(postgres::Postgres::open(url)?),
    };
    store.recover_interrupted(&process::machine_name(), alive_rule(address))?;
    store.recover_stale()?;
    store.expire_leases(&now())?;
    Ok(store)
}

/// How a `running` record is judged alive by its process. On a shared ledger another PC may
/// carry the same name: its runs are judged by their heartbeat, never by whether a process
/// with their pid runs here.
pub fn alive_rule(address: &Address) -> &'static dyn Fn(&process::Identity) -> bool {
    if address.is_shared() {
        &process::is_alive_or_elsewhere
    } else {
        &process::is_alive
    }
}

/// How long a run, or a queue item it holds, may go without a heartbeat before any kuroko that
/// opens the ledger takes it for dead (the run `interrupted`, the item `abandoned`):
/// `$KUROKO_HEARTBEAT_LIMIT_S` seconds, default 60. A run heartbeats every quarter of it.
pub fn liveness_limit() -> std::time::Duration {
    let seconds = std::env::var("KUROKO_HEARTBEAT_LIMIT_S")
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && (1.0..=86_400.0).contains(s))
        .unwrap_or(60.0);
    std::time::Duration::from_secs_f64(seconds)
}

/// Opens the ledger only if it exists (for a dry run, which records nothing, and for reading:
/// a mistyped file name should not make an empty ledger). A database always exists.
pub fn open_existing(address: &Address) -> LResult<Option<Box<dyn Store>>> {
    match address {
        Address::File(path) if !path.exists() => Ok(None),
        _ => open(address).map(Some),
    }
}

/// The local time now, as the ledger stores it.
pub fn now() -> String {
    chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
}

/// Minutes between two stored times (0 when either does not parse).
pub fn minutes_between(start: &str, end: &str) -> f64 {
    match (
        chrono::DateTime::parse_from_rfc3339(start),
        chrono::DateTime::parse_from_rfc3339(end),
    ) {
        (Ok(a), Ok(b)) => ((b - a).num_milliseconds().max(0) as f64) / 60_000.0,
        _ => 0.0,
    }
}

/// Hex SHA-256.
pub fn sha256_hex(parts: &[&[u8]]) -> String {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    for p in parts {
        hasher.update((p.len() as u64).to_le_bytes());
        hasher.update(p);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
