//! 住民記録システム (web) — a stand-in for a browser-based 標準準拠 住民記録 system, where a
//! clerk takes applications for 住民票の写し (交付申請の受付). Tests and the demo start it on
//! loopback and drive it with headless Chromium through kuroko's `web::` API; nothing comes
//! from the internet. It has what makes such systems hard to automate: a login with a session
//! cookie, a legacy frameset, a form laid out in a table (labels are `<th>` cells), read-only
//! fields filled from a popup window (住所検索), a confirm dialog, a slow save behind a
//! full-page overlay, a paged list, a Shift_JIS CSV download and a file upload.
//!
//! Every registration is appended to `DIR/registrations.jsonl` (one JSON object per line,
//! synced before the page shows 登録しました). Like many real systems it does not refuse a
//! 受付番号 registered before: entering an application twice is the robot's mistake, and the
//! file is the judge.
//!
//! Usage: web-intake --port PORT --data DIR [--save-delay-ms MIN-MAX] [--page-size N]

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use clap::Parser;
use serde::{Deserialize, Serialize};
use serde_json::json;

const LOGIN_HTML: &str = include_str!("pages/login.html");
const MAIN_HTML: &str = include_str!("pages/main.html");
const MENU_HTML: &str = include_str!("pages/menu.html");
const SEARCH_HTML: &str = include_str!("pages/search.html");
const FORM_HTML: &str = include_str!("pages/form.html");
const ADDRESS_HTML: &str = include_str!("pages/address.html");
const LIST_HTML: &str = include_str!("pages/list.html");
const UPLOAD_HTML: &str = include_str!("pages/upload.html");
const STYLE_CSS: &str = include_str!("pages/style.css");
const FORM_JS: &str = include_str!("pages/form.js");
const ADDRESS_JS: &str = include_str!("pages/address.js");
const UPLOAD_JS: &str = include_str!("pages/upload.js");

/// The only account.
const USER: &str = "kuroko";
const PASSWORD: &str = "kuroko";

/// Uploads larger than this are refused (413).
const UPLOAD_LIMIT: usize = 10 * 1024 * 1024;

/// The towns 住所検索 knows: (郵便番号, 住所). Some look alike on purpose (仲町 in 深谷市 and
/// in 熊谷市, 上柴町西 and 上柴町東).
const TOWNS: &[(&str, &str)] = &[
    ("366-0825", "埼玉県深谷市仲町"),
    ("369-0201", "埼玉県深谷市岡部"),
    ("369-1246", "埼玉県深谷市花園"),
    ("366-0052", "埼玉県深谷市上柴町西"),
    ("366-0051", "埼玉県深谷市上柴町東"),
    ("366-0001", "埼玉県深谷市櫛引"),
    ("366-0821", "埼玉県深谷市本住町"),
    ("369-1105", "埼玉県深谷市川本"),
    ("366-0036", "埼玉県深谷市緑ケ丘"),
    ("360-0046", "埼玉県熊谷市仲町"),
];

/// The columns of 登録一覧 and of the search results.
const LIST_HEADER: &str = "<tr><th>受付番号</th><th>氏名</th><th>フリガナ</th><th>生年月日</th>\
                           <th>住所</th><th>登録日時</th></tr>";

#[derive(Parser)]
#[command(about = "住民記録システム (web): a local stand-in for a browser-based business system")]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long)]
    port: u16,
    /// Directory for registrations.jsonl and uploads/.
    #[arg(long)]
    data: PathBuf,
    /// How long a save takes in milliseconds: MIN-MAX (random in the range) or one number.
    #[arg(long, default_value = "1000-2000", value_parser = parse_delay)]
    save_delay_ms: SaveDelay,
    /// Rows per page of 登録一覧.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    page_size: u64,
}

#[derive(Clone, Copy)]
struct SaveDelay {
    min: u64,
    max: u64,
}

fn parse_delay(text: &str) -> Result<SaveDelay, String> {
    let number = |s: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| format!("not a number of milliseconds: {s:?}"))
    };
    let (min, max) = match text.split_once('-') {
        Some((min, max)) => (number(min)?, number(max)?),
        None => (number(text)?, number(text)?),
    };
    if min > max {
        return Err(format!("MIN is larger than MAX: {text}"));
    }
    Ok(SaveDelay { min, max })
}

/// One line of registrations.jsonl. The keys are the system's own (Japanese); values are kept
/// exactly as the form sent them.
#[derive(Serialize, Deserialize, Default)]
#[serde(default)]
struct Registration {
    #[serde(rename = "受付番号")]
    no: String,
    #[serde(rename = "氏名")]
    name: String,
    #[serde(rename = "フリガナ")]
    kana: String,
    #[serde(rename = "生年月日")]
    born: String,
    #[serde(rename = "郵便番号")]
    zip: String,
    /// The town from 住所検索 followed by 番地.
    #[serde(rename = "住所")]
    address: String,
    #[serde(rename = "番地")]
    banchi: String,
    #[serde(rename = "交付通数")]
    copies: String,
    #[serde(rename = "使用目的")]
    purpose: String,
    #[serde(rename = "本籍記載")]
    honseki: bool,
    #[serde(rename = "登録日時")]
    registered_at: String,
}

/// What 交付申請入力 posts to /api/register.
#[derive(Deserialize)]
struct Application {
    #[serde(default)]
    no: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kana: String,
    #[serde(default)]
    born: String,
    #[serde(default)]
    zip: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    banchi: String,
    #[serde(default = "one_copy")]
    copies: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    honseki: bool,
}

fn one_copy() -> String {
    "1".to_string()
}

struct App {
    data: PathBuf,
    /// registrations.jsonl, opened for appending; the lock also keeps readers off a half-written
    /// line.
    registrations: Mutex<File>,
    sessions: Mutex<HashSet<String>>,
    save_delay: SaveDelay,
    page_size: usize,
}

impl App {
    fn registrations_path(&self) -> PathBuf {
        self.data.join("registrations.jsonl")
    }

    /// All registrations in file order (oldest first). Lines that cannot be read are skipped.
    fn load(&self) -> Vec<Registration> {
        let _writer = self.registrations.lock().unwrap();
        let text = std::fs::read_to_string(self.registrations_path()).unwrap_or_default();
        let mut list = Vec::new();
        for line in text.lines().filter(|line| !line.trim().is_empty()) {
            match serde_json::from_str(line) {
                Ok(registration) => list.push(registration),
                Err(error) => {
                    eprintln!("web-intake: skipping a line of registrations.jsonl: {error}")
                }
            }
        }
        list
    }

    /// Appends one registration and syncs the file before returning.
    fn append(&self, registration: &Registration) -> std::io::Result<()> {
        let mut line = serde_json::to_string(registration)?;
        line.push('\n');
        let mut file = self.registrations.lock().unwrap();
        file.write_all(line.as_bytes())?;
        file.flush()?;
        file.sync_all()
    }

    fn logged_in(&self, headers: &HeaderMap) -> bool {
        session_cookie(headers).is_some_and(|id| self.sessions.lock().unwrap().contains(&id))
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if let Err(error) = run(args).await {
        eprintln!("web-intake: {error}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> std::io::Result<()> {
    std::fs::create_dir_all(args.data.join("uploads"))?;
    let registrations = OpenOptions::new()
        .create(true)
        .append(true)
        .open(args.data.join("registrations.jsonl"))?;
    let app = Arc::new(App {
        data: args.data,
        registrations: Mutex::new(registrations),
        sessions: Mutex::new(HashSet::new()),
        save_delay: args.save_delay_ms,
        page_size: args.page_size as usize,
    });

    // Everything but the login page, logout and the static files needs a session.
    let behind_login = Router::new()
        .route("/main", get(|| async { Html(MAIN_HTML) }))
        .route("/menu", get(|| async { Html(MENU_HTML) }))
        .route("/search", get(search_page))
        .route("/form", get(|| async { Html(FORM_HTML) }))
        .route("/address", get(address_page))
        .route("/list", get(list_page))
        .route("/export.csv", get(export_csv))
        .route("/upload", get(|| async { Html(UPLOAD_HTML) }))
        .route("/api/register", post(register))
        .route("/api/upload", post(upload))
        .route_layer(middleware::from_fn_with_state(app.clone(), require_login));
    let router = Router::new()
        .route("/", get(login_page).post(login))
        .route("/logout", get(logout))
        .route("/static/{file}", get(static_file))
        .merge(behind_login)
        .layer(DefaultBodyLimit::max(UPLOAD_LIMIT))
        .with_state(app);

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
    println!("listening on http://{}/", listener.local_addr()?);
    std::io::stdout().flush()?;
    axum::serve(listener, router).await
}

/// Pages go back to the login page without a session; the JSON API answers 401.
async fn require_login(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    if app.logged_in(request.headers()) {
        return next.run(request).await;
    }
    if request.uri().path().starts_with("/api/") {
        return json_error(StatusCode::UNAUTHORIZED, "ログインしてください");
    }
    Redirect::to("/").into_response()
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|cookie| cookie.trim().strip_prefix("session="))
        .map(str::to_string)
}

async fn login_page() -> Html<String> {
    Html(render(LOGIN_HTML, &[("error", "")]))
}

async fn login(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let body = String::from_utf8_lossy(&body);
    if form_value(&body, "user") != USER || form_value(&body, "password") != PASSWORD {
        let error = r#"<p class="error" role="alert">ユーザーIDまたはパスワードが違います</p>"#;
        return Html(render(LOGIN_HTML, &[("error", error)])).into_response();
    }
    let id = random_hex(16);
    app.sessions.lock().unwrap().insert(id.clone());
    let cookie = format!("session={id}; HttpOnly; Path=/; SameSite=Lax");
    ([(header::SET_COOKIE, cookie)], Redirect::to("/main")).into_response()
}

async fn logout(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    if let Some(id) = session_cookie(&headers) {
        app.sessions.lock().unwrap().remove(&id);
    }
    let cookie = "session=; HttpOnly; Path=/; Max-Age=0";
    ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
}

async fn static_file(Path(file): Path<String>) -> Response {
    let (content_type, text) = match file.as_str() {
        "style.css" => ("text/css; charset=utf-8", STYLE_CSS),
        "form.js" => ("text/javascript; charset=utf-8", FORM_JS),
        "address.js" => ("text/javascript; charset=utf-8", ADDRESS_JS),
        "upload.js" => ("text/javascript; charset=utf-8", UPLOAD_JS),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    ([(header::CONTENT_TYPE, content_type)], text).into_response()
}

#[derive(Deserialize)]
struct SearchQuery {
    no: Option<String>,
    name: Option<String>,
}

/// 住民検索: 受付番号 must match exactly, 氏名 may be a part; empty conditions are left out.
async fn search_page(
    State(app): State<Arc<App>>,
    Query(query): Query<SearchQuery>,
) -> Html<String> {
    let no = query.no.unwrap_or_default();
    let name = query.name.unwrap_or_default();
    let results = if no.is_empty() && name.is_empty() {
        "<p>検索条件を入力してください</p>".to_string()
    } else {
        let found: Vec<Registration> = app
            .load()
            .into_iter()
            .filter(|r| no.is_empty() || r.no == no)
            .filter(|r| name.is_empty() || r.name.contains(&name))
            .collect();
        if found.is_empty() {
            "<p>該当するデータはありません</p>".to_string()
        } else {
            format!(
                "<p>検索結果：{} 件</p>\n<table class=\"list\" id=\"results\">\n\
                 <thead>{LIST_HEADER}</thead>\n<tbody>\n{}</tbody>\n</table>",
                found.len(),
                list_rows(&found)
            )
        }
    };
    Html(render(
        SEARCH_HTML,
        &[
            ("no", &escape(&no)),
            ("name", &escape(&name)),
            ("results", &results),
        ],
    ))
}

/// 住所検索 (the popup): every town; address.js filters them.
async fn address_page() -> Html<String> {
    let mut rows = String::new();
    for (zip, address) in TOWNS {
        rows.push_str(&format!(
            "      <tr data-zip=\"{zip}\" data-address=\"{address}\"><td>{zip}</td><td>{address}</td>\
             <td><button type=\"button\">選択</button></td></tr>\n"
        ));
    }
    Html(render(ADDRESS_HTML, &[("rows", &rows)]))
}

#[derive(Deserialize)]
struct ListQuery {
    page: Option<String>,
}

/// 登録一覧: file order (newest last), `--page-size` rows a page.
async fn list_page(State(app): State<Arc<App>>, Query(query): Query<ListQuery>) -> Html<String> {
    let all = app.load();
    let total = all.len();
    let pages = total.div_ceil(app.page_size).max(1);
    let page = query
        .page
        .and_then(|page| page.trim().parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, pages);
    let start = ((page - 1) * app.page_size).min(total);
    let end = (start + app.page_size).min(total);

    let count = if total == 0 {
        "0 件中 0–0 件目".to_string()
    } else {
        format!("{total} 件中 {}–{end} 件目", start + 1)
    };
    let previous = if page > 1 {
        format!("<a href=\"/list?page={}\">前へ</a>", page - 1)
    } else {
        r#"<span class="disabled" aria-disabled="true">前へ</span>"#.to_string()
    };
    let next = if page < pages {
        format!("<a href=\"/list?page={}\">次へ</a>", page + 1)
    } else {
        r#"<span class="disabled" aria-disabled="true">次へ</span>"#.to_string()
    };
    let empty = if total == 0 {
        "<p>登録はありません</p>"
    } else {
        ""
    };
    Html(render(
        LIST_HTML,
        &[
            ("rows", &list_rows(&all[start..end])),
            ("empty", empty),
            ("previous", &previous),
            ("count", &count),
            ("next", &next),
        ],
    ))
}

fn list_rows(registrations: &[Registration]) -> String {
    let mut rows = String::new();
    for r in registrations {
        rows.push_str("      <tr>");
        for value in [
            &r.no,
            &r.name,
            &r.kana,
            &r.born,
            &r.address,
            &r.registered_at,
        ] {
            rows.push_str(&format!("<td>{}</td>", escape(value)));
        }
        rows.push_str("</tr>\n");
    }
    rows
}

/// All registrations as Shift_JIS CSV, as older systems export them. Characters Shift_JIS lacks
/// come out as HTML numeric references (encoding_rs's way).
async fn export_csv(State(app): State<Arc<App>>) -> Response {
    let mut text = String::from(
        "受付番号,氏名,フリガナ,生年月日,郵便番号,住所,交付通数,使用目的,本籍記載,登録日時\r\n",
    );
    for r in app.load() {
        let honseki = if r.honseki { "あり" } else { "なし" };
        let fields = [
            r.no.as_str(),
            &r.name,
            &r.kana,
            &r.born,
            &r.zip,
            &r.address,
            &r.copies,
            &r.purpose,
            honseki,
            &r.registered_at,
        ];
        let quoted: Vec<String> = fields.into_iter().map(csv_field).collect();
        text.push_str(&quoted.join(","));
        text.push_str("\r\n");
    }
    let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(&text);
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=Shift_JIS"),
            (
                header::CONTENT_DISPOSITION,
                // filename* is 登録一覧.csv.
                "attachment; filename=\"registrations.csv\"; \
                 filename*=UTF-8''%E7%99%BB%E9%8C%B2%E4%B8%80%E8%A6%A7.csv",
            ),
        ],
        bytes.into_owned(),
    )
        .into_response()
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// 登録: refuses an application with an empty required field, waits as a busy server does, then
/// appends it. A 受付番号 registered before is accepted again.
async fn register(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let application: Application = match serde_json::from_slice(&body) {
        Ok(application) => application,
        Err(_) => return json_error(StatusCode::BAD_REQUEST, "申請内容を読み取れません"),
    };
    let required = [
        ("受付番号", &application.no),
        ("氏名", &application.name),
        ("フリガナ", &application.kana),
        ("生年月日", &application.born),
        ("住所", &application.address),
        ("番地", &application.banchi),
        ("使用目的", &application.purpose),
    ];
    if let Some((label, _)) = required.iter().find(|(_, value)| value.trim().is_empty()) {
        let message = format!("必須項目が入力されていません：{label}");
        return json_error(StatusCode::BAD_REQUEST, &message);
    }
    if !["1", "2", "3", "4", "5"].contains(&application.copies.as_str()) {
        return json_error(StatusCode::BAD_REQUEST, "交付通数は1通から5通までです");
    }

    tokio::time::sleep(save_delay(app.save_delay)).await;

    let registration = Registration {
        address: format!("{}{}", application.address, application.banchi),
        no: application.no,
        name: application.name,
        kana: application.kana,
        born: application.born,
        zip: application.zip,
        banchi: application.banchi,
        copies: application.copies,
        purpose: application.purpose,
        honseki: application.honseki,
        registered_at: chrono::Local::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
    };
    if let Err(error) = app.append(&registration) {
        eprintln!("web-intake: cannot save a registration: {error}");
        return json_error(StatusCode::INTERNAL_SERVER_ERROR, "保存に失敗しました");
    }
    Json(json!({ "ok": true, "no": registration.no })).into_response()
}

#[derive(Deserialize)]
struct UploadQuery {
    name: Option<String>,
}

/// 一括取込: keeps the file's bytes as sent under DIR/uploads/ and counts its lines.
async fn upload(
    State(app): State<Arc<App>>,
    Query(query): Query<UploadQuery>,
    body: Bytes,
) -> Response {
    let name = query.name.unwrap_or_default();
    let unsafe_name = name.is_empty()
        || name == "."
        || name.contains(['/', '\\'])
        || name.contains("..")
        || name.chars().any(char::is_control);
    if unsafe_name {
        return json_error(StatusCode::BAD_REQUEST, "ファイル名が正しくありません");
    }
    if let Err(error) = std::fs::write(app.data.join("uploads").join(&name), &body) {
        eprintln!("web-intake: cannot save the upload {name:?}: {error}");
        return json_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ファイルを保存できません",
        );
    }
    let newlines = body.iter().filter(|&&byte| byte == b'\n').count();
    let lines = if body.last().is_some_and(|&byte| byte != b'\n') {
        newlines + 1
    } else {
        newlines
    };
    Json(json!({ "ok": true, "name": name, "lines": lines, "bytes": body.len() })).into_response()
}

fn json_error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "ok": false, "error": message }))).into_response()
}

fn save_delay(delay: SaveDelay) -> Duration {
    let span = delay.max - delay.min;
    let random = if span == 0 {
        0
    } else {
        getrandom::u64().unwrap_or(0) % (span + 1)
    };
    Duration::from_millis(delay.min + random)
}

fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).expect("the system's random source");
    buffer.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Fills `{{key}}` placeholders in one pass, so text put in is never read as a placeholder.
/// Values go in as given: the caller escapes what needs it.
fn render(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let key = &after[..end];
                match values.iter().find(|(name, _)| *name == key) {
                    Some((_, value)) => out.push_str(value),
                    None => out.push_str(&rest[start..start + 2 + end + 2]),
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One value of an `application/x-www-form-urlencoded` body (the login form), or "".
fn form_value(body: &str, key: &str) -> String {
    for pair in body.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if percent_decode(name) == key {
            return percent_decode(value);
        }
    }
    String::new()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .filter(|hex| hex.iter().all(u8::is_ascii_hexdigit))
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (bytes[i], escaped) {
            (_, Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', None) => {
                out.push(b' ');
                i += 1;
            }
            (byte, None) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
