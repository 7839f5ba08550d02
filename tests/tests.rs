//! kuroko's integration tests: one binary that drives the real `kuroko` executable, against
//! the fake desktop for speed and against real windows on a private Xvfb for truth.

mod support;

mod bad_input;
mod check_list_docs;
mod data_only;
mod demo;
mod dry_run;
mod fleet;
mod launcher;
mod layers;
mod ledger;
mod ledger_outage;
mod locate;
mod queues;
mod report_print;
mod sandbox;
mod schedule;
mod secrets;
mod serve;
mod serve_browser;
mod sheets;
mod stores;
mod untrusted_files;
mod vision;
mod web;
mod web_intake;
mod x11_abort;
mod x11_images;
mod x11_ime;
mod x11_input;
mod x11_japanese;
mod x11_record;
mod x11_ui;
mod x11_window_manager;
