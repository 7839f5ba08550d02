//! kuroko — an RPA runner for municipal offices: runs Rhai scenarios that drive the desktop
//! and counts the hours they give back.
//!
//! The layers, each importing only those below it (a test fails on a cycle):
//! - `cli` → `agent` (a robot PC's loop over its queues) → `serve` (the launcher and its queue)
//!   → `schedule`, `run`, `report`;
//! - a run: `run` → `engine` (sandboxed Rhai, its own function reference) → `script` (the
//!   script API) → `desktop` (keyboard, mouse, screen, window traits and their backends),
//!   `browser` (Chromium/Edge through the DevTools protocol), `vision`, `sheets`;
//! - the record: `run` → `ledger` (the Store traits) → `report`;
//! - at the bottom, shared by all: `scenario`, `events` (what a run emits), `files`, `sandbox`,
//!   `timesaved`, `japanese`, `abort`, `exit`, `vault` (keys and ciphertexts for secrets),
//!   `redact` (hides secret values in everything written) and small helpers.
//!
//! Only what the binary, the integration tests and the benches use is public.

mod abort;
pub mod agent;
mod autostart;
mod browser;
pub mod cli;
pub mod desktop;
pub mod docs;
mod engine;
mod error;
pub mod events;
mod exit;
mod files;
mod geometry;
pub mod japanese;
#[cfg(windows)]
mod job;
pub mod ledger;
mod memory;
mod props;
pub mod record;
mod redact;
pub mod report;
pub mod run;
mod sandbox;
pub mod scenario;
mod schedule;
mod script;
pub mod serve;
mod sheets;
mod suggest;
mod text_table;
mod timesaved;
mod vault;
pub mod vision;
