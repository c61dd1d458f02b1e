//! A found item registered offline on a cleaner's phone, witnessed and signed, handed to the
//! desk, confirmed with a recount, and claimed with an ID check and a signed receipt; forged
//! steps refused; and who may see it.

use gatehouse_shared::protocol::{ErrorCode, ServerMessage};
use gatehouse_shared::record::found_item::{
    Category, Claim, ClaimOutcome, ClaimantDescription, Confirmation, ContentKind, Count,
    CountStage, CountedItem, CustodyMove, FoundItem, FoundItemPeriods, Holder, IdType,
};
use gatehouse_shared::signature::{Purpose, Signature, SignerRole, Stroke, Unsigned};
use gatehouse_shared::user::EstateSettings;
use gatehouse_shared::{DocumentId, Problem, RecordKind, RecordSummary, Role};

use crate::device::{entry_id, Device};
use crate::helpers::{authed, spawn_app, TestApp, ADMIN, CLEANER, CLERK, GUARD, T0};

const MINUTE: i64 = 60_000;

/// A signature of `purpose` over `subject` by someone in `role`, taken on `device`.
#[allow(clippy::too_many_arguments)]
fn signs(
    device: &Device,
    record: &FoundItem,
    doc: DocumentId,
    author: &str,
    purpose: Purpose,
    subject: &str,
    role: SignerRole,
    at: i64,
) -> Signature {
    let content = record
        .content_for(purpose, subject)
        .expect("subject exists");
    let stroke = Stroke {
        width: 320,
        height: 160,
        lines: vec![vec![(20, 100), (80, 40), (150, 120)]],
    }
    .encode();
    let id = entry_id().to_string();
    Signature::sign_with_seed(
        &Unsigned {
            id: &id,
            author,
            purpose,
            subject,
            signer_role: role,
            // The witness signs as the count names them.
            signer_name: match role {
                SignerRole::Witness => "王保安",
                SignerRole::Finder => "刘阿姨",
                _ => "张女士",
            },
            stroke: &stroke,
            content_hash: content.hash(),
            signed_at: at,
            document: doc,
            device_id: &device.device_id,
        },
        &device.seed,
    )
}

fn contents() -> Vec<CountedItem> {
    vec![
        CountedItem {
            what: "现金".into(),
            content: ContentKind::Cash,
            quantity: 1,
            amount_fen: 52_000,
        },
        CountedItem {
            what: "身份证".into(),
            content: ContentKind::IdDocument,
            quantity: 1,
            amount_fen: 0,
        },
    ]
}

/// The cleaner's phone with a handbag registered and counted, witnessed and signed by both,
/// and (if `hand_over`) handed to the desk; nothing synced yet.
async fn registered(
    app: &TestApp,
    hand_over: bool,
    t0: i64,
) -> (Device, String, String, DocumentId) {
    let mut phone = Device::new();
    let cleaner = app.session_on(&phone, CLEANER).await;
    let user = cleaner.user.id.clone();
    let item = FoundItem::register(
        &cleaner.user.estate_id,
        &user,
        "刘阿姨",
        "黑色皮质手提包",
        Category::Bag,
        "A座",
        "15楼",
        "4号卫生间",
        "门后挂钩",
        t0,
        t0 + MINUTE,
    )
    .expect("valid");
    let id = phone.start(&item, t0 + MINUTE);
    let count = Count {
        id: entry_id().to_string(),
        author: user.clone(),
        corrects: None,
        stage: CountStage::Registration,
        items: contents(),
        witness_name: "王保安".into(),
        counted_at: t0 + 2 * MINUTE,
    };
    let count_id = count.id.clone();
    phone.edit_kind(id, t0 + 2 * MINUTE, |r: &mut FoundItem| {
        r.counts.push(count)
    });
    let record: FoundItem = phone.read_kind(id);
    let finder = signs(
        &phone,
        &record,
        id,
        &user,
        Purpose::FoundItemCount,
        &count_id,
        SignerRole::Finder,
        t0 + 3 * MINUTE,
    );
    let witness = signs(
        &phone,
        &record,
        id,
        &user,
        Purpose::FoundItemCount,
        &count_id,
        SignerRole::Witness,
        t0 + 3 * MINUTE,
    );
    phone.edit_kind(id, t0 + 3 * MINUTE, |r: &mut FoundItem| {
        r.signatures.extend([finder, witness])
    });
    if hand_over {
        let handover = handover(&user, t0 + 10 * MINUTE);
        phone.edit_kind(id, t0 + 10 * MINUTE, |r: &mut FoundItem| {
            r.moves.push(handover)
        });
    }
    (phone, cleaner.token, user, id)
}

fn handover(user: &str, at: i64) -> CustodyMove {
    CustodyMove {
        id: entry_id().to_string(),
        author: user.to_owned(),
        corrects: None,
        to: Holder::Desk,
        holder_name: String::new(),
        place: String::new(),
        note: String::new(),
        moved_at: at,
    }
}

async fn sync(device: &mut Device, app: &TestApp, token: &str) {
    let mut socket = Device::connect_ok(app.addr, token).await.expect("connects");
    device.sync(&mut socket).await.expect("syncs");
}

fn refused_with(device: &Device, id: DocumentId, path: &str, key: &str) -> bool {
    device.refusal(id).is_some_and(|(code, problems)| {
        matches!(code, ErrorCode::Rejected | ErrorCode::Forbidden)
            && problems
                .iter()
                .any(|Problem { path: p, key: k }| p == path && k.as_str() == key)
    })
}

/// The desk's receipt with its own count (`items`).
fn confirm(desk: &mut Device, id: DocumentId, clerk: &str, items: Vec<CountedItem>, at: i64) {
    let record: FoundItem = desk.read_kind(id);
    let count = Count {
        id: entry_id().to_string(),
        author: clerk.to_owned(),
        corrects: None,
        stage: CountStage::Desk,
        items,
        witness_name: String::new(),
        counted_at: at,
    };
    let confirmation = Confirmation {
        id: entry_id().to_string(),
        author: clerk.to_owned(),
        corrects: None,
        move_id: record.handover().expect("handed over").id.clone(),
        count: count.id.clone(),
        holder_name: "李客服".into(),
        confirmed_at: at,
    };
    desk.edit_kind(id, at, |r: &mut FoundItem| {
        r.counts.push(count);
        r.confirmations.push(confirmation);
    });
}

/// The desk hands the item to the police at `at`, the officer signing as receiver.
fn hand_to_police(desk: &mut Device, id: DocumentId, clerk: &str, at: i64) {
    let police = CustodyMove {
        id: entry_id().to_string(),
        author: clerk.to_owned(),
        corrects: None,
        to: Holder::Police,
        holder_name: "派出所 赵警官".into(),
        place: String::new(),
        note: String::new(),
        moved_at: at,
    };
    let move_id = police.id.clone();
    desk.edit_kind(id, at, |r: &mut FoundItem| r.moves.push(police));
    let record: FoundItem = desk.read_kind(id);
    let receiver = signs(
        desk,
        &record,
        id,
        clerk,
        Purpose::FoundItemDisposal,
        &move_id,
        SignerRole::Receiver,
        at,
    );
    desk.edit_kind(id, at, |r: &mut FoundItem| r.signatures.push(receiver));
}

fn claim_of(record: &FoundItem, clerk: &str, description: &str, at: i64) -> Claim {
    Claim {
        id: entry_id().to_string(),
        author: clerk.to_owned(),
        corrects: None,
        description: description.to_owned(),
        claimant_name: "张女士".into(),
        claimant_phone: "13800001111".into(),
        id_type: IdType::ResidentCard,
        id_number: "110101199001011234".into(),
        id_checked: true,
        handed: record.listed_contents().to_vec(),
        outcome: ClaimOutcome::Full,
        note: String::new(),
        claimed_at: at,
    }
}

fn describe(clerk: &str, at: i64) -> ClaimantDescription {
    ClaimantDescription {
        id: entry_id().to_string(),
        author: clerk.to_owned(),
        corrects: None,
        claimant_name: "张女士".into(),
        description: "黑色手提包，有身份证和五百多元现金".into(),
        described_at: at,
    }
}

#[tokio::test]
async fn a_handbag_goes_from_the_cleaner_through_the_desk_to_its_owner_on_record() {
    let app = spawn_app().await;
    let (mut phone, token, _, id) = registered(&app, true, T0).await;
    sync(&mut phone, &app, &token).await;
    assert!(phone.errors.is_empty(), "{:?}", phone.errors);
    assert!(phone.is_stored(id));

    // The desk receives it with a recount that finds ¥100 less: recorded, not refused.
    let mut desk = Device::new();
    let clerk = app.session_on(&desk, CLERK).await;
    desk.follow(id);
    sync(&mut desk, &app, &clerk.token).await;
    let mut less = contents();
    less[0].amount_fen = 42_000;
    confirm(&mut desk, id, &clerk.user.id, less, T0 + 20 * MINUTE);
    sync(&mut desk, &app, &clerk.token).await;
    assert!(desk.errors.is_empty(), "{:?}", desk.errors);
    assert!(desk.is_stored(id));

    // The claimant describes it, shows ID, and signs for it on the desk's device.
    let description = describe(&clerk.user.id, T0 + 60 * MINUTE);
    let description_id = description.id.clone();
    desk.edit_kind(id, T0 + 60 * MINUTE, |r: &mut FoundItem| {
        r.descriptions.push(description)
    });
    let record: FoundItem = desk.read_kind(id);
    let claim = claim_of(&record, &clerk.user.id, &description_id, T0 + 65 * MINUTE);
    let claim_id = claim.id.clone();
    desk.edit_kind(id, T0 + 65 * MINUTE, |r: &mut FoundItem| {
        r.claims.push(claim)
    });
    let record: FoundItem = desk.read_kind(id);
    let receipt = signs(
        &desk,
        &record,
        id,
        &clerk.user.id,
        Purpose::FoundItemReceipt,
        &claim_id,
        SignerRole::Claimant,
        T0 + 65 * MINUTE,
    );
    desk.edit_kind(id, T0 + 65 * MINUTE, |r: &mut FoundItem| {
        r.signatures.push(receipt)
    });
    sync(&mut desk, &app, &clerk.token).await;
    assert!(desk.errors.is_empty(), "{:?}", desk.errors);
    assert!(desk.is_stored(id));

    let listed: Vec<RecordSummary> = authed(
        reqwest::Method::GET,
        app.url("/api/records?kind=found_item"),
        &clerk.token,
    )
    .send()
    .await
    .expect("lists")
    .json()
    .await
    .expect("json");
    let row = listed.iter().find(|r| r.doc == id).expect("listed");
    assert_eq!(row.kind, RecordKind::FoundItem);
    assert_eq!(row.status, "claimed");
    assert_eq!(row.title, "黑色皮质手提包");
    assert!(matches!(
        &row.detail,
        gatehouse_shared::record::SummaryDetail::FoundItem { count_mismatch: true, holder_name, .. } if holder_name == "张女士"
    ));
    // The chain of custody, as any replica reads it from the stored document.
    let stored: FoundItem = desk.read_kind(id);
    let chain: Vec<_> = stored
        .custody()
        .iter()
        .map(|s| (s.holder_name.clone(), s.confirmed))
        .collect();
    assert_eq!(
        chain,
        [
            ("刘阿姨".to_owned(), true),
            (String::new(), true),
            ("李客服".to_owned(), true),
            ("张女士".to_owned(), true),
        ]
    );
}

#[tokio::test]
async fn forged_found_item_steps_are_refused() {
    let app = spawn_app().await;

    // A valuable handed over with a count nobody witnessed or signed.
    let mut phone = Device::new();
    let cleaner = app.session_on(&phone, CLEANER).await;
    let user = cleaner.user.id.clone();
    let item = FoundItem::register(
        &cleaner.user.estate_id,
        &user,
        "刘阿姨",
        "棕色钱包",
        Category::Wallet,
        "",
        "",
        "大堂",
        "",
        T0,
        T0,
    )
    .expect("valid");
    let skipped = phone.start(&item, T0);
    let moved = handover(&user, T0 + MINUTE);
    phone.edit_kind(skipped, T0 + MINUTE, |r: &mut FoundItem| {
        r.moves.push(moved)
    });
    sync(&mut phone, &app, &cleaner.token).await;
    assert!(refused_with(
        &phone,
        skipped,
        "moves[0]",
        "validation.not_witnessed"
    ));

    // The cleaner confirms receipt at the desk herself.
    let (mut phone, token, user, id) = registered(&app, true, T0).await;
    sync(&mut phone, &app, &token).await;
    assert!(phone.is_stored(id));
    confirm(&mut phone, id, &user, contents(), T0 + 20 * MINUTE);
    sync(&mut phone, &app, &token).await;
    assert!(
        refused_with(&phone, id, "confirmations[0]", "validation.role_forbids"),
        "{:?}",
        phone.errors
    );

    // The desk claims it without an ID check, or skips the receipt.
    let mut desk = Device::new();
    let clerk = app.session_on(&desk, CLERK).await;
    desk.follow(id);
    sync(&mut desk, &app, &clerk.token).await;
    confirm(&mut desk, id, &clerk.user.id, contents(), T0 + 20 * MINUTE);
    let description = describe(&clerk.user.id, T0 + 30 * MINUTE);
    let description_id = description.id.clone();
    desk.edit_kind(id, T0 + 30 * MINUTE, |r: &mut FoundItem| {
        r.descriptions.push(description)
    });
    sync(&mut desk, &app, &clerk.token).await;
    assert!(desk.is_stored(id), "{:?}", desk.errors);
    let record: FoundItem = desk.read_kind(id);
    let mut unchecked = claim_of(&record, &clerk.user.id, &description_id, T0 + 40 * MINUTE);
    unchecked.id_checked = false;
    desk.edit_kind(id, T0 + 40 * MINUTE, |r: &mut FoundItem| {
        r.claims.push(unchecked)
    });
    sync(&mut desk, &app, &clerk.token).await;
    assert!(refused_with(
        &desk,
        id,
        "claims[0].id_number",
        "validation.id_not_checked"
    ));
    assert!(refused_with(&desk, id, "claims[0]", "validation.unsigned"));

    // A hostile client deletes the finder's count from a fresh copy.
    let mut hostile = Device::new();
    let session = app.session_on(&hostile, CLERK).await;
    hostile.follow(id);
    sync(&mut hostile, &app, &session.token).await;
    hostile.edit_raw(id, T0 + 50 * MINUTE, |r: &mut FoundItem| {
        r.counts.clear();
    });
    sync(&mut hostile, &app, &session.token).await;
    assert!(refused_with(
        &hostile,
        id,
        "counts[0]",
        "validation.entry_deleted"
    ));
}

#[tokio::test]
async fn a_finder_sees_only_what_they_registered_and_another_estate_nothing() {
    let app = spawn_app().await;
    // Found an hour ago: among the finder's own recent records.
    let an_hour_ago = gatehouse_server::now_ms() - 60 * MINUTE;
    let (mut phone, token, _, id) = registered(&app, true, an_hour_ago).await;
    sync(&mut phone, &app, &token).await;
    assert!(phone.is_stored(id));

    app.add_user(
        "cleaner-2",
        "cleaner-2-password",
        Role::Cleaner,
        gatehouse_server::demo::ESTATE_ID,
    );
    app.add_user(
        "clerk-jade",
        "clerk-jade-password",
        Role::Office,
        gatehouse_server::demo::SECOND_ESTATE_ID,
    );
    for account in [
        ("cleaner-2", "cleaner-2-password"),
        GUARD,
        ("clerk-jade", "clerk-jade-password"),
    ] {
        let mut other = Device::new();
        let session = app.session_on(&other, account).await;
        other.follow(id);
        let mut socket = Device::connect_ok(app.addr, &session.token)
            .await
            .expect("connects");
        other.sync(&mut socket).await.expect("exchange completes");
        assert!(
            other.read_kind_opt::<FoundItem>(id).is_none(),
            "{} received it",
            account.0
        );
        assert!(
            other.errors.iter().any(|e| matches!(
                e,
                ServerMessage::Error {
                    code: ErrorCode::Forbidden,
                    ..
                }
            )),
            "{} was not told",
            account.0
        );
        // Nor does a list of records reach anyone but the office.
        let status = authed(
            reqwest::Method::GET,
            app.url("/api/records"),
            &session.token,
        )
        .send()
        .await
        .expect("sent")
        .status();
        let expected = if account.0 == "clerk-jade" { 200 } else { 403 };
        assert_eq!(status, expected, "{}", account.0);
    }

    // The finder, on a new phone, gets her own item back (her own recent records).
    let mut second_phone = Device::new();
    let session = app.session_on(&second_phone, CLEANER).await;
    let mut socket = second_phone
        .connect_following(app.addr, &session.token)
        .await
        .expect("connects");
    second_phone.sync(&mut socket).await.expect("syncs");
    assert!(second_phone.read_kind_opt::<FoundItem>(id).is_some());
}

#[tokio::test]
async fn an_estate_sets_how_long_it_keeps_found_items_and_the_server_judges_by_it() {
    let app = spawn_app().await;
    let (mut phone, token, _, id) = registered(&app, true, T0).await;
    sync(&mut phone, &app, &token).await;
    let mut desk = Device::new();
    let clerk = app.session_on(&desk, CLERK).await;
    desk.follow(id);
    sync(&mut desk, &app, &clerk.token).await;
    confirm(&mut desk, id, &clerk.user.id, contents(), T0 + 20 * MINUTE);
    sync(&mut desk, &app, &clerk.token).await;
    assert!(desk.errors.is_empty(), "{:?}", desk.errors);

    // Handed to the police 40 days after the desk received it: a valuable (it holds cash),
    // kept 180 days by default, so refused.
    let at = T0 + 40 * 24 * 60 * MINUTE;
    hand_to_police(&mut desk, id, &clerk.user.id, at);
    sync(&mut desk, &app, &clerk.token).await;
    assert!(
        refused_with(
            &desk,
            id,
            "moves[1].moved_at",
            "validation.before_retention"
        ),
        "{:?}",
        desk.errors
    );

    // The admin: periods out of range or in the wrong order are refused, and so is another
    // estate or a clerk; the setting stays.
    let admin = app.session(ADMIN).await;
    let estate = clerk.user.estate_id.clone();
    let put = |estate: &str, token: &str, body: serde_json::Value| {
        authed(
            reqwest::Method::PUT,
            app.url(&format!("/api/admin/estates/{estate}/found-items")),
            token,
        )
        .json(&body)
    };
    let periods = |notice: i64, retention: i64, valuables: i64| {
        serde_json::json!({
            "notice_days": notice,
            "retention_days": retention,
            "valuables_retention_days": valuables,
        })
    };
    for bad in [
        periods(0, 90, 180),
        periods(3, 731, 180),
        periods(10, 90, 7),
    ] {
        let response = put(&estate, &admin.token, bad)
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status(), 400);
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(body["error"], "admin.bad_found_periods");
    }
    let response = put(
        &estate,
        &admin.token,
        serde_json::json!({ "notice_days": 3 }),
    )
    .send()
    .await
    .expect("answers");
    assert_eq!(response.status(), 422, "an incomplete body");
    let response = put(&estate, &clerk.token, periods(3, 30, 30))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 403);
    app.add_user(
        "admin-jade",
        "admin-jade-password",
        Role::Admin,
        gatehouse_server::demo::SECOND_ESTATE_ID,
    );
    let other_admin = app.session(("admin-jade", "admin-jade-password")).await;
    let response = put(&estate, &other_admin.token, periods(3, 30, 30))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 404, "not that admin's estate");

    let estates_of = |token: String| {
        let request = authed(reqwest::Method::GET, app.url("/api/estates"), &token);
        async move {
            let list: Vec<EstateSettings> = request
                .send()
                .await
                .expect("lists")
                .json()
                .await
                .expect("json");
            list
        }
    };
    let before = estates_of(clerk.token.clone()).await;
    assert_eq!(before.len(), 1, "the clerk's one estate");
    assert_eq!(before[0].rules.found_items, FoundItemPeriods::default());

    // The estate keeps valuables 30 days: the clerk's connected phone is sent its follow
    // set again (on which the app reads the settings), the phone reads the periods it
    // judges by, and the disposal done again is stored.
    let (mut listening, _) = Device::connect_with_follows(app.addr, &clerk.token)
        .await
        .expect("connects");
    let response = put(&estate, &admin.token, periods(5, 60, 30))
        .send()
        .await
        .expect("sets");
    assert_eq!(response.status(), 204);
    let told = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            if let Some(ServerMessage::Follows { complete: true, .. }) =
                crate::device::next_message(&mut listening)
                    .await
                    .expect("reads")
            {
                return;
            }
        }
    })
    .await;
    assert!(told.is_ok(), "the connected phone was not told");
    let after = estates_of(clerk.token.clone()).await;
    assert_eq!(
        after[0].rules.found_items,
        FoundItemPeriods {
            notice_days: 5,
            retention_days: 60,
            valuables_retention_days: 30,
        }
    );
    // The refused disposal stays refused (the desk's phone sets it aside); the desk does
    // it again, on another device for good measure.
    let mut second_desk = Device::new();
    let session = app.session_on(&second_desk, CLERK).await;
    second_desk.follow(id);
    sync(&mut second_desk, &app, &session.token).await;
    hand_to_police(&mut second_desk, id, &session.user.id, at);
    sync(&mut second_desk, &app, &session.token).await;
    assert!(second_desk.errors.is_empty(), "{:?}", second_desk.errors);
    assert!(second_desk.is_stored(id));
    let stored: FoundItem = second_desk.read_kind(id);
    assert_eq!(
        stored.custody().last().map(|s| s.holder_name.as_str()),
        Some("派出所 赵警官")
    );
}
