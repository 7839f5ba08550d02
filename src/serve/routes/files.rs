//! The files a scenario asks for (`[[ask]]`): listing and uploading (see `serve::inputs`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;

use super::{ApiError, ApiResult, blocking};
use crate::serve::{App, catalog, inputs};

fn scenario_and_ask(
    app: &App,
    id: &str,
    var: &str,
) -> Result<(crate::scenario::Scenario, crate::scenario::Ask), ApiError> {
    let scenario = catalog::find(&app.config.scenarios_dir, id)
        .ok_or_else(|| ApiError::not_found(format!("no scenario {id:?}")))?;
    let ask = inputs::ask(&scenario, var)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("scenario {id:?} asks for no {var:?}")))?;
    Ok((scenario, ask))
}

/// The files a scenario's ask offers, newest first.
pub(super) async fn input_files(
    State(app): State<Arc<App>>,
    Path((id, var)): Path<(String, String)>,
) -> ApiResult<Vec<inputs::InputFile>> {
    blocking(app, move |app| {
        let (scenario, ask) = scenario_and_ask(app, &id, &var)?;
        Ok(inputs::list(&scenario, &ask))
    })
    .await
    .map(Json)
}

#[derive(Debug, Deserialize)]
pub(super) struct UploadQuery {
    name: String,
}

/// Uploads a file into the ask's folder: the body is the file, `?name=` its name. The body is
/// written as it arrives, on a blocking thread fed a few chunks at a time, and reading stops
/// at the ask's `max_mb`.
pub(super) async fn upload(
    State(app): State<Arc<App>>,
    Path((id, var)): Path<(String, String)>,
    Query(q): Query<UploadQuery>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> ApiResult<inputs::InputFile> {
    use futures_util::StreamExt;
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    let saving = blocking(app, move |app| {
        let (scenario, ask) = scenario_and_ask(app, &id, &var)?;
        let mut arriving = inputs::Arriving::new(rx);
        inputs::save(&scenario, &ask, &q.name, &mut arriving, declared).map_err(ApiError::from)
    });
    let feeding = async move {
        let mut chunks = body.into_data_stream();
        while let Some(chunk) = chunks.next().await {
            // The writer has stopped (refused, or done): the rest is not read.
            if tx.send(chunk.map_err(|e| e.to_string())).await.is_err() {
                break;
            }
        }
    };
    let (saved, ()) = tokio::join!(saving, feeding);
    saved.map(Json)
}
