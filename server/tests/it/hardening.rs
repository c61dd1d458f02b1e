use gatehouse_server::rate_limit::PER_ACCOUNT;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::helpers::{spawn_app, GUARD};

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    let response = reqwest::get(app.url("/api/health")).await.expect("sent");
    let headers = response.headers();
    let policy = headers["content-security-policy"].to_str().expect("ascii");
    assert!(
        policy.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "{policy}"
    );
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
}

#[tokio::test]
async fn oversized_body_is_refused_with_413() {
    let app = spawn_app().await;
    let body = format!(
        r#"{{"username":"guard","password":"{}"}}"#,
        "x".repeat(100 * 1024)
    );
    let response = reqwest::Client::new()
        .post(app.url("/api/sign-in"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn sync_socket_opened_from_another_origin_is_refused() {
    let app = spawn_app().await;
    let mut request = format!("ws://{}/api/sync", app.addr)
        .into_client_request()
        .expect("request");
    request
        .headers_mut()
        .insert("origin", HeaderValue::from_static("https://evil.example"));
    let refused = tokio_tungstenite::connect_async(request).await;
    assert!(refused.is_err(), "cross-origin upgrade must fail");

    let mut request = format!("ws://{}/api/sync", app.addr)
        .into_client_request()
        .expect("request");
    let own = format!("http://{}", app.addr);
    request
        .headers_mut()
        .insert("origin", HeaderValue::from_str(&own).expect("header"));
    assert!(
        tokio_tungstenite::connect_async(request).await.is_ok(),
        "same-origin upgrade works"
    );
}

#[tokio::test]
async fn repeated_wrong_passwords_are_answered_429_even_for_the_right_one() {
    let app = spawn_app().await;
    for _ in 0..PER_ACCOUNT {
        assert_eq!(app.sign_in(("guard", "wrong")).await.status(), 401);
    }
    let blocked = app.sign_in(GUARD).await;
    assert_eq!(blocked.status(), 429);
    assert!(blocked.headers().contains_key("retry-after"));
    let body: serde_json::Value = blocked.json().await.expect("json");
    assert_eq!(body["error"], "sign_in.too_many");
    assert_eq!(
        app.sign_in(("clerk", "clerk-demo-2026")).await.status(),
        200,
        "other accounts still sign in"
    );
}

/// Found by the soak: a phone that closed its socket got no close frame back (1006 instead of
/// a finished closing handshake).
#[tokio::test]
async fn a_device_that_closes_its_socket_gets_the_servers_close_back() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let app = spawn_app().await;
    let guard = app.session(GUARD).await;
    let mut socket = crate::device::Device::connect_ok(app.addr, &guard.token)
        .await
        .expect("connects");
    socket.close(None).await.expect("sends its close");
    let answer = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(_))) | None => return Ok(()),
                Some(Ok(_)) => continue,
                Some(Err(error)) => return Err(error),
            }
        }
    })
    .await
    .expect("the server answers within 5 s");
    assert!(answer.is_ok(), "closing handshake not finished: {answer:?}");
}

#[tokio::test]
async fn a_sync_connection_past_the_limit_is_refused_until_one_closes() {
    let app = crate::helpers::spawn_app_with(|config| config.max_connections = 2).await;
    let guard = app.session(GUARD).await;
    let first = crate::device::Device::connect_ok(app.addr, &guard.token)
        .await
        .expect("first connects");
    let _second = crate::device::Device::connect_ok(app.addr, &guard.token)
        .await
        .expect("second connects");
    let refused = tokio_tungstenite::connect_async(format!("ws://{}/api/sync", app.addr)).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503);
            assert_eq!(response.headers()["retry-after"], "30");
            let body = String::from_utf8_lossy(response.body().as_deref().unwrap_or_default())
                .into_owned();
            assert!(body.contains("error.too_many_connections"), "{body}");
        }
        other => panic!("expected 503, got {other:?}"),
    }
    // One closes: there is room again (once the server has seen it go).
    drop(first);
    let mut again = None;
    for _ in 0..50 {
        if let Ok(socket) = crate::device::Device::connect_ok(app.addr, &guard.token).await {
            again = Some(socket);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(again.is_some(), "a slot was never given back");
}

#[tokio::test]
async fn a_stopping_server_tells_its_connected_devices_and_they_lose_nothing() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;

    let mut app = spawn_app().await;
    let mut phone = crate::device::Device::new();
    let guard = app.session_on(&phone, GUARD).await;
    let id = phone.start_round(
        &guard.user.estate_id,
        &guard.user.id,
        "东门",
        crate::helpers::T0,
    );
    let mut socket = crate::device::Device::connect_ok(app.addr, &guard.token)
        .await
        .expect("connects");
    phone.sync(&mut socket).await.expect("syncs");
    assert!(phone.is_stored(id));

    app.stop().await;
    // The device is told why, with the close code to reconnect later on.
    let closed = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => return frame,
                Some(Ok(_)) => continue,
                other => panic!("socket ended without a close frame: {other:?}"),
            }
        }
    })
    .await
    .expect("told in time");
    let frame = closed.expect("a close frame with a code");
    assert_eq!(u16::from(frame.code), 1012);
    assert_eq!(frame.reason.as_str(), "server restarting");

    // What it acknowledged is there after the restart.
    app.start_again().await;
    let clerk = app.session(crate::helpers::CLERK).await;
    let listed: Vec<gatehouse_shared::RecordSummary> =
        crate::helpers::authed(reqwest::Method::GET, app.url("/api/records"), &clerk.token)
            .send()
            .await
            .expect("lists")
            .json()
            .await
            .expect("json");
    assert!(listed.iter().any(|r| r.doc == id));
}

#[tokio::test]
async fn metrics_are_served_to_the_bearer_of_the_metrics_token_only() {
    let app = crate::helpers::spawn_app_with(|config| {
        config.metrics_token = Some("metrics-token-for-tests".into());
    })
    .await;
    let client = reqwest::Client::new();
    let scrape = |token: Option<&str>| {
        let mut request = client.get(app.url("/metrics"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    assert_eq!(scrape(None).await.expect("answers").status(), 401);
    assert_eq!(scrape(Some("guess")).await.expect("answers").status(), 401);

    // A round stored, and a forged one refused, over one open connection.
    let mut phone = crate::device::Device::new();
    let guard = app.session_on(&phone, GUARD).await;
    phone.start_round(
        &guard.user.estate_id,
        &guard.user.id,
        "东门",
        crate::helpers::T0,
    );
    phone.start_round("another-estate", &guard.user.id, "别处", crate::helpers::T0);
    let mut socket = crate::device::Device::connect_ok(app.addr, &guard.token)
        .await
        .expect("connects");
    phone.sync(&mut socket).await.expect("syncs");
    assert_eq!(phone.errors.len(), 1, "{:?}", phone.errors);

    let response = scrape(Some("metrics-token-for-tests"))
        .await
        .expect("answers");
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("text/plain; version=0.0.4"));
    let text = response.text().await.expect("text");
    for line in [
        "gatehouse_sync_connections 1",
        "gatehouse_documents_stored_total 1",
        "gatehouse_documents 1",
        "# TYPE gatehouse_commit_seconds histogram",
        "gatehouse_commit_seconds_bucket{le=\"+Inf\"}",
    ] {
        assert!(text.contains(line), "no `{line}` in:\n{text}");
    }
    assert!(
        text.contains("gatehouse_refusals_total{code=\"forbidden\""),
        "{text}"
    );
    let frames: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("gatehouse_sync_frames_total "))
        .and_then(|v| v.parse().ok())
        .expect("frames counted");
    assert!(frames >= 1);
}
