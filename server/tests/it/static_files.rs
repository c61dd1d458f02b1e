//! The app's files are served compressed as the browser accepts them, from the brotli and
//! gzip copies `cargo xtask build-client` writes beside each file; the build's code is kept by
//! browsers for good (its folder is named by its hash), the rest checked each time.

use std::io::{Read, Write};

use gatehouse_server::config::Config;
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, VARY};

use crate::helpers::spawn_app_with;

/// What the test serves as the app's wasm (compressible, like real code).
fn wasm_bytes() -> Vec<u8> {
    (0..40_000u32)
        .flat_map(|i| (i % 251).to_le_bytes())
        .collect()
}

const BROTLI_STANDIN: &[u8] = b"brotli bytes as written at build time";

fn with_static_files(config: &mut Config) {
    let dir = config.data_dir.join("static");
    std::fs::create_dir_all(&dir).expect("static dir");
    std::fs::write(dir.join("index.html"), "<!doctype html><title>app</title>").expect("index");
    std::fs::write(dir.join("app_bg.wasm"), wasm_bytes()).expect("wasm");
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(&wasm_bytes()).expect("gzip");
    std::fs::write(dir.join("app_bg.wasm.gz"), gzip.finish().expect("gzip")).expect("gz");
    std::fs::write(dir.join("app_bg.wasm.br"), BROTLI_STANDIN).expect("br");
    let build = dir.join("app").join(BUILD);
    std::fs::create_dir_all(&build).expect("build dir");
    std::fs::write(build.join("app.js"), "export default 1;").expect("app.js");
    std::fs::write(dir.join("sw.js"), "// worker").expect("sw.js");
    config.static_dir = dir;
}

/// The folder `cargo xtask build-client` names by the hash of the build's bytes.
const BUILD: &str = "0123456789abcdef";

#[tokio::test]
async fn the_apps_code_is_kept_for_good_and_the_page_is_checked_each_time() {
    let app = spawn_app_with(with_static_files).await;
    let client = reqwest::Client::new();
    let cache_control = |response: &reqwest::Response| {
        response
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    // A build's file: its name is never reused for other bytes.
    let response = client
        .get(app.url(&format!("/app/{BUILD}/app.js")))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    assert_eq!(
        cache_control(&response),
        "public, max-age=31536000, immutable"
    );
    assert!(response
        .headers()
        .get(VARY)
        .is_some_and(|v| v.to_str().unwrap_or_default().contains("accept-encoding")));
    // A file missing from a build (a deploy half done, an old page's chunk): 404, not
    // kept, and never the page.
    let response = client
        .get(app.url(&format!("/app/{BUILD}/chunk_1.wasm")))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 404);
    assert_ne!(
        cache_control(&response),
        "public, max-age=31536000, immutable"
    );
    // The files that keep their names from build to build are checked each time.
    for path in ["/", "/index.html", "/sw.js", "/some/screen"] {
        let response = client.get(app.url(path)).send().await.expect("sent");
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(cache_control(&response), "no-cache", "{path}");
    }
}

#[tokio::test]
async fn app_files_are_sent_compressed_as_the_browser_accepts() {
    let app = spawn_app_with(with_static_files).await;
    let client = reqwest::Client::new();
    let get = |accept: Option<&'static str>| {
        let mut request = client.get(app.url("/app_bg.wasm"));
        if let Some(accept) = accept {
            request = request.header(ACCEPT_ENCODING, accept);
        }
        request.send()
    };
    let header = |response: &reqwest::Response, name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };

    // Brotli first when the browser takes it; the type stays wasm (streaming compile needs it).
    let response = get(Some("gzip, deflate, br")).await.expect("sent");
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, CONTENT_ENCODING), "br");
    assert_eq!(header(&response, CONTENT_TYPE), "application/wasm");
    assert!(header(&response, VARY)
        .to_lowercase()
        .contains("accept-encoding"));
    assert_eq!(
        response.bytes().await.expect("body").as_ref(),
        BROTLI_STANDIN
    );

    // Gzip otherwise, and it inflates to the file.
    let response = get(Some("gzip")).await.expect("sent");
    assert_eq!(header(&response, CONTENT_ENCODING), "gzip");
    assert!(header(&response, VARY)
        .to_lowercase()
        .contains("accept-encoding"));
    let body = response.bytes().await.expect("body");
    let mut inflated = Vec::new();
    flate2::read::GzDecoder::new(body.as_ref())
        .read_to_end(&mut inflated)
        .expect("inflates");
    assert_eq!(inflated, wasm_bytes());

    // A client that takes neither gets the file itself.
    let response = get(None).await.expect("sent");
    assert_eq!(header(&response, CONTENT_ENCODING), "");
    assert_eq!(response.bytes().await.expect("body").to_vec(), wasm_bytes());
}

#[tokio::test]
async fn unknown_paths_are_404_and_only_navigations_get_the_app_page() {
    let app = spawn_app_with(with_static_files).await;
    let client = reqwest::Client::new();
    // An API path that does not exist, by any method: a JSON 404, never the page.
    for (method, path) in [
        (reqwest::Method::GET, "/api/nothing"),
        (reqwest::Method::POST, "/api/nothing/deeper"),
        (reqwest::Method::GET, "/api"),
        (reqwest::Method::GET, "/api/"),
        (reqwest::Method::GET, "/api/admin/nothing"),
    ] {
        let response = client
            .request(method.clone(), app.url(path))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 404, "{method} {path}");
        let body: serde_json::Value = response.json().await.expect("JSON");
        assert_eq!(body["error"], "error.not_found", "{method} {path}");
    }
    // A missing file: 404, not the page (a browser would take the page for an icon).
    for path in ["/favicon.ico", "/missing.js", "/deep/path/chunk_9.wasm"] {
        let response = client.get(app.url(path)).send().await.expect("sent");
        assert_eq!(response.status(), 404, "{path}");
    }
    // A navigation to a path of the app: the page.
    for path in ["/", "/records", "/some/screen"] {
        let response = client.get(app.url(path)).send().await.expect("sent");
        assert_eq!(response.status(), 200, "{path}");
        assert!(response
            .text()
            .await
            .expect("body")
            .contains("<title>app</title>"));
    }
    // Known API routes still answer as before.
    let health = client
        .get(app.url("/api/health"))
        .send()
        .await
        .expect("sent");
    assert_eq!(health.status(), 200);
}
