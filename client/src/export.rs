//! Exports the records that have not reached the server as a file the user keeps, for when
//! the phone can no longer sync them (signed out, session expired, device revoked).

use gatehouse_shared::DocumentId;
use serde::Serialize;
use wasm_bindgen::JsCast;

use crate::model::Model;

#[derive(Serialize)]
struct ExportFile {
    format: &'static str,
    exported_at: i64,
    records: Vec<ExportedRecord>,
}

#[derive(Serialize)]
struct ExportedRecord {
    id: String,
    owner: Option<String>,
    /// The record's kind (`patrol_log`), title, unit, author and start, when readable.
    kind: Option<&'static str>,
    title: Option<String>,
    unit: Option<String>,
    author_name: Option<String>,
    started_at: Option<i64>,
    /// The whole Automerge document (every change, with actor and device time), base64.
    automerge_base64: String,
    /// Versions the server refused, base64, kept with the record.
    set_aside_base64: Vec<String>,
}

fn base64(bytes: &[u8]) -> String {
    // `btoa` takes a string of code points 0..=255, one per byte.
    let binary: String = bytes.iter().map(|b| char::from(*b)).collect();
    web_sys::window()
        .and_then(|w| w.btoa(&binary).ok())
        .unwrap_or_default()
}

/// The export file's contents for `ids`.
pub fn export_json(model: &Model, ids: &[DocumentId], now: i64) -> String {
    let records = ids
        .iter()
        .filter_map(|id| {
            let record = model.records.get(id)?;
            let shown = record.shown();
            let header = shown.as_ref().map(|r| r.header());
            Some(ExportedRecord {
                id: id.to_string(),
                owner: record.owner.clone(),
                kind: header.map(|h| h.kind.as_str()),
                title: header.map(|h| h.title.to_owned()),
                unit: header.map(|h| h.unit.to_owned()),
                author_name: header.map(|h| h.author_name.to_owned()),
                started_at: header.map(|h| h.started_at),
                automerge_base64: base64(&record.doc.save()),
                set_aside_base64: record.set_aside.iter().map(|s| base64(&s.doc)).collect(),
            })
        })
        .collect();
    let file = ExportFile {
        format: "gatehouse-unsynced-records-v2",
        exported_at: now,
        records,
    };
    serde_json::to_string_pretty(&file).unwrap_or_default()
}

/// Offers `contents` as a download named `name`.
pub fn download(name: &str, contents: &str) -> Result<(), wasm_bindgen::JsValue> {
    download_as(name, "application/json", contents)
}

/// Offers `contents` as a file of type `mime`.
pub fn download_as(name: &str, mime: &str, contents: &str) -> Result<(), wasm_bindgen::JsValue> {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(contents));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| wasm_bindgen::JsValue::from_str("no document"))?;
    let anchor: web_sys::HtmlAnchorElement = document.create_element("a")?.dyn_into()?;
    anchor.set_href(&url);
    anchor.set_download(name);
    anchor.click();
    web_sys::Url::revoke_object_url(&url)?;
    Ok(())
}
