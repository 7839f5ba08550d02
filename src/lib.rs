//! kuroko — an RPA runner for municipal offices: runs Rhai scenarios that drive the desktop
//! and counts the hours they give back.
//!
//! The shape: `scenario` (what to run) → `engine` (sandboxed Rhai) → `api` (script functions)
//! → `desktop` (keyboard, mouse, screen, window traits and their backends). A run only emits
//! `run::events`; whoever listens (terminal, run folder, later the ledger) records them.

pub mod abort;
pub mod api;
pub mod cli;
pub mod desktop;
pub mod docs;
pub mod engine;
pub mod error;
pub mod exit;
pub mod geometry;
pub mod japanese;
pub mod launcher;
pub mod ledger;
pub mod report;
pub mod run;
pub mod scenario;
pub mod schedule;
pub mod serve;
pub mod sheets;
pub mod suggest;
pub mod text_table;
pub mod timesaved;
pub mod vision;
