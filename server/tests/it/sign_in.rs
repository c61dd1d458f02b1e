use gatehouse_shared::Role;

use crate::helpers::{spawn_app, CLERK, GUARD};

#[tokio::test]
async fn sign_in_with_right_password_returns_a_token_and_the_user() {
    let app = spawn_app().await;
    let session = app.session(GUARD).await;
    assert_eq!(session.user.role, Role::Guard);
    assert_eq!(session.user.estate_id, "demo-estate");
    assert!(session.token.len() >= 40);

    let me = reqwest::Client::new()
        .get(app.url("/api/me"))
        .bearer_auth(&session.token)
        .send()
        .await
        .expect("sent");
    assert_eq!(me.status(), 200);
}

#[tokio::test]
async fn sign_in_with_wrong_password_or_unknown_user_is_refused() {
    let app = spawn_app().await;
    let wrong = app.sign_in(("guard", "not-the-password")).await;
    assert_eq!(wrong.status(), 401);
    let body: serde_json::Value = wrong.json().await.expect("json body");
    assert_eq!(body["error"], "sign_in.invalid");
    assert_eq!(app.sign_in(("nobody", "whatever")).await.status(), 401);
}

#[tokio::test]
async fn signed_out_token_no_longer_works() {
    let app = spawn_app().await;
    let session = app.session(CLERK).await;
    let client = reqwest::Client::new();
    let out = client
        .post(app.url("/api/sign-out"))
        .bearer_auth(&session.token)
        .send()
        .await
        .expect("sent");
    assert_eq!(out.status(), 204);
    let list = client
        .get(app.url("/api/records"))
        .bearer_auth(&session.token)
        .send()
        .await
        .expect("sent");
    assert_eq!(list.status(), 401);
}

#[tokio::test]
async fn guard_may_not_list_the_office_records() {
    let app = spawn_app().await;
    let session = app.session(GUARD).await;
    let list = reqwest::Client::new()
        .get(app.url("/api/records"))
        .bearer_auth(&session.token)
        .send()
        .await
        .expect("sent");
    assert_eq!(list.status(), 403);
}
