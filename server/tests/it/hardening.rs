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
