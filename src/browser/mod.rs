//! The browser backend: Chromium, Chrome or Edge driven through the DevTools protocol (a
//! pipe to a browser kuroko starts, or a debugging port the clerk opened), pages and frames
//! found by locators that read like the page, and every step waiting until its element is
//! really ready. No Rhai here: `script::web` is the script API over it.

pub mod cdp;
pub mod launch;
pub mod locator;
mod page;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::abort::AbortSignal;
use cdp::{CdpError, Connection};
pub use locator::Locator;
pub use page::{Act, Page, State};

/// Why a web step failed.
#[derive(Debug, Clone)]
pub struct WebError {
    pub message: String,
    /// The run is being stopped: not a failure of the step.
    pub aborted: bool,
    /// The page is worth keeping as evidence (a missing element, a timeout).
    pub evidence: bool,
}

impl WebError {
    pub fn new(message: impl Into<String>) -> WebError {
        WebError {
            message: message.into(),
            aborted: false,
            evidence: false,
        }
    }

    pub fn with_evidence(message: impl Into<String>) -> WebError {
        WebError {
            evidence: true,
            ..WebError::new(message)
        }
    }

    fn aborted() -> WebError {
        WebError {
            aborted: true,
            ..WebError::new("aborted")
        }
    }

    fn from_cdp(e: CdpError, doing: &str) -> WebError {
        match e {
            CdpError::Aborted => WebError::aborted(),
            CdpError::Closed(m) => WebError::new(format!("{doing}: the browser is gone ({m})")),
            CdpError::Timeout => {
                WebError::with_evidence(format!("{doing}: the browser did not answer in time"))
            }
            CdpError::Protocol(m) => WebError::new(format!("{doing}: {m}")),
        }
    }
}

pub type WResult<T> = Result<T, WebError>;

/// How a script asked for its browser.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    pub launch: launch::LaunchOptions,
    /// Where downloads land before they are moved to the script's output folder.
    pub downloads: PathBuf,
    pub timeout: Duration,
}

/// One browser: started by kuroko (closed when the run ends) or attached to (left open).
pub struct Browser {
    conn: Connection,
    process: Mutex<Option<launch::Process>>,
    abort: AbortSignal,
    downloads: PathBuf,
    downloads_on: AtomicBool,
    /// Whether kuroko started it (and so closes it).
    pub launched: bool,
}

impl Browser {
    /// Starts a browser and opens `url` in its first tab; returns the page and how long the
    /// first page took to load (from the start of the browser).
    pub fn open(
        url: &str,
        options: &OpenOptions,
        abort: &AbortSignal,
    ) -> WResult<(Arc<Browser>, Page, Duration)> {
        let started = Instant::now();
        let (conn, process) = launch::launch(&options.launch).map_err(WebError::new)?;
        let browser = Arc::new(Browser {
            conn,
            process: Mutex::new(Some(process)),
            abort: abort.clone(),
            downloads: options.downloads.clone(),
            downloads_on: AtomicBool::new(false),
            launched: true,
        });
        let page = match browser.first_page(options.timeout) {
            Ok(p) => p,
            Err(mut e) => {
                let tail = browser.log_tail();
                browser.close();
                e.message.push_str(&tail);
                return Err(e);
            }
        };
        // Downloads go to the run's folder from the start, never the clerk's own Downloads.
        browser.enable_downloads(options.timeout)?;
        page.goto(url, options.timeout)?;
        Ok((browser, page, started.elapsed()))
    }

    /// Attaches to a browser the clerk started with `--remote-debugging-port=<port>`, and to
    /// its first tab.
    pub fn attach(
        port: u16,
        timeout: Duration,
        downloads: PathBuf,
        abort: &AbortSignal,
    ) -> WResult<(Arc<Browser>, Page)> {
        let url = cdp::websocket_url(port).map_err(WebError::new)?;
        let conn = Connection::over_websocket(&url).map_err(WebError::new)?;
        let browser = Arc::new(Browser {
            conn,
            process: Mutex::new(None),
            abort: abort.clone(),
            downloads,
            downloads_on: AtomicBool::new(false),
            launched: false,
        });
        let page = browser.first_page(timeout)?;
        Ok((browser, page))
    }

    fn call(
        &self,
        method: &str,
        params: serde_json::Value,
        timeout: Duration,
    ) -> WResult<serde_json::Value> {
        self.conn
            .call(None, method, params, Instant::now() + timeout, &self.abort)
            .map_err(|e| WebError::from_cdp(e, method))
    }

    /// Discovers targets and attaches to the first tab.
    fn first_page(self: &Arc<Self>, timeout: Duration) -> WResult<Page> {
        self.call(
            "Target.setDiscoverTargets",
            json!({ "discover": true }),
            timeout,
        )?;
        let deadline = Instant::now() + timeout;
        loop {
            let tab = self
                .conn
                .state()
                .targets
                .iter()
                .find(|t| t.kind == "page")
                .map(|t| t.id.clone());
            if let Some(id) = tab {
                let mut page = Page::attach(self.clone(), &id, timeout)?;
                page.set_first();
                return Ok(page);
            }
            if Instant::now() >= deadline {
                return Err(WebError::new("the browser opened no tab"));
            }
            self.abort
                .sleep(Duration::from_millis(10))
                .map_err(|_| WebError::aborted())?;
        }
    }

    /// Downloads are saved (under their browser id) in the download folder, with events.
    fn enable_downloads(&self, timeout: Duration) -> WResult<()> {
        if self.downloads_on.load(Ordering::SeqCst) {
            return Ok(());
        }
        std::fs::create_dir_all(&self.downloads).map_err(|e| {
            WebError::new(format!("cannot create {}: {e}", self.downloads.display()))
        })?;
        let dir = crate::sandbox::canonical(&self.downloads)
            .map_err(|e| WebError::new(format!("{}: {e}", self.downloads.display())))?;
        self.call(
            "Browser.setDownloadBehavior",
            json!({ "behavior": "allowAndName", "downloadPath": dir, "eventsEnabled": true }),
            timeout,
        )?;
        self.downloads_on.store(true, Ordering::SeqCst);
        Ok(())
    }

    pub fn is_closed(&self) -> bool {
        self.conn.is_closed()
    }

    /// The browser's last messages (when it failed to start or crashed).
    fn log_tail(&self) -> String {
        self.process
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|p| p.log_tail())
            .unwrap_or_default()
    }

    /// Ends the browser kuroko started (politely, then by force) or lets go of an attached
    /// one. Safe to call more than once.
    pub fn close(&self) {
        let process = self
            .process
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(mut process) = process {
            if !self.conn.is_closed() {
                // Not the run's abort signal: closing must work while the run is being stopped.
                let _ = self.conn.call(
                    None,
                    "Browser.close",
                    json!({}),
                    Instant::now() + Duration::from_secs(2),
                    &AbortSignal::new(),
                );
            }
            process.end(Duration::from_secs(3));
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.close();
    }
}
