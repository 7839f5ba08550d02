// The launcher page: lists scenarios, starts runs, follows them through server-sent events,
// stops them, and shows history, schedules and hours saved. Plain JavaScript, no framework,
// nothing loaded from the internet.
"use strict";

const $ = (id) => document.getElementById(id);

// Every word the page shows, in Japanese and English (the toggle in the header).
const TEXT = {
  ja: {
    "subtitle": "黒子 ランチャー", "now": "実行状況",
    "nothing-running": "実行中のシナリオはありません。下の一覧から「実行」を押してください。",
    "done": "処理済み", "failed": "失敗", "items": "件", "elapsed": "経過時間", "time-left": "残り時間（目安）",
    "step": "現在の処理:", "last-item": "直近の件:", "stop": "停止", "queue": "待ち行列", "scenarios": "シナリオ", "filter": "課で絞り込み:",
    "all-departments": "すべての課", "saved": "削減時間", "report": "報告書（xlsx）:", "this-month": "今月",
    "this-fy": "今年度", "history": "実行履歴", "th-started": "開始", "th-scenario": "シナリオ", "th-outcome": "結果",
    "th-items": "件数", "th-saved": "削減時間", "th-trigger": "起動", "th-evidence": "証跡", "schedules": "スケジュール",
    "schedules-hint": "土日・祝日・年末年始（12/29〜1/3）・閉庁日には実行しません。", "th-when": "実行日時",
    "th-next": "次回", "add": "追加", "examples": "例:", "skip-missed": "停止中に過ぎた回を飛ばすには末尾に",
    "closed": "閉庁日", "closed-hint": "土日・祝日・年末年始のほかに庁舎が閉まる日（スケジュールは実行しません）。",
    "day": "日付", "reason": "理由", "run": "実行", "cancel": "キャンセル", "close": "閉じる",
    "language": "English", "broken": "読み込めないため実行できません（情報政策担当が kuroko check で確認できます）:",
    "outcome.succeeded": "成功", "outcome.failed": "失敗", "outcome.aborted": "停止しました", "outcome.interrupted": "中断",
    "outcome.error": "開始できませんでした", "outcome.running": "実行中", "outcome.queued": "待機中", "outcome.cancelled": "取消",
    "trigger.launcher": "ランチャー", "trigger.scheduled": "スケジュール", "trigger.manual": "手動", "trigger.agent": "ロボットPC",
    "mode.attended": "有人（この PC）", "mode.unattended": "無人（ロボット PC）",
    "last-run": "前回:", "never-run": "前回: まだ実行していません", "saved-this-month": "今月の削減:",
    "no-scenarios": "シナリオがありません。", "hours": "{n} 時間", "minutes": "{n} 分",
    "eta-none": "—（過去の実行がありません）", "eta-soon": "まもなく", "eta": "約 {t}",
    "saved-run": "削減時間 {n} 分", "killed-timeout": "制限時間を過ぎたため終了させました",
    "killed-stop": "停止に応答しなかったため強制終了しました", "log": "ログ", "screen": "画面",
    "screen-alt": "失敗時の画面", "screen-zoom": "失敗時の画面を拡大", "cancel-request": "取消",
    "trace": "Web の記録", "trace-title": "最後の Web 操作 {n} 件", "page-html": "ページ（HTML）",
    "th-no": "番号", "th-action": "操作", "th-locator": "対象", "th-ms": "時間", "th-result": "結果", "th-picture": "画面",
    "ms": "{n} ms", "step-ok": "成功",
    "failed-items": "{done}（失敗 {failed}）", "no-department": "（課なし）", "no-records": "まだ記録がありません。",
    "totals": "今月 {month} ・ 今年度 {fy} 削減", "chart-month": "今月（{label}）", "chart-fy": "今年度（{label}）",
    "remove": "削除", "remove-schedule": "スケジュール {id} を削除しますか？", "none": "ありません",
    "could-not-run": "実行できませんでした: {e}", "could-not-stop": "停止できませんでした: {e}",
    "no-files": "（ファイルがありません。アップロードしてください）", "folder-files": "{folder} フォルダのファイル: ",
    "upload": "またはアップロード（{mb} MB まで）: ", "upload-label": "{label}をアップロード",
    "too-large": "{name} は {mb} MB を超えています。", "could-not-upload": "アップロードできませんでした: {e}",
    "choose-file": "ファイルを選んでください。", "error": "エラー: {e}",
    "disconnected": "ランチャーとの接続が切れました。再接続しています…",
    "robots": "ロボットPC", "th-robot": "PC", "th-status": "状態", "th-running": "実行中のシナリオ", "th-item": "処理中の件",
    "th-seen": "最終応答", "send": "このPCで実行", "requests": "依頼した実行", "th-requested": "依頼日時",
    "robot.waiting": "待機中", "robot.running": "実行中", "robot.stopped": "停止", "robot.silent": "応答なし",
    "seconds-ago": "{n} 秒前", "request.waiting": "受付待ち", "request.taken": "実行中", "request.done": "完了",
    "request.failed": "失敗", "request.cancelled": "取消", "sent": "{robot} に {scenario} を依頼しました。",
    "work-queues": "作業キュー", "th-queue": "キュー", "q.new": "未処理", "q.in_progress": "処理中", "q.done": "完了",
    "q.failed": "失敗", "q.abandoned": "要確認", "needs-person": "確認が必要な件（失敗・要確認）", "th-key": "キー",
    "th-updated": "日時", "kind.business": "業務エラー", "kind.application": "システムエラー",
  },
  en: {
    "subtitle": "stagehand launcher", "now": "Now running",
    "nothing-running": "Nothing is running. Press “Run” on a scenario below.",
    "done": "Done", "failed": "Failed", "items": "items", "elapsed": "Elapsed", "time-left": "Time left (estimate)",
    "step": "Current step:", "last-item": "Last item:", "stop": "Stop", "queue": "Waiting", "scenarios": "Scenarios", "filter": "Department:",
    "all-departments": "All departments", "saved": "Hours saved", "report": "Report (xlsx):", "this-month": "This month",
    "this-fy": "This fiscal year", "history": "History", "th-started": "Started", "th-scenario": "Scenario",
    "th-outcome": "Outcome", "th-items": "Items", "th-saved": "Saved", "th-trigger": "Started by",
    "th-evidence": "Evidence", "schedules": "Schedules",
    "schedules-hint": "Never on Saturdays, Sundays, national holidays, 12/29–1/3 or office closure days.",
    "th-when": "When", "th-next": "Next run", "add": "Add", "examples": "e.g.",
    "skip-missed": "To skip runs missed while the launcher was down, end with",
    "closed": "Office closure days", "closed-hint": "Days the office is closed besides weekends, holidays and the new year (no scheduled runs).",
    "day": "Day", "reason": "Reason", "run": "Run", "cancel": "Cancel", "close": "Close",
    "language": "日本語", "broken": "Cannot be run: it does not load (the ICT office can see why with kuroko check):",
    "outcome.succeeded": "Succeeded", "outcome.failed": "Failed", "outcome.aborted": "Stopped",
    "outcome.interrupted": "Interrupted", "outcome.error": "Could not start", "outcome.running": "Running",
    "outcome.queued": "Waiting", "outcome.cancelled": "Cancelled",
    "trigger.launcher": "Launcher", "trigger.scheduled": "Schedule", "trigger.manual": "Command line", "trigger.agent": "Robot PC",
    "mode.attended": "Attended (this PC)", "mode.unattended": "Unattended (robot PC)",
    "last-run": "Last run:", "never-run": "Last run: never", "saved-this-month": "saved this month:",
    "no-scenarios": "No scenarios.", "hours": "{n} h", "minutes": "{n} min",
    "eta-none": "— (no earlier runs)", "eta-soon": "any moment", "eta": "about {t}",
    "saved-run": "Time saved {n} min", "killed-timeout": "Ended: it ran past its time limit",
    "killed-stop": "Ended by force: it did not respond to Stop", "log": "Log", "screen": "Screen",
    "screen-alt": "The screen when it failed", "screen-zoom": "Enlarge the screen when it failed",
    "trace": "Web steps", "trace-title": "The last {n} web steps", "page-html": "Page (HTML)",
    "th-no": "No.", "th-action": "Step", "th-locator": "Element", "th-ms": "Time", "th-result": "Result", "th-picture": "Page",
    "ms": "{n} ms", "step-ok": "OK",
    "cancel-request": "Cancel", "failed-items": "{done} ({failed} failed)", "no-department": "(no department)",
    "headline": "Before {before} → after {after} · saved {saved} ({rate}) · {runs} runs, {items} items",
    "no-records": "Nothing recorded yet.", "totals": "Saved: {month} this month · {fy} this fiscal year",
    "chart-month": "This month ({label})", "chart-fy": "This fiscal year ({label})",
    "remove": "Remove", "remove-schedule": "Remove schedule {id}?", "none": "None",
    "could-not-run": "Could not run: {e}", "could-not-stop": "Could not stop: {e}",
    "no-files": "(no files yet: upload one)", "folder-files": "Files in {folder}: ",
    "upload": "or upload (up to {mb} MB): ", "upload-label": "Upload {label}",
    "too-large": "{name} is larger than {mb} MB.", "could-not-upload": "Could not upload: {e}",
    "choose-file": "Choose a file.", "error": "Error: {e}",
    "disconnected": "Lost the connection to the launcher. Reconnecting…",
    "robots": "Robot PCs", "th-robot": "PC", "th-status": "Status", "th-running": "Running", "th-item": "Item in hand",
    "th-seen": "Last heard", "send": "Run on this PC", "requests": "Runs sent", "th-requested": "Sent",
    "robot.waiting": "Waiting", "robot.running": "Running", "robot.stopped": "Stopped", "robot.silent": "Not answering",
    "seconds-ago": "{n} s ago", "request.waiting": "Waiting", "request.taken": "Running", "request.done": "Done",
    "request.failed": "Failed", "request.cancelled": "Cancelled", "sent": "Sent {scenario} to {robot}.",
    "work-queues": "Work queues", "th-queue": "Queue", "q.new": "New", "q.in_progress": "In progress", "q.done": "Done",
    "q.failed": "Failed", "q.abandoned": "Needs review", "needs-person": "Items that need a person (failed, needs review)",
    "th-key": "Key", "th-updated": "When", "kind.business": "business", "kind.application": "application",
  },
};

let language = localStorage.getItem("kuroko.language") === "en" ? "en" : "ja";

function t(key, values = {}) {
  const text = TEXT[language][key] ?? TEXT.ja[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

function applyLanguage() {
  document.documentElement.lang = language;
  for (const e of document.querySelectorAll("[data-i18n]")) e.textContent = t(e.dataset.i18n);
  $("language").textContent = t("language");
  $("language").lang = language === "ja" ? "en" : "ja";
  $("screenshot-img").alt = t("screen-alt");
}

let lastRequests = [];

let scenarios = [];
let shownRequest = null;
let lastFinishedSeen = new Set();

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") e.className = v;
    else if (k === "dataset") Object.assign(e.dataset, v);
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c ?? "")));
  return e;
}

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: options.body ? { "Content-Type": "application/json" } : {},
  });
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = { error: text }; }
  if (!response.ok) throw new Error((body && body.error) || response.statusText);
  return body;
}

function duration(ms) {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const two = (n) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${two(m)}:${two(sec)}` : `${m}:${two(sec)}`;
}

function hours(h) {
  return t("hours", { n: (Math.round(h * 10) / 10).toLocaleString("ja-JP", { minimumFractionDigits: 1 }) });
}

function when(text) {
  if (!text) return "";
  const d = new Date(text);
  if (isNaN(d)) return text;
  const two = (n) => String(n).padStart(2, "0");
  return `${d.getMonth() + 1}/${d.getDate()} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

// ---- scenarios ----

async function loadScenarios() {
  scenarios = await api("/api/scenarios");
  const filter = $("department-filter");
  const chosen = filter.value;
  const departments = [...new Set(scenarios.map((s) => s.department).filter(Boolean))].sort();
  filter.replaceChildren(el("option", { value: "" }, t("all-departments")),
    ...departments.map((d) => el("option", { value: d }, d)));
  filter.value = departments.includes(chosen) ? chosen : "";
  renderScenarios();
  const select = $("schedule-scenario");
  select.replaceChildren(...scenarios.map((s) => el("option", { value: s.id }, s.name)));
}

function renderScenarios() {
  const dept = $("department-filter").value;
  const shown = scenarios.filter((s) => !dept || s.department === dept);
  $("scenarios").replaceChildren(...shown.map((s) => s.problem ? el("article", { class: "card broken", dataset: { scenario: s.id } },
    el("h3", {}, s.name),
    el("p", { class: "error" }, t("broken")),
    el("pre", { class: "problem" }, s.problem),
  ) : el("article", { class: "card", dataset: { scenario: s.id } },
    el("h3", {}, s.name),
    el("p", { class: "meta" }, `${s.department || "—"} ・ ${s.task || "—"} ・ ${t(`mode.${s.mode}`)}`),
    el("p", { class: "description" }, s.description),
    el("p", { class: "meta" },
      s.last_run ? `${t("last-run")} ${when(s.last_run.started_at)} ${t(`outcome.${s.last_run.state}`)}` : t("never-run"),
      ` ・ ${t("saved-this-month")} `, hours(s.saved_hours_this_month)),
    el("button", { class: "run", type: "button", dataset: { scenario: s.id }, onclick: () => startRun(s) }, t("run")),
  )));
  if (shown.length === 0) $("scenarios").append(el("p", {}, t("no-scenarios")));
}

async function startRun(s, vars = {}) {
  if (s.asks.length > 0 && Object.keys(vars).length === 0) {
    openAskDialog(s);
    return;
  }
  try {
    const { request_id } = await api(`/api/scenarios/${encodeURIComponent(s.id)}/run`, {
      method: "POST", body: JSON.stringify({ vars }),
    });
    shownRequest = request_id;
    return true;
  } catch (e) {
    if ($("ask-dialog").open) $("ask-error").textContent = t("could-not-run", { e: e.message });
    else alert(t("could-not-run", { e: e.message }));
    return false;
  }
}

// ---- the dialog for files a scenario asks for ----

let asking = null;

function filesUrl(s, ask) {
  return `/api/scenarios/${encodeURIComponent(s.id)}/files/${encodeURIComponent(ask.var)}`;
}

async function fillFiles(s, ask, select, chosen) {
  const files = await api(filesUrl(s, ask));
  select.replaceChildren(...files.map((f) => el("option", { value: f.name },
    `${f.name}（${f.modified}、${Math.ceil(f.bytes / 1024)} KB）`)));
  if (files.length === 0) select.append(el("option", { value: "" }, t("no-files")));
  if (chosen) select.value = chosen;
}

function openAskDialog(s) {
  asking = s;
  $("ask-title").textContent = s.name;
  $("ask-error").textContent = "";
  $("ask-fields").replaceChildren(...s.asks.map((ask) => {
    const select = el("select", { name: ask.var, required: "", "aria-label": ask.label });
    const upload = el("input", { type: "file", accept: ask.extensions.map((x) => `.${x}`).join(","), "aria-label": t("upload-label", { label: ask.label }) });
    upload.addEventListener("change", () => uploadFile(s, ask, upload, select));
    fillFiles(s, ask, select).catch((e) => { $("ask-error").textContent = e.message; });
    return el("fieldset", { dataset: { var: ask.var } },
      el("legend", {}, `${ask.label}（${ask.extensions.join(", ")}）`),
      el("label", {}, t("folder-files", { folder: ask.folder }), select),
      el("label", {}, t("upload", { mb: ask.max_mb }), upload));
  }));
  $("ask-dialog").showModal();
}

async function uploadFile(s, ask, input, select) {
  const file = input.files[0];
  if (!file) return;
  $("ask-error").textContent = "";
  if (file.size > ask.max_mb * 1024 * 1024) {
    $("ask-error").textContent = t("too-large", { name: file.name, mb: ask.max_mb });
    input.value = "";
    return;
  }
  try {
    const response = await fetch(`${filesUrl(s, ask)}?name=${encodeURIComponent(file.name)}`, {
      method: "POST", headers: { "Content-Type": "application/octet-stream" }, body: file,
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.error || response.statusText);
    await fillFiles(s, ask, select, body.name);
  } catch (e) {
    $("ask-error").textContent = t("could-not-upload", { e: e.message });
  } finally {
    input.value = "";
  }
}

async function submitAsk(event) {
  event.preventDefault();
  const vars = {};
  for (const select of $("ask-fields").querySelectorAll("select")) {
    if (!select.value) {
      $("ask-error").textContent = t("choose-file");
      return;
    }
    vars[select.name] = select.value;
  }
  if (await startRun(asking, vars)) $("ask-dialog").close();
}

// ---- the run view ----

function renderRequests(requests) {
  lastRequests = requests;
  const running = requests.find((r) => r.state === "running");
  const newest = requests.find((r) => r.state === "finished");
  // The run going on; else the one this page started, once it has ended; else the newest ended.
  const current = running || requests.find((r) => r.id === shownRequest && r.state === "finished") || newest;
  const queued = requests.filter((r) => r.state === "queued").sort((a, b) => a.queue_position - b.queue_position);

  $("queue-box").hidden = queued.length === 0;
  $("queue").replaceChildren(...queued.map((r) => el("li", { dataset: { request: r.id } },
    `${r.scenario_name}（${t(`trigger.${r.trigger}`)}）`,
    el("button", { type: "button", class: "cancel", onclick: () => api(`/api/requests/${r.id}/cancel`, { method: "POST" }).catch((e) => alert(e.message)) }, t("cancel-request")))));

  $("run-empty").hidden = Boolean(current);
  $("run-detail").hidden = !current;
  if (!current) return;
  const state = current.state === "finished" ? current.outcome : current.state;
  $("run-view").className = `run-view ${state}`;
  $("run-name").textContent = current.scenario_name;
  $("run-state").textContent = t(`outcome.${state}`);
  $("run-state").dataset.state = state;
  $("run-done").textContent = current.progress.items_done;
  $("run-total").textContent = current.progress.items_total == null ? "" : ` / ${current.progress.items_total}`;
  $("run-failed").textContent = current.progress.items_failed;
  $("run-elapsed").textContent = duration(current.running_ms);
  $("run-eta").textContent = current.state === "running"
    ? (current.eta_ms == null ? t("eta-none") : current.eta_ms === 0 ? t("eta-soon") : t("eta", { t: duration(current.eta_ms) }))
    : "—";
  $("run-step").textContent = current.progress.step || "—";
  $("run-item").textContent = current.progress.last_item || "—";
  const message = [];
  if (current.state === "finished") {
    if (current.progress.saved_minutes != null) message.push(t("saved-run", { n: Math.round(current.progress.saved_minutes * 10) / 10 }));
    if (current.progress.message) message.push(current.progress.message);
    if (current.progress.location) message.push(`（${current.progress.location}）`);
    if (current.killed_after_timeout) message.push(t("killed-timeout"));
    if (current.killed_after_stop) message.push(t("killed-stop"));
    if (current.output_tail) message.push(current.output_tail);
  }
  $("run-message").hidden = message.length === 0;
  $("run-message").textContent = message.join(" ");
  $("run-evidence").replaceChildren(...evidenceLinks(current.progress.run_id, current.files));
  const stop = $("stop");
  stop.hidden = current.state !== "running";
  stop.dataset.request = current.id;

  // A run that just ended changes the history, the cards and the totals.
  for (const r of requests) {
    if (r.state === "finished" && !lastFinishedSeen.has(r.id)) {
      lastFinishedSeen.add(r.id);
      refreshLedgerViews();
    }
  }
}

function evidenceLinks(runId, files) {
  if (!runId || !files) return [];
  return files.filter((name) => name !== "events.jsonl").map((name) => {
    const url = `/api/runs/${encodeURIComponent(runId)}/files/${encodeURIComponent(name)}`;
    if (name.endsWith(".png")) {
      return name === "failure.png" || name.startsWith("web-failure-")
        ? el("button", { type: "button", class: "link", onclick: () => showScreenshot(url) }, t("screen")) : null;
    }
    if (name.endsWith(".html")) return el("a", { href: url, target: "_blank", rel: "noopener" }, t("page-html"));
    return el("a", { href: url, target: "_blank", rel: "noopener" }, name === "run.log" ? t("log") : name);
  }).filter(Boolean);
}

// The last web steps of a run, each with its element, time and a small picture of the page.
async function showTrace(runId) {
  const base = `/api/runs/${encodeURIComponent(runId)}/trace/`;
  const steps = await api(`${base}trace.json`);
  $("trace-title").textContent = t("trace-title", { n: steps.length });
  $("trace-steps").replaceChildren(...steps.map((s) => el("tr", { class: s.ok ? "ok" : "failed" },
    el("td", { class: "num" }, s.step),
    el("td", {}, s.action),
    el("td", { class: "locator" }, s.locator),
    el("td", { class: "num" }, t("ms", { n: s.ms })),
    el("td", { class: s.ok ? "outcome succeeded" : "outcome failed" }, s.ok ? t("step-ok") : s.error),
    el("td", {}, s.picture
      ? el("button", { type: "button", class: "thumb-button", onclick: () => showScreenshot(base + encodeURIComponent(s.picture)) },
        el("img", { class: "thumb", alt: `${s.action} ${s.locator}`, src: base + encodeURIComponent(s.picture) }))
      : ""))));
  $("trace-dialog").showModal();
}

function showScreenshot(url) {
  $("screenshot-img").src = url;
  $("screenshot-dialog").showModal();
}

async function stopRun() {
  const id = $("stop").dataset.request;
  $("stop").disabled = true;
  try {
    await api(`/api/requests/${id}/stop`, { method: "POST" });
  } catch (e) {
    alert(t("could-not-stop", { e: e.message }));
  } finally {
    $("stop").disabled = false;
  }
}

// ---- ledger views ----

let refreshing = null;
function refreshLedgerViews() {
  clearTimeout(refreshing);
  refreshing = setTimeout(() => {
    loadHistory().catch(showError);
    loadSummary().catch(showError);
    loadScenarios().catch(showError);
  }, 200);
}

async function loadHistory() {
  const runs = await api("/api/history?limit=50");
  $("history").replaceChildren(...runs.map((r) => {
    const evidence = el("td", { class: "evidence" }, ...evidenceLinks(r.run_id, r.files.filter((n) => n !== "failure.png")));
    if (r.files.includes("failure.png")) {
      const src = `/api/runs/${encodeURIComponent(r.run_id)}/files/failure.png`;
      evidence.append(el("button", { type: "button", class: "thumb-button", "aria-label": t("screen-zoom"), onclick: () => showScreenshot(src) },
        el("img", { class: "thumb", alt: t("screen-alt"), src })));
    }
    if (r.trace) {
      evidence.append(el("button", { type: "button", class: "link trace", onclick: () => showTrace(r.run_id).catch(showError) }, t("trace")));
    }
    return el("tr", { dataset: { run: r.run_id, state: r.state } },
      el("td", {}, when(r.started_at)),
      el("td", {}, r.scenario_name),
      el("td", { class: `outcome ${r.state}` }, t(`outcome.${r.state}`)),
      el("td", { class: "num" }, r.items_failed ? t("failed-items", { done: r.items_done, failed: r.items_failed }) : r.items_done),
      el("td", { class: "num" }, t("minutes", { n: Math.round(r.time.saved_minutes * 10) / 10 })),
      el("td", {}, t(`trigger.${r.trigger}`)),
      evidence);
  }));
}

// The report's first line: in Japanese exactly as the server words it (the same line as
// `kuroko report --format table`), in English from the same figures.
function headlineText(period) {
  if (language === "ja") return period.headline;
  const rate = period.saved_rate == null ? "-" : `${(period.saved_rate * 100).toFixed(1)}%`;
  const count = (n) => n.toLocaleString("en-US");
  return t("headline", {
    before: hours(period.before_hours), after: hours(period.after_hours), saved: hours(period.saved_hours),
    rate, runs: count(period.runs), items: count(period.items),
  });
}

// The headline in its parts (before → after, saved, counts), each kept on one line.
function headline(target, period) {
  const parts = headlineText(period).split(/(?<=\u3000| · )/);
  target.replaceChildren(...parts.map((p) => el("span", { class: "part" }, p)));
}

function chart(target, period) {
  const max = Math.max(...period.departments.map((d) => d.saved_hours), 0.1);
  const rows = period.departments.map((d) => {
    const bar = el("span", { class: "bar" });
    bar.style.width = `${Math.max(0, (d.saved_hours / max) * 100)}%`;
    return el("div", { class: "chart-row" },
      el("span", { class: "label" }, d.department || t("no-department")),
      el("span", { class: "track" }, bar),
      el("span", { class: "value" }, hours(d.saved_hours)));
  });
  target.replaceChildren(...(rows.length ? rows : [el("p", {}, t("no-records"))]));
}

async function loadSummary() {
  const s = await api("/api/summary");
  $("totals").textContent = t("totals", { month: hours(s.month.saved_hours), fy: hours(s.fiscal_year.saved_hours) });
  $("chart-month-title").textContent = t("chart-month", { label: s.month.label });
  $("chart-fy-title").textContent = t("chart-fy", { label: s.fiscal_year.label });
  headline($("headline-month"), s.month);
  headline($("headline-fy"), s.fiscal_year);
  chart($("chart-month"), s.month);
  chart($("chart-fy"), s.fiscal_year);
  $("report-month").href = `/api/report?month=${encodeURIComponent(s.month.slug)}`;
  $("report-fy").href = `/api/report?fiscal_year=${encodeURIComponent(s.fiscal_year.slug.replace(/^FY/, ""))}`;
}

// ---- robot PCs and work queues (shown once a ledger has any) ----

let robots = [];

async function loadRobots() {
  robots = await api("/api/machines");
  $("robots-section").hidden = robots.length === 0;
  $("robots").replaceChildren(...robots.map((m) => el("tr", { dataset: { robot: m.name, status: m.status } },
    el("td", {}, m.name),
    el("td", { class: `robot ${m.status}` }, t(`robot.${m.status}`)),
    el("td", {}, m.run ? m.run.scenario_name : "—"),
    el("td", {}, m.run && m.run.item_key ? `${m.run.queue}: ${m.run.item_key}` : "—"),
    el("td", { title: m.last_seen }, t("seconds-ago", { n: Math.round(m.seen_s_ago) })))));
  const chosen = $("send-robot").value;
  const live = robots.filter((m) => m.status === "waiting" || m.status === "running");
  $("send-robot").replaceChildren(...live.map((m) => el("option", { value: m.name }, m.name)));
  if (live.some((m) => m.name === chosen)) $("send-robot").value = chosen;
  fillSendScenarios();
  const requests = await api("/api/run-requests");
  $("run-requests").replaceChildren(...requests.map((r) => el("tr", { dataset: { request: r.id, state: r.state } },
    el("td", {}, when(r.requested_at)), el("td", {}, r.machine), el("td", {}, r.scenario_id),
    el("td", {}, t(`request.${r.state}`)), el("td", {}, r.message || ""),
    el("td", {}, r.state === "waiting"
      ? el("button", { type: "button", onclick: () => cancelRunRequest(r.id) }, t("cancel-request")) : ""))));
}

function fillSendScenarios() {
  const robot = robots.find((m) => m.name === $("send-robot").value);
  const chosen = $("send-scenario").value;
  const list = robot ? robot.scenarios : [];
  $("send-scenario").replaceChildren(...list.map((s) => el("option", { value: s.id }, s.name)));
  if (list.some((s) => s.id === chosen)) $("send-scenario").value = chosen;
}

async function cancelRunRequest(id) {
  await api(`/api/run-requests/${encodeURIComponent(id)}/cancel`, { method: "POST" }).catch((e) => alert(e.message));
  loadRobots().catch(showError);
}

async function sendRun(event) {
  event.preventDefault();
  const robot = $("send-robot").value;
  const scenario = $("send-scenario").value;
  $("send-error").textContent = "";
  try {
    await api(`/api/machines/${encodeURIComponent(robot)}/run`, { method: "POST", body: JSON.stringify({ scenario_id: scenario }) });
    $("send-error").textContent = t("sent", { robot, scenario: $("send-scenario").selectedOptions[0]?.textContent || scenario });
  } catch (e) {
    $("send-error").textContent = e.message;
  }
  loadRobots().catch(showError);
}

async function loadQueues() {
  const queues = await api("/api/queues");
  $("queues-section").hidden = queues.length === 0;
  $("queues").replaceChildren(...queues.map((q) => el("tr", { dataset: { queue: q.queue } },
    el("td", {}, q.queue), ...["new", "in_progress", "done", "failed", "abandoned"].map((k) => el("td", { class: `num ${k}` }, q[k])))));
  const rows = queues.flatMap((q) => q.needs_person.map((i) => el("tr", { dataset: { key: i.key, state: i.state } },
    el("td", {}, q.queue), el("td", {}, i.key),
    el("td", {}, t(`q.${i.state}`) + (i.failure_kind ? `（${t(`kind.${i.failure_kind}`)}）` : "")),
    el("td", {}, i.reason || ""), el("td", {}, i.machine || ""), el("td", {}, when(i.updated_at)))));
  $("needs-person").replaceChildren(...rows);
}

async function loadSchedules() {
  const list = await api("/api/schedules");
  const name = (id) => (scenarios.find((s) => s.id === id) || { name: id }).name;
  $("schedules").replaceChildren(...list.map((s) => el("tr", { dataset: { schedule: s.id } },
    el("td", {}, s.id), el("td", {}, name(s.scenario_id)), el("td", {}, el("code", {}, s.spec)),
    el("td", {}, s.next_run || "—"),
    el("td", {}, el("button", { type: "button", onclick: () => removeSchedule(s.id) }, t("remove"))))));
}

async function removeSchedule(id) {
  if (!confirm(t("remove-schedule", { id }))) return;
  await api(`/api/schedules/${encodeURIComponent(id)}/remove`, { method: "POST" }).catch((e) => alert(e.message));
  loadSchedules().catch(showError);
}

// Sends a form's fields as JSON; on success clears `inputs` and runs `then`, else shows why.
async function submitForm(event, errorId, url, body, inputs, then) {
  event.preventDefault();
  $(errorId).textContent = "";
  try {
    await api(url, { method: "POST", body: JSON.stringify(body) });
    for (const id of inputs) $(id).value = "";
    await then();
  } catch (e) {
    $(errorId).textContent = e.message;
  }
}

function addSchedule(event) {
  return submitForm(event, "schedule-error", "/api/schedules",
    { scenario_id: $("schedule-scenario").value, spec: $("schedule-spec").value },
    ["schedule-spec"], loadSchedules);
}

async function loadClosedDays() {
  const days = await api("/api/closed-days");
  $("closed-days").replaceChildren(...days.map((d) => el("li", { dataset: { day: d.day } },
    `${d.day}（${d.reason}）`,
    el("button", { type: "button", onclick: () => openDay(d.day) }, t("remove")))));
  if (days.length === 0) $("closed-days").append(el("li", {}, t("none")));
}

async function openDay(day) {
  await api(`/api/closed-days/${encodeURIComponent(day)}/remove`, { method: "POST" }).catch((e) => alert(e.message));
  await Promise.all([loadClosedDays(), loadSchedules()]).catch(showError);
}

function addClosedDay(event) {
  return submitForm(event, "closed-error", "/api/closed-days",
    { day: $("closed-day").value, reason: $("closed-reason").value },
    ["closed-day", "closed-reason"], () => Promise.all([loadClosedDays(), loadSchedules()]));
}

function showError(e) {
  $("connection").textContent = t("error", { e: e.message });
}

// ---- start ----

function follow() {
  const source = new EventSource("/api/events");
  source.addEventListener("requests", (e) => {
    $("connection").textContent = "";
    renderRequests(JSON.parse(e.data));
  });
  source.onerror = () => {
    $("connection").textContent = t("disconnected");
  };
}

function toggleLanguage() {
  language = language === "ja" ? "en" : "ja";
  localStorage.setItem("kuroko.language", language);
  applyLanguage();
  renderScenarios();
  renderRequests(lastRequests);
  refreshLedgerViews();
  loadClosedDays().catch(showError);
  loadRobots().catch(showError);
  loadQueues().catch(showError);
}

// A script error is shown, not swallowed: the clerk can tell the ICT office what it says.
window.addEventListener("error", (e) => showError(e.error || new Error(e.message)));
window.addEventListener("unhandledrejection", (e) => showError(e.reason instanceof Error ? e.reason : new Error(String(e.reason))));

document.addEventListener("DOMContentLoaded", () => {
  applyLanguage();
  $("language").addEventListener("click", toggleLanguage);
  $("department-filter").addEventListener("change", renderScenarios);
  $("stop").addEventListener("click", stopRun);
  $("schedule-form").addEventListener("submit", addSchedule);
  $("ask-form").addEventListener("submit", submitAsk);
  $("closed-form").addEventListener("submit", addClosedDay);
  loadClosedDays().catch(showError);
  $("ask-cancel").addEventListener("click", () => $("ask-dialog").close());
  loadScenarios().then(loadSchedules).catch(showError);
  loadHistory().catch(showError);
  loadSummary().catch(showError);
  $("send-robot").addEventListener("change", fillSendScenarios);
  $("send-form").addEventListener("submit", sendRun);
  const fleet = () => {
    if (document.hidden) return;
    loadRobots().catch(showError);
    loadQueues().catch(showError);
  };
  fleet();
  // Robots and queues change on other PCs, without this launcher's events.
  setInterval(fleet, 5000);
  follow();
});
