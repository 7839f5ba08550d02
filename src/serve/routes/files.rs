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

/// Uploads a file into the ask's folder: the body is the file, `?name=` its name.
pub(super) async fn upload(
    State(app): State<Arc<App>>,
    Path((id, var)): Path<(String, String)>,
    Query(q): Query<UploadQuery>,
    body: axum::body::Bytes,
) -> ApiResult<inputs::InputFile> {
    blocking(app, move |app| {
        let (scenario, ask) = scenario_and_ask(app, &id, &var)?;
        inputs::save(&scenario, &ask, &q.name, &body).map_err(ApiError::from)
    })
    .await
    .map(Json)
}
