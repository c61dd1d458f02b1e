use std::time::Duration;

use futures_util::SinkExt;
use gatehouse_shared::protocol::{self, ClientMessage, ErrorCode, ServerMessage};
use gatehouse_shared::record::release_slip::{Applicant, ReleaseSlip, SlipItem};
use gatehouse_shared::{RecordSummary, UserInfo};
use tokio_tungstenite::tungstenite::Message;

use crate::device::{assert_hello_refused, next_message, remark, visit, Device};
use crate::helpers::{spawn_app, spawn_app_with, TestApp, CLERK, GUARD, T0};

async fn office_list(app: &TestApp, token: &str) -> Vec<RecordSummary> {
    let response = reqwest::Client::new()
        .get(app.url("/api/records"))
        .bearer_auth(token)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    response.json().await.expect("records")
}

#[tokio::test]
async fn records_written_offline_reach_the_server_and_the_office_newest_first() {
    let app = spawn_app().await;
    let mut phone = Device::new();
    let guard = app.session_on(&phone, GUARD).await;
    // Written with no connection at all.
    let ids: Vec<_> = (0..5)
        .map(|i| {
            phone.start_round(
                &guard.user.estate_id,
                &guard.user.id,
                &format!("round {i}"),
                T0 + i * 60_000,
            )
        })
        .collect();

    let mut socket = Device::connect_ok(app.addr, &guard.token)
        .await
        .expect("connects");
    let traffic = phone.sync(&mut socket).await.expect("syncs");
    // Records the server never had go whole in the first frame.
    assert_eq!(traffic.round_trips, 1, "{traffic:?}");
    for id in &ids {
        assert!(phone.is_stored(*id), "{id} acknowledged at its heads");
    }

    let clerk = app.session(CLERK).await;
    let listed = office_list(&app, &clerk.token).await;
    let titles: Vec<_> = listed.iter().map(|r| r.title.as_str()).collect();
    assert_eq!(
        titles,
        ["round 4", "round 3", "round 2", "round 1", "round 0"]
    );
    assert!(listed
        .iter()
        .all(|r| r.first_received_at > 0 && r.author_name == "王保安"));
}

#[tokio::test]
async fn the_office_list_pages_through_every_record_once_in_order() {
    let app = spawn_app().await;
    let mut phone = Device::new();
    let guard = app.session_on(&phone, GUARD).await;
    // Seven rounds, two of them started at the same moment (ordered by document ID then).
    for i in 0..7 {
        let at = T0 + (i / 2) * 60_000;
        phone.start_round(
            &guard.user.estate_id,
            &guard.user.id,
            &format!("round {i}"),
            at,
        );
    }
    let mut socket = Device::connect_ok(app.addr, &guard.token)
        .await
        .expect("connects");
    phone.sync(&mut socket).await.expect("syncs");
    let clerk = app.session(CLERK).await;
    let everything = office_list(&app, &clerk.token).await;
    assert_eq!(everything.len(), 7);

    let client = reqwest::Client::new();
    let mut paged: Vec<RecordSummary> = Vec::new();
    let mut pages = 0;
    loop {
        let mut url = app.url("/api/records?limit=3");
        if let Some(last) = paged.last() {
            url.push_str(&format!(
                "&after_started_at={}&after_doc={}",
                last.started_at, last.doc
            ));
        }
        let page: Vec<RecordSummary> = client
            .get(url)
            .bearer_auth(&clerk.token)
            .send()
            .await
            .expect("sent")
            .json()
            .await
            .expect("records");
        pages += 1;
        let last_page = page.len() < 3;
        paged.extend(page);
        if last_page {
            break;
        }
    }
    assert_eq!(pages, 3);
    let ids = |list: &[RecordSummary]| list.iter().map(|r| r.doc).collect::<Vec<_>>();
    assert_eq!(ids(&paged), ids(&everything));

    // A cursor with half of its parts, or not a document ID, is refused.
    let doc = everything[0].doc;
    let not_a_time = format!("after_started_at=soon&after_doc={doc}");
    for query in [
        "after_started_at=5",
        "after_doc=x&after_started_at=5",
        "after_doc=abc",
        not_a_time.as_str(),
    ] {
        let response = client
            .get(app.url(&format!("/api/records?{query}")))
            .bearer_auth(&clerk.token)
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 400, "{query}");
    }
}

#[tokio::test]
async fn concurrent_remark_and_offline_visit_both_survive() {
    let app = spawn_app().await;
    let mut phone = Device::new();
    let guard = app.session_on(&phone, GUARD).await;
    let mut desk = Device::new();
    let clerk = app.session_on(&desk, CLERK).await;
    let id = phone.start_round(&guard.user.estate_id, &guard.user.id, "night", T0);
    {
        let mut socket = Device::connect_ok(app.addr, &guard.token)
            .await
            .expect("connects");
        phone.sync(&mut socket).await.expect("first sync");
    }

    // The guard goes offline and adds a visit; meanwhile the office adds a remark.
    phone.edit(id, T0 + 1000, |log| {
        log.visits
            .push(visit(&guard.user.id, "Gate 2", T0 + 1000, ""))
    });
    desk.follow(id);
    let mut desk_socket = Device::connect_ok(app.addr, &clerk.token)
        .await
        .expect("connects");
    desk.sync(&mut desk_socket).await.expect("desk fetches");
    desk.edit(id, T0 + 2000, |log| {
        log.remarks
            .push(remark(&clerk.user.id, "Checked", T0 + 2000))
    });
    desk.sync(&mut desk_socket)
        .await
        .expect("desk sends remark");

    phone.session.disconnected();
    let mut socket = Device::connect_ok(app.addr, &guard.token)
        .await
        .expect("reconnects");
    phone.sync(&mut socket).await.expect("guard syncs");
    let on_phone = phone.read(id);
    assert_eq!(on_phone.visits.len(), 1);
    assert_eq!(on_phone.remarks.len(), 1);
    assert!(
        phone.is_stored(id),
        "the server acknowledged the merged round; errors: {:?}",
        phone.errors
    );

    // The desk is still connected and receives the guard's visit by push, marked as pushed
    // (not the reply to a frame it sent).
    let mut seen = Vec::new();
    let pushed = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            let message = next_message(&mut desk_socket)
                .await
                .expect("reads")
                .expect("open");
            seen.push(format!("{message:?}").chars().take(120).collect::<String>());
            let marked = matches!(message, ServerMessage::Sync { pushed: true, .. });
            desk.handle(message).expect("handles");
            if desk.read(id).visits.len() == 1 {
                assert!(marked, "a push must say it is one");
                break;
            }
        }
    })
    .await;
    assert!(
        pushed.is_ok(),
        "desk never received the guard's visit; it received: {seen:#?}"
    );
    assert_eq!(desk.read(id), phone.read(id));
}

/// Protocol version 3: the frame that brings the server to the phone's heads is answered by
/// `stored` alone, its reply holding no message for those documents; version 2 still gets
/// them. Either way twenty new rounds take one round trip, and a remark written later at
/// the desk is still pushed to the phone, whose next visit is stored in one more.
#[tokio::test]
async fn in_version_3_stored_stands_for_the_reply_and_pushes_still_arrive() {
    let app = spawn_app().await;
    let mut desk = Device::new();
    let clerk = app.session_on(&desk, CLERK).await;
    let mut desk_socket = Device::connect_ok(app.addr, &clerk.token)
        .await
        .expect("desk connects");
    let mut bytes_down = Vec::new();
    for version in [2, 3] {
        let mut phone = Device::new();
        let guard = app.session_on(&phone, GUARD).await;
        let ids: Vec<_> = (0..20)
            .map(|i| phone.start_round(&guard.user.estate_id, &guard.user.id, "night", T0 + i))
            .collect();
        let (mut socket, welcome) = Device::connect(app.addr, &guard.token, &[version])
            .await
            .expect("connects");
        assert!(
            matches!(welcome, ServerMessage::Welcome { version: v, .. } if v == version),
            "{welcome:?}"
        );
        let traffic = phone.sync(&mut socket).await.expect("syncs");
        assert_eq!(traffic.round_trips, 1, "version {version}");
        assert!(
            ids.iter().all(|id| phone.is_stored(*id)),
            "version {version}"
        );
        let replies: Vec<usize> = phone
            .frames
            .iter()
            .filter_map(|frame| match protocol::decode::<ServerMessage>(frame) {
                Ok(ServerMessage::Sync {
                    docs,
                    pushed: false,
                    ..
                }) => Some(docs.len()),
                _ => None,
            })
            .collect();
        let expected = if version == 3 { [0] } else { [20] };
        assert_eq!(
            replies, expected,
            "messages in each reply, version {version}"
        );
        bytes_down.push(traffic.bytes_down);

        // The desk writes a remark: it reaches the phone as a push.
        desk.follow(ids[0]);
        desk.sync(&mut desk_socket).await.expect("desk fetches");
        desk.edit(ids[0], T0 + 60_000, |log| {
            log.remarks
                .push(remark(&clerk.user.id, "已核实", T0 + 60_000))
        });
        desk.sync(&mut desk_socket).await.expect("desk sends");
        tokio::time::timeout(Duration::from_secs(15), async {
            while phone.read(ids[0]).remarks.is_empty() {
                let message = next_message(&mut socket)
                    .await
                    .expect("reads")
                    .expect("open");
                phone.handle(message).expect("handles");
            }
        })
        .await
        .unwrap_or_else(|_| panic!("version {version}: the remark was never pushed"));
        phone.sync(&mut socket).await.expect("answers the push");
        assert!(phone.is_stored(ids[0]), "version {version}");

        phone.edit(ids[1], T0 + 120_000, |log| {
            log.visits
                .push(visit(&guard.user.id, "东门", T0 + 120_000, ""))
        });
        let traffic = phone.sync(&mut socket).await.expect("syncs the visit");
        assert_eq!(traffic.round_trips, 1, "version {version}");
        assert!(phone.is_stored(ids[1]), "version {version}");
    }
    assert!(
        bytes_down[1] < bytes_down[0],
        "version 3 sends less: {bytes_down:?}"
    );
}

#[tokio::test]
async fn office_connection_receives_new_records_as_they_arrive() {
    let app = spawn_app().await;
    let mut phone = Device::new();
    let guard = app.session_on(&phone, GUARD).await;
    let clerk = app.session(CLERK).await;
    let mut desk_socket = Device::connect_ok(app.addr, &clerk.token)
        .await
        .expect("desk connects");
    let id = phone.start_round(&guard.user.estate_id, &guard.user.id, "east gate", T0);
    let mut socket = Device::connect_ok(app.addr, &guard.token)
        .await
        .expect("connects");
    phone.sync(&mut socket).await.expect("syncs");
    let record = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Some(ServerMessage::Records { records }) =
                next_message(&mut desk_socket).await.expect("reads")
            {
                return records;
            }
        }
    })
    .await
    .expect("desk told of the record");
    assert_eq!(record[0].doc, id);
    assert_eq!(record[0].title, "east gate");
}

#[tokio::test]
async fn a_connection_that_falls_behind_is_told_to_resync_and_its_list_catches_up() {
    // Room for two change events. The desk itself stores a frame of sixty new slips: its
    // connection is busy waiting for that store while the sixty changes are announced, so
    // its queue is certainly full. (Sixty rounds from another phone did not do it every time:
    // on a loaded machine each announcement woke the desk's task, which then kept up.)
    let app = spawn_app_with(|config| config.change_events = 2).await;
    let mut desk = Device::new();
    let clerk = app.session_on(&desk, CLERK).await;
    let ids: Vec<_> = (0..60)
        .map(|i| desk.start(&new_slip(&clerk.user, &format!("12-{i:04}")), T0 + i))
        .collect();
    let mut desk_socket = Device::connect_ok(app.addr, &clerk.token)
        .await
        .expect("desk connects");
    desk.sync(&mut desk_socket).await.expect("syncs");
    assert!(
        ids.iter().all(|id| desk.is_stored(*id)),
        "{:?}",
        desk.errors
    );

    let mut pushed = 0;
    let told = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match next_message(&mut desk_socket).await.expect("reads") {
                Some(ServerMessage::Resync) => return,
                Some(ServerMessage::Records { records }) => pushed += records.len(),
                Some(_) => {}
                None => panic!("desk socket closed"),
            }
        }
    })
    .await;
    assert!(told.is_ok(), "the desk was never told it missed changes");
    assert!(
        pushed < ids.len(),
        "the desk was not behind: {pushed} pushed"
    );
    // What the app then reloads holds every slip.
    let listed = office_list(&app, &clerk.token).await;
    for id in &ids {
        assert!(listed.iter().any(|r| r.doc == *id), "{id} not listed");
    }
}

/// A release slip the office writes for `unit`, not yet approved.
fn new_slip(user: &UserInfo, unit: &str) -> ReleaseSlip {
    ReleaseSlip::new(
        &user.estate_id,
        &user.id,
        &user.display_name,
        unit,
        "赵租户",
        Applicant::Tenant,
        "2026-06-01",
        "2026-06-02",
        vec![SlipItem {
            id: "desk".into(),
            what: "办公桌".into(),
            quantity: 1,
        }],
        T0,
    )
    .expect("valid slip")
}

#[tokio::test]
async fn nothing_is_lost_when_the_server_restarts_between_syncs() {
    let mut app = spawn_app().await;
    let mut phone = Device::new();
    let guard = app.session_on(&phone, GUARD).await;
    let first = phone.start_round(&guard.user.estate_id, &guard.user.id, "before restart", T0);
    {
        let mut socket = Device::connect_ok(app.addr, &guard.token)
            .await
            .expect("connects");
        phone.sync(&mut socket).await.expect("syncs");
        socket.close(None).await.expect("closes");
    }
    app.restart().await;

    phone.session.disconnected();
    phone.edit(first, T0 + 5, |log| {
        log.visits.push(visit(&guard.user.id, "Lobby", T0 + 5, ""))
    });
    let second = phone.start_round(
        &guard.user.estate_id,
        &guard.user.id,
        "after restart",
        T0 + 10,
    );
    let mut socket = Device::connect_ok(app.addr, &guard.token)
        .await
        .expect("session survives restart");
    phone.sync(&mut socket).await.expect("syncs");
    assert!(phone.is_stored(first) && phone.is_stored(second));

    // A fresh device that follows both documents receives everything from the database.
    let mut other = Device::new();
    other.follow(first);
    other.follow(second);
    other.sync(&mut socket).await.expect("fetches");
    assert_eq!(other.read(first).visits.len(), 1);
    assert_eq!(other.read(second).route, "after restart");
}

#[tokio::test]
async fn sync_without_a_valid_token_is_refused() {
    let app = spawn_app().await;
    assert_hello_refused(app.addr, "not-a-token", ErrorCode::Unauthorized).await;
}

#[tokio::test]
async fn device_speaking_only_a_future_version_is_told_to_update() {
    let app = spawn_app().await;
    let guard = app.session(GUARD).await;
    let (_, answer) = Device::connect(app.addr, &guard.token, &[99])
        .await
        .expect("answers");
    match answer {
        ServerMessage::Error {
            code: ErrorCode::UnsupportedVersion,
            supported,
            ..
        } => assert_eq!(supported, [1, 2, 3]),
        other => panic!("expected unsupported_version, got {other:?}"),
    }
}

#[tokio::test]
async fn garbage_frame_gets_an_error_and_the_connection_keeps_serving() {
    let app = spawn_app().await;
    let guard = app.session(GUARD).await;
    let mut socket = Device::connect_ok(app.addr, &guard.token)
        .await
        .expect("connects");
    socket
        .send(Message::Binary(vec![0xff, 0x13, 0x37].into()))
        .await
        .expect("sent");
    let answer = next_message(&mut socket)
        .await
        .expect("reads")
        .expect("open");
    assert!(
        matches!(
            answer,
            ServerMessage::Error {
                code: ErrorCode::Malformed,
                fatal: false,
                ..
            }
        ),
        "{answer:?}"
    );
    socket
        .send(Message::Binary(
            protocol::encode(&ClientMessage::Ping { nonce: 7 }).into(),
        ))
        .await
        .expect("sent");
    let pong = next_message(&mut socket)
        .await
        .expect("reads")
        .expect("open");
    assert_eq!(pong, ServerMessage::Pong { nonce: 7 });
}

#[tokio::test]
async fn record_claiming_another_estate_is_refused_and_not_stored() {
    let app = spawn_app().await;
    let mut phone = Device::new();
    let guard = app.session_on(&phone, GUARD).await;
    let clerk = app.session(CLERK).await;
    phone.start_round("some-other-estate", &guard.user.id, "sneaky", T0);
    let mut socket = Device::connect_ok(app.addr, &guard.token)
        .await
        .expect("connects");
    phone.sync(&mut socket).await.expect("exchange completes");
    assert!(phone.errors.iter().any(|e| matches!(
        e,
        ServerMessage::Error {
            code: ErrorCode::Forbidden,
            ..
        }
    )));
    assert!(office_list(&app, &clerk.token).await.is_empty());
}
