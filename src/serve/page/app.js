// The launcher page: lists scenarios, starts runs, follows them through server-sent events,
// stops them, and shows history, schedules and hours saved. Plain JavaScript, no framework,
// nothing loaded from the internet.
"use strict";

const $ = (id) => document.getElementById(id);

const OUTCOME = {
  succeeded: "成功", failed: "失敗", aborted: "停止しました", interrupted: "中断",
  error: "開始できませんでした", running: "実行中", queued: "待機中", cancelled: "取消",
};
const TRIGGER = { launcher: "ランチャー", scheduled: "スケジュール", manual: "手動" };
const MODE = { attended: "有人（この PC）", unattended: "無人（ロボット PC）" };

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
  return `${(Math.round(h * 10) / 10).toLocaleString("ja-JP", { minimumFractionDigits: 1 })} 時間`;
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
  filter.replaceChildren(el("option", { value: "" }, "すべての課"),
    ...departments.map((d) => el("option", { value: d }, d)));
  filter.value = departments.includes(chosen) ? chosen : "";
  renderScenarios();
  const select = $("schedule-scenario");
  select.replaceChildren(...scenarios.map((s) => el("option", { value: s.id }, s.name)));
}

function renderScenarios() {
  const dept = $("department-filter").value;
  const shown = scenarios.filter((s) => !dept || s.department === dept);
  $("scenarios").replaceChildren(...shown.map((s) => el("article", { class: "card", dataset: { scenario: s.id } },
    el("h3", {}, s.name),
    el("p", { class: "meta" }, `${s.department || "—"} ・ ${s.task || "—"} ・ ${MODE[s.mode] || s.mode}`),
    el("p", { class: "description" }, s.description),
    el("p", { class: "meta" },
      s.last_run ? `前回: ${when(s.last_run.started_at)} ${OUTCOME[s.last_run.state] || s.last_run.state}` : "前回: まだ実行していません",
      " ・ 今月の削減: ", hours(s.saved_hours_this_month)),
    el("button", { class: "run", type: "button", dataset: { scenario: s.id }, onclick: () => startRun(s) }, "実行"),
  )));
  if (shown.length === 0) $("scenarios").append(el("p", {}, "シナリオがありません。"));
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
    if ($("ask-dialog").open) $("ask-error").textContent = `実行できませんでした: ${e.message}`;
    else alert(`実行できませんでした: ${e.message}`);
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
  if (files.length === 0) select.append(el("option", { value: "" }, "（ファイルがありません。アップロードしてください）"));
  if (chosen) select.value = chosen;
}

function openAskDialog(s) {
  asking = s;
  $("ask-title").textContent = s.name;
  $("ask-error").textContent = "";
  $("ask-fields").replaceChildren(...s.asks.map((ask) => {
    const select = el("select", { name: ask.var, required: "", "aria-label": ask.label });
    const upload = el("input", { type: "file", accept: ask.extensions.map((x) => `.${x}`).join(","), "aria-label": `${ask.label}をアップロード` });
    upload.addEventListener("change", () => uploadFile(s, ask, upload, select));
    fillFiles(s, ask, select).catch((e) => { $("ask-error").textContent = e.message; });
    return el("fieldset", { dataset: { var: ask.var } },
      el("legend", {}, `${ask.label}（${ask.extensions.join(", ")}）`),
      el("label", {}, `${ask.folder} フォルダのファイル: `, select),
      el("label", {}, `またはアップロード（${ask.max_mb} MB まで）: `, upload));
  }));
  $("ask-dialog").showModal();
}

async function uploadFile(s, ask, input, select) {
  const file = input.files[0];
  if (!file) return;
  $("ask-error").textContent = "";
  if (file.size > ask.max_mb * 1024 * 1024) {
    $("ask-error").textContent = `${file.name} は ${ask.max_mb} MB を超えています。`;
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
    $("ask-error").textContent = `アップロードできませんでした: ${e.message}`;
  } finally {
    input.value = "";
  }
}

async function submitAsk(event) {
  event.preventDefault();
  const vars = {};
  for (const select of $("ask-fields").querySelectorAll("select")) {
    if (!select.value) {
      $("ask-error").textContent = "ファイルを選んでください。";
      return;
    }
    vars[select.name] = select.value;
  }
  if (await startRun(asking, vars)) $("ask-dialog").close();
}

// ---- the run view ----

function renderRequests(requests) {
  const running = requests.find((r) => r.state === "running");
  const newest = requests.find((r) => r.state === "finished");
  // The run going on; else the one this page started, once it has ended; else the newest ended.
  const current = running || requests.find((r) => r.id === shownRequest && r.state === "finished") || newest;
  const queued = requests.filter((r) => r.state === "queued").sort((a, b) => a.queue_position - b.queue_position);

  $("queue-box").hidden = queued.length === 0;
  $("queue").replaceChildren(...queued.map((r) => el("li", { dataset: { request: r.id } },
    `${r.scenario_name}（${TRIGGER[r.trigger] || r.trigger}）`,
    el("button", { type: "button", class: "cancel", onclick: () => api(`/api/requests/${r.id}/cancel`, { method: "POST" }).catch((e) => alert(e.message)) }, "取消"))));

  $("run-empty").hidden = Boolean(current);
  $("run-detail").hidden = !current;
  if (!current) return;
  const state = current.state === "finished" ? current.outcome : current.state;
  $("run-view").className = `run-view ${state}`;
  $("run-name").textContent = current.scenario_name;
  $("run-state").textContent = OUTCOME[state] || state;
  $("run-state").dataset.state = state;
  $("run-done").textContent = current.progress.items_done;
  $("run-total").textContent = current.progress.items_total == null ? "" : ` / ${current.progress.items_total}`;
  $("run-failed").textContent = current.progress.items_failed;
  $("run-elapsed").textContent = duration(current.running_ms);
  $("run-eta").textContent = current.state === "running"
    ? (current.eta_ms == null ? "—（過去の実行がありません）" : current.eta_ms === 0 ? "まもなく" : `約 ${duration(current.eta_ms)}`)
    : "—";
  $("run-step").textContent = current.progress.step || "—";
  const message = [];
  if (current.state === "finished") {
    if (current.progress.saved_minutes != null) message.push(`削減時間 ${Math.round(current.progress.saved_minutes * 10) / 10} 分`);
    if (current.progress.message) message.push(current.progress.message);
    if (current.progress.location) message.push(`（${current.progress.location}）`);
    if (current.killed_after_timeout) message.push("制限時間を過ぎたため終了させました");
    if (current.killed_after_stop) message.push("停止に応答しなかったため強制終了しました");
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
      return name === "failure.png" ? el("button", { type: "button", class: "link", onclick: () => showScreenshot(url) }, "画面") : null;
    }
    return el("a", { href: url, target: "_blank", rel: "noopener" }, name === "run.log" ? "ログ" : name);
  }).filter(Boolean);
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
    alert(`停止できませんでした: ${e.message}`);
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
      evidence.append(el("button", { type: "button", class: "thumb-button", "aria-label": "失敗時の画面を拡大", onclick: () => showScreenshot(src) },
        el("img", { class: "thumb", alt: "失敗時の画面", src })));
    }
    return el("tr", { dataset: { run: r.run_id, state: r.state } },
      el("td", {}, when(r.started_at)),
      el("td", {}, r.scenario_name),
      el("td", { class: `outcome ${r.state}` }, OUTCOME[r.state] || r.state),
      el("td", { class: "num" }, r.items_failed ? `${r.items_done}（失敗 ${r.items_failed}）` : r.items_done),
      el("td", { class: "num" }, `${Math.round(r.time.saved_minutes * 10) / 10} 分`),
      el("td", {}, TRIGGER[r.trigger] || r.trigger),
      evidence);
  }));
}

function chart(target, period) {
  const max = Math.max(...period.departments.map((d) => d.saved_hours), 0.1);
  const rows = period.departments.map((d) => {
    const bar = el("span", { class: "bar" });
    bar.style.width = `${Math.max(0, (d.saved_hours / max) * 100)}%`;
    return el("div", { class: "chart-row" },
      el("span", { class: "label" }, d.department || "（課なし）"),
      el("span", { class: "track" }, bar),
      el("span", { class: "value" }, hours(d.saved_hours)));
  });
  target.replaceChildren(...(rows.length ? rows : [el("p", {}, "まだ記録がありません。")]));
}

async function loadSummary() {
  const s = await api("/api/summary");
  $("totals").textContent = `今月 ${hours(s.month.saved_hours)} ・ 今年度 ${hours(s.fiscal_year.saved_hours)} 削減`;
  $("chart-month-title").textContent = `今月（${s.month.label}）`;
  $("chart-fy-title").textContent = `今年度（${s.fiscal_year.label}）`;
  chart($("chart-month"), s.month);
  chart($("chart-fy"), s.fiscal_year);
  $("report-month").href = `/api/report?month=${encodeURIComponent(s.month.slug)}`;
  $("report-fy").href = `/api/report?fiscal_year=${encodeURIComponent(s.fiscal_year.slug.replace(/^FY/, ""))}`;
}

async function loadSchedules() {
  const list = await api("/api/schedules");
  const name = (id) => (scenarios.find((s) => s.id === id) || { name: id }).name;
  $("schedules").replaceChildren(...list.map((s) => el("tr", { dataset: { schedule: s.id } },
    el("td", {}, s.id), el("td", {}, name(s.scenario_id)), el("td", {}, el("code", {}, s.spec)),
    el("td", {}, s.next_run || "—"),
    el("td", {}, el("button", { type: "button", onclick: () => removeSchedule(s.id) }, "削除")))));
}

async function removeSchedule(id) {
  if (!confirm(`スケジュール ${id} を削除しますか？`)) return;
  await api(`/api/schedules/${encodeURIComponent(id)}/remove`, { method: "POST" }).catch((e) => alert(e.message));
  loadSchedules().catch(showError);
}

async function addSchedule(event) {
  event.preventDefault();
  $("schedule-error").textContent = "";
  try {
    await api("/api/schedules", {
      method: "POST",
      body: JSON.stringify({ scenario_id: $("schedule-scenario").value, spec: $("schedule-spec").value }),
    });
    $("schedule-spec").value = "";
    await loadSchedules();
  } catch (e) {
    $("schedule-error").textContent = e.message;
  }
}

async function loadClosedDays() {
  const days = await api("/api/closed-days");
  $("closed-days").replaceChildren(...days.map((d) => el("li", { dataset: { day: d.day } },
    `${d.day}（${d.reason}）`,
    el("button", { type: "button", onclick: () => openDay(d.day) }, "削除"))));
  if (days.length === 0) $("closed-days").append(el("li", {}, "ありません"));
}

async function openDay(day) {
  await api(`/api/closed-days/${encodeURIComponent(day)}/remove`, { method: "POST" }).catch((e) => alert(e.message));
  await Promise.all([loadClosedDays(), loadSchedules()]).catch(showError);
}

async function addClosedDay(event) {
  event.preventDefault();
  $("closed-error").textContent = "";
  try {
    await api("/api/closed-days", {
      method: "POST",
      body: JSON.stringify({ day: $("closed-day").value, reason: $("closed-reason").value }),
    });
    $("closed-day").value = "";
    $("closed-reason").value = "";
    await Promise.all([loadClosedDays(), loadSchedules()]);
  } catch (e) {
    $("closed-error").textContent = e.message;
  }
}

function showError(e) {
  $("connection").textContent = `エラー: ${e.message}`;
}

// ---- start ----

function follow() {
  const source = new EventSource("/api/events");
  source.addEventListener("requests", (e) => {
    $("connection").textContent = "";
    renderRequests(JSON.parse(e.data));
  });
  source.onerror = () => {
    $("connection").textContent = "ランチャーとの接続が切れました。再接続しています…";
  };
}

document.addEventListener("DOMContentLoaded", () => {
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
  follow();
});
