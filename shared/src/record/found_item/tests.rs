use proptest::prelude::*;

use super::*;
use crate::problem::{keys, ProblemKey};
use crate::record::test_support::{entry_id, CLEANER, CLERK, DOC, GUARD, T0, TECH_SEED};
use crate::record::{judge, Kind, Writer};
use crate::signature::{Stroke, Unsigned};

const MINUTE: i64 = 60_000;
const DAY: i64 = 86_400_000;

fn handbag() -> FoundItem {
    FoundItem::register(
        "estate-1",
        CLEANER.user_id,
        "刘阿姨",
        "黑色皮质手提包",
        Category::Bag,
        "A座",
        "15楼",
        "4号卫生间",
        "门后挂钩",
        T0,
        T0 + MINUTE,
    )
    .expect("valid")
}

fn line(what: &str, content: ContentKind, quantity: u32, amount_fen: i64) -> CountedItem {
    CountedItem {
        what: what.into(),
        content,
        quantity,
        amount_fen,
    }
}

fn contents() -> Vec<CountedItem> {
    vec![
        line("现金", ContentKind::Cash, 1, 52_000),
        line("身份证", ContentKind::IdDocument, 1, 0),
        line("银行卡", ContentKind::Card, 2, 0),
    ]
}

fn count(n: u8, author: &Writer<'_>, stage: CountStage, items: Vec<CountedItem>, at: i64) -> Count {
    Count {
        id: entry_id(n).to_string(),
        author: author.user_id.to_owned(),
        corrects: None,
        stage,
        items,
        witness_name: if stage == CountStage::Registration {
            "王保安".into()
        } else {
            String::new()
        },
        counted_at: at,
    }
}

fn sign(
    record: &FoundItem,
    n: u8,
    by: &Writer<'_>,
    purpose: Purpose,
    subject: &str,
    role: SignerRole,
    at: i64,
) -> Signature {
    let content = record
        .content_for(purpose, subject)
        .expect("subject exists");
    let stroke = Stroke {
        width: 300,
        height: 150,
        lines: vec![vec![(1, 1), (50, 80)]],
    }
    .encode();
    let id = entry_id(n).to_string();
    Signature::sign_with_seed(
        &Unsigned {
            id: &id,
            author: by.user_id,
            purpose,
            subject,
            signer_role: role,
            signer_name: match role {
                SignerRole::Witness => "王保安",
                SignerRole::Finder => "刘阿姨",
                _ => "张女士",
            },
            stroke: &stroke,
            content_hash: content.hash(),
            signed_at: at,
            document: *DOC,
            device_id: by.device_id,
        },
        &TECH_SEED,
    )
}

fn movement(n: u8, by: &Writer<'_>, to: Holder, holder: &str, at: i64) -> CustodyMove {
    CustodyMove {
        id: entry_id(n).to_string(),
        author: by.user_id.to_owned(),
        corrects: None,
        to,
        holder_name: holder.into(),
        place: String::new(),
        note: String::new(),
        moved_at: at,
    }
}

fn problems_at(
    before: Option<&FoundItem>,
    after: &FoundItem,
    writer: &Writer<'_>,
    now: i64,
) -> Vec<(String, ProblemKey)> {
    judge(
        before.map(|b| b.clone().into_any()).as_ref(),
        &after.clone().into_any(),
        writer,
        *DOC,
        now,
    )
    .err()
    .unwrap_or_default()
    .into_iter()
    .map(|p| (p.path, p.key))
    .collect()
}

fn problems(
    before: &FoundItem,
    after: &FoundItem,
    writer: &Writer<'_>,
) -> Vec<(String, ProblemKey)> {
    problems_at(Some(before), after, writer, T0 + DAY)
}

fn pair(path: &str, key: ProblemKey) -> (String, ProblemKey) {
    (path.to_owned(), key)
}

/// Registered with a witnessed count signed by the finder and the witness.
fn counted() -> FoundItem {
    let mut item = handbag();
    item.counts.push(count(
        1,
        &CLEANER,
        CountStage::Registration,
        contents(),
        T0 + 2 * MINUTE,
    ));
    let id = item.counts[0].id.clone();
    let finder = sign(
        &item,
        2,
        &CLEANER,
        Purpose::FoundItemCount,
        &id,
        SignerRole::Finder,
        T0 + 3 * MINUTE,
    );
    let witness = sign(
        &item,
        3,
        &CLEANER,
        Purpose::FoundItemCount,
        &id,
        SignerRole::Witness,
        T0 + 3 * MINUTE,
    );
    item.signatures.extend([finder, witness]);
    item
}

fn handed_over() -> FoundItem {
    let mut item = counted();
    item.moves
        .push(movement(4, &CLEANER, Holder::Desk, "", T0 + 10 * MINUTE));
    item
}

/// The desk confirmed receipt with `items` as its count.
fn received(items: Vec<CountedItem>) -> FoundItem {
    let mut item = handed_over();
    item.counts
        .push(count(5, &CLERK, CountStage::Desk, items, T0 + 20 * MINUTE));
    item.confirmations.push(Confirmation {
        id: entry_id(6).to_string(),
        author: CLERK.user_id.to_owned(),
        corrects: None,
        move_id: item.moves[0].id.clone(),
        count: item.counts[1].id.clone(),
        holder_name: "李客服".into(),
        confirmed_at: T0 + 20 * MINUTE,
    });
    item
}

fn described(mut item: FoundItem) -> FoundItem {
    item.descriptions.push(ClaimantDescription {
        id: entry_id(7).to_string(),
        author: CLERK.user_id.to_owned(),
        corrects: None,
        claimant_name: "张女士".into(),
        description: "黑色手提包，里面有身份证、两张银行卡和五百多元现金".into(),
        described_at: T0 + DAY / 2,
    });
    item
}

fn claim(item: &FoundItem, outcome: ClaimOutcome) -> Claim {
    Claim {
        id: entry_id(8).to_string(),
        author: CLERK.user_id.to_owned(),
        corrects: None,
        description: entry_id(7).to_string(),
        claimant_name: "张女士".into(),
        claimant_phone: "13800001111".into(),
        id_type: IdType::ResidentCard,
        id_number: "110101199001011234".into(),
        id_checked: true,
        handed: item.listed_contents().to_vec(),
        outcome,
        note: String::new(),
        claimed_at: T0 + DAY / 2 + MINUTE,
    }
}

fn claimed(before: &FoundItem) -> FoundItem {
    let mut item = before.clone();
    let claim = claim(&item, ClaimOutcome::Full);
    let id = claim.id.clone();
    item.claims.push(claim);
    let receipt = sign(
        &item,
        9,
        &CLERK,
        Purpose::FoundItemReceipt,
        &id,
        SignerRole::Claimant,
        T0 + DAY / 2 + MINUTE,
    );
    item.signatures.push(receipt);
    item
}

#[test]
fn the_whole_way_from_the_washroom_to_the_claimant_is_accepted_and_on_record() {
    let item = handbag();
    assert!(problems_at(None, &item, &CLEANER, T0 + MINUTE).is_empty());
    assert_eq!(item.status(), FoundStatus::WithFinder);
    let counted = counted();
    assert!(problems(&item, &counted, &CLEANER).is_empty());
    assert!(counted.is_valuable() && counted.is_witnessed(&counted.counts[0]));
    let handed = handed_over();
    assert!(problems(&counted, &handed, &CLEANER).is_empty());
    assert_eq!(handed.status(), FoundStatus::HandingOver);
    let at_desk = received(contents());
    assert!(problems(&handed, &at_desk, &CLERK).is_empty());
    assert_eq!(at_desk.status(), FoundStatus::AtDesk);
    assert!(at_desk.mismatches().is_empty());
    let asked = {
        let mut a = at_desk.clone();
        a.searches.push(OwnerSearch {
            id: entry_id(10).to_string(),
            author: CLERK.user_id.to_owned(),
            corrects: None,
            channel: SearchChannel::FloorCompanies,
            note: "15楼三家公司".into(),
            searched_at: T0 + 30 * MINUTE,
        });
        a
    };
    assert!(problems(&at_desk, &asked, &CLERK).is_empty());
    let described = described(asked.clone());
    let done = claimed(&described);
    assert!(
        problems(&asked, &done, &CLERK).is_empty(),
        "{:?}",
        problems(&asked, &done, &CLERK)
    );
    assert_eq!(done.status(), FoundStatus::Claimed);
    let chain: Vec<_> = done
        .custody()
        .iter()
        .map(|s| (s.status, s.holder_name.clone(), s.confirmed))
        .collect();
    assert_eq!(
        chain,
        [
            (FoundStatus::WithFinder, "刘阿姨".to_owned(), true),
            (FoundStatus::HandingOver, String::new(), true),
            (FoundStatus::AtDesk, "李客服".to_owned(), true),
            (FoundStatus::Claimed, "张女士".to_owned(), true),
        ]
    );
    assert_eq!(done.header().closed_at, Some(T0 + DAY / 2 + MINUTE));
}

#[test]
fn a_desk_count_that_differs_is_recorded_as_a_mismatch_not_hidden_and_one_left_out_is_refused() {
    let handed = handed_over();
    let mut short = contents();
    short[0].amount_fen = 42_000;
    let at_desk = received(short);
    assert!(problems(&handed, &at_desk, &CLERK).is_empty());
    let mismatches = at_desk.mismatches();
    assert_eq!(mismatches.len(), 1);
    assert_eq!(mismatches[0].registered.amount_fen, 52_000);
    assert_eq!(
        mismatches[0].at_desk.as_ref().map(|d| d.amount_fen),
        Some(42_000)
    );
    assert!(matches!(
        at_desk.detail(),
        SummaryDetail::FoundItem {
            count_mismatch: true,
            ..
        }
    ));

    let left_out = received(contents()[1..].to_vec());
    assert!(problems(&handed, &left_out, &CLERK)
        .contains(&pair("confirmations[0].count", keys::COUNT_INCOMPLETE)));
}

#[test]
fn a_signature_covers_the_counted_contents_exactly() {
    let item = counted();
    let mut changed = item.clone();
    // The count itself cannot change (an entry), and a signature over other contents does
    // not stand: forge a witness signature over a count with one card fewer.
    changed.counts[0].items[2].quantity = 1;
    let found = problems(&item, &changed, &CLEANER);
    assert!(found.contains(&pair("counts[0]", keys::ENTRY_CHANGED)));
    assert!(!changed.is_witnessed(&changed.counts[0]));

    let mut new_count = handbag();
    new_count.counts.push(count(
        1,
        &CLEANER,
        CountStage::Registration,
        contents(),
        T0 + 2 * MINUTE,
    ));
    let id = new_count.counts[0].id.clone();
    let mut signed = new_count.clone();
    let mut sig = sign(
        &new_count,
        2,
        &CLEANER,
        Purpose::FoundItemCount,
        &id,
        SignerRole::Witness,
        T0 + 3 * MINUTE,
    );
    signed.counts[0].items[0].amount_fen = 2_000;
    sig.id = entry_id(3).to_string();
    signed.signatures.push(sig);
    assert!(problems(&handbag(), &signed, &CLEANER)
        .contains(&pair("signatures[0]", keys::CONTENT_MISMATCH)));
}

#[test]
fn a_valuable_is_handed_over_only_after_a_witnessed_count_signed_by_both() {
    let mut unsigned = handbag();
    unsigned.counts.push(count(
        1,
        &CLEANER,
        CountStage::Registration,
        contents(),
        T0 + 2 * MINUTE,
    ));
    let mut handed = unsigned.clone();
    handed
        .moves
        .push(movement(4, &CLEANER, Holder::Desk, "", T0 + 10 * MINUTE));
    assert!(problems(&unsigned, &handed, &CLEANER).contains(&pair("moves[0]", keys::NOT_WITNESSED)));

    // Only the finder's signature: still not witnessed.
    let mut one = counted();
    one.signatures.pop();
    let mut handed = one.clone();
    handed
        .moves
        .push(movement(4, &CLEANER, Holder::Desk, "", T0 + 10 * MINUTE));
    assert!(problems(&one, &handed, &CLEANER).contains(&pair("moves[0]", keys::NOT_WITNESSED)));

    // A bag with nothing valuable in it needs no count.
    let mut keys_found = FoundItem::register(
        "estate-1",
        CLEANER.user_id,
        "刘阿姨",
        "一串钥匙",
        Category::Keys,
        "",
        "",
        "大堂",
        "",
        T0,
        T0,
    )
    .expect("valid");
    let before = keys_found.clone();
    keys_found
        .moves
        .push(movement(4, &CLEANER, Holder::Desk, "", T0 + 10 * MINUTE));
    assert!(problems(&before, &keys_found, &CLEANER).is_empty());
}

#[test]
fn steps_are_taken_only_in_order_and_only_by_whom_they_belong_to() {
    let counted = counted();
    // The desk cannot confirm what was not handed over.
    let mut early = counted.clone();
    early.counts.push(count(
        5,
        &CLERK,
        CountStage::Desk,
        contents(),
        T0 + 20 * MINUTE,
    ));
    early.confirmations.push(Confirmation {
        id: entry_id(6).to_string(),
        author: CLERK.user_id.to_owned(),
        corrects: None,
        move_id: entry_id(4).to_string(),
        count: early.counts[1].id.clone(),
        holder_name: "李客服".into(),
        confirmed_at: T0 + 20 * MINUTE,
    });
    assert!(problems(&counted, &early, &CLERK)
        .contains(&pair("confirmations[0].move_id", keys::UNKNOWN_ENTRY)));

    // The finder (a cleaner) cannot confirm, claim, or move it within the office.
    let handed = handed_over();
    let at_desk = received(contents());
    let mut cleaner_claims = described(at_desk.clone());
    cleaner_claims.descriptions[0].author = CLEANER.user_id.into();
    let found = problems(&at_desk, &cleaner_claims, &CLEANER);
    assert!(found.contains(&pair("descriptions[0]", keys::ROLE_FORBIDS)));
    let mut to_storage = at_desk.clone();
    to_storage
        .moves
        .push(movement(11, &CLEANER, Holder::Storage, "刘阿姨", T0 + DAY));
    assert!(!problems(&at_desk, &to_storage, &CLEANER).is_empty());
    // Nor add to the count after handing it over.
    let mut recount = handed.clone();
    recount.counts.push(count(
        12,
        &CLEANER,
        CountStage::Registration,
        contents(),
        T0 + 11 * MINUTE,
    ));
    assert!(problems(&handed, &recount, &CLEANER).contains(&pair("counts[1]", keys::ROLE_FORBIDS)));
    // Nor change where it was found.
    let mut moved_place = handed.clone();
    moved_place.area = "杂物间".into();
    assert!(problems(&handed, &moved_place, &CLEANER).contains(&pair("area", keys::RECORD_CLOSED)));

    // A guard who did not find it adds nothing.
    let mut other = handed.clone();
    other
        .moves
        .push(movement(13, &GUARD, Holder::Desk, "", T0 + 12 * MINUTE));
    assert!(problems(&handed, &other, &GUARD).contains(&pair("moves[1]", keys::ROLE_FORBIDS)));

    // A second receipt is refused.
    let mut twice = at_desk.clone();
    twice.counts.push(count(
        14,
        &CLERK,
        CountStage::Desk,
        contents(),
        T0 + 30 * MINUTE,
    ));
    twice.confirmations.push(Confirmation {
        id: entry_id(15).to_string(),
        author: CLERK.user_id.to_owned(),
        corrects: None,
        move_id: at_desk.moves[0].id.clone(),
        count: entry_id(14).to_string(),
        holder_name: "另一位客服".into(),
        confirmed_at: T0 + 30 * MINUTE,
    });
    assert!(problems(&at_desk, &twice, &CLERK)
        .contains(&pair("confirmations[1]", keys::STEP_OUT_OF_ORDER)));
}

#[test]
fn a_claim_needs_the_description_before_an_id_check_and_a_signed_receipt() {
    let at_desk = received(contents());
    // No description.
    let mut bare = at_desk.clone();
    let c = claim(&bare, ClaimOutcome::Full);
    bare.claims.push(c);
    let found = problems(&at_desk, &bare, &CLERK);
    assert!(found.contains(&pair("claims[0].description", keys::NO_DESCRIPTION)));
    assert!(found.contains(&pair("claims[0]", keys::UNSIGNED)));

    // Described after the hand-over: not a description given before seeing it.
    let mut late = described(at_desk.clone());
    late.descriptions[0].described_at = T0 + DAY;
    let late = claimed(&late);
    assert!(problems(&at_desk, &late, &CLERK)
        .contains(&pair("claims[0].description", keys::NO_DESCRIPTION)));

    // No ID check.
    let described = described(at_desk.clone());
    let mut unchecked = described.clone();
    let mut c = claim(&unchecked, ClaimOutcome::Full);
    c.id_checked = false;
    unchecked.claims.push(c);
    let id = unchecked.claims[0].id.clone();
    let receipt = sign(
        &unchecked,
        9,
        &CLERK,
        Purpose::FoundItemReceipt,
        &id,
        SignerRole::Claimant,
        T0 + DAY / 2 + MINUTE,
    );
    unchecked.signatures.push(receipt);
    assert!(problems(&described, &unchecked, &CLERK)
        .contains(&pair("claims[0].id_number", keys::ID_NOT_CHECKED)));

    // "Full" while handing over less than the record lists is a partial hand-over.
    let mut less = described.clone();
    let mut c = claim(&less, ClaimOutcome::Full);
    c.handed.pop();
    less.claims.push(c);
    assert!(problems(&described, &less, &CLERK)
        .contains(&pair("claims[0].outcome", keys::DECISION_MISMATCH)));

    // A disputed claim hands nothing over, needs no receipt, and the item stays.
    let mut disputed = described.clone();
    disputed.claims.push(Claim {
        handed: Vec::new(),
        note: "所述现金金额不符".into(),
        ..claim(&described, ClaimOutcome::Disputed)
    });
    assert!(problems(&described, &disputed, &CLERK).is_empty());
    assert_eq!(disputed.status(), FoundStatus::AtDesk);

    // After a claim, nothing but a remark.
    let done = claimed(&described);
    let mut after = done.clone();
    after
        .moves
        .push(movement(20, &CLERK, Holder::Storage, "李客服", T0 + DAY));
    assert!(problems(&done, &after, &CLERK).contains(&pair("moves[1]", keys::STEP_OUT_OF_ORDER)));
}

#[test]
fn disposal_waits_for_the_retention_period_and_the_receiver_signs() {
    let at_desk = received(contents());
    assert_eq!(at_desk.retention_days(), VALUABLES_RETENTION_DAYS);
    let dispose = |at: i64| {
        let mut item = at_desk.clone();
        item.moves
            .push(movement(30, &CLERK, Holder::Police, "派出所 赵警官", at));
        let id = item.moves[1].id.clone();
        let signed = sign(
            &item,
            31,
            &CLERK,
            Purpose::FoundItemDisposal,
            &id,
            SignerRole::Receiver,
            at,
        );
        item.signatures.push(signed);
        item
    };
    let early = dispose(T0 + 30 * DAY);
    assert!(problems_at(Some(&at_desk), &early, &CLERK, T0 + 31 * DAY)
        .contains(&pair("moves[1].moved_at", keys::BEFORE_RETENTION)));
    // Counted from the desk's receipt (20 minutes after it was found), not from a time the
    // finder's phone wrote.
    let due = T0 + 20 * MINUTE + i64::from(VALUABLES_RETENTION_DAYS) * DAY;
    assert!(
        problems_at(Some(&at_desk), &dispose(due - MINUTE), &CLERK, due)
            .contains(&pair("moves[1].moved_at", keys::BEFORE_RETENTION))
    );
    let on_time = dispose(due);
    assert!(problems_at(Some(&at_desk), &on_time, &CLERK, due).is_empty());
    assert_eq!(on_time.status(), FoundStatus::WithPolice);
    let mut unsigned = on_time.clone();
    unsigned.signatures.pop();
    assert!(problems_at(Some(&at_desk), &unsigned, &CLERK, due)
        .contains(&pair("moves[1]", keys::UNSIGNED)));
}

#[test]
fn a_second_receipt_however_dated_never_replaces_the_first() {
    let at_desk = received(contents());
    let mut backdated = at_desk.clone();
    backdated.counts.push(count(
        14,
        &CLERK,
        CountStage::Desk,
        contents()[1..].to_vec(),
        T0 + 11 * MINUTE,
    ));
    // Dated before the stored receipt and naming a count without the cash.
    backdated.confirmations.push(Confirmation {
        id: entry_id(15).to_string(),
        author: CLERK.user_id.to_owned(),
        corrects: None,
        move_id: at_desk.moves[0].id.clone(),
        count: entry_id(14).to_string(),
        holder_name: "另一位客服".into(),
        confirmed_at: T0 + 11 * MINUTE,
    });
    assert!(problems(&at_desk, &backdated, &CLERK)
        .contains(&pair("confirmations[1]", keys::STEP_OUT_OF_ORDER)));
}

#[test]
fn a_count_lists_each_thing_once() {
    let mut item = handbag();
    let before = item.clone();
    item.counts.push(count(
        1,
        &CLEANER,
        CountStage::Registration,
        vec![
            line("银行卡", ContentKind::Card, 1, 0),
            line("银行卡", ContentKind::Card, 1, 0),
        ],
        T0 + 2 * MINUTE,
    ));
    assert!(problems(&before, &item, &CLEANER)
        .contains(&pair("counts[0].items[1].what", keys::DUPLICATE_NAME)));
}

#[test]
fn a_partial_claim_leaves_the_rest_with_the_desk_and_never_more_than_listed() {
    let described = described(received(contents()));
    let partial = |handed: Vec<CountedItem>| {
        let mut item = described.clone();
        let claim = Claim {
            handed,
            ..claim(&described, ClaimOutcome::Partial)
        };
        let id = claim.id.clone();
        item.claims.push(claim);
        let receipt = sign(
            &item,
            9,
            &CLERK,
            Purpose::FoundItemReceipt,
            &id,
            SignerRole::Claimant,
            T0 + DAY / 2 + MINUTE,
        );
        item.signatures.push(receipt);
        item
    };
    // Her ID card only: the cash and the cards stay, and so does the item.
    let part = partial(vec![line("身份证", ContentKind::IdDocument, 1, 0)]);
    assert!(
        problems(&described, &part, &CLERK).is_empty(),
        "{:?}",
        problems(&described, &part, &CLERK)
    );
    assert_eq!(part.status(), FoundStatus::AtDesk);
    assert_eq!(part.remaining_contents().len(), 2);
    // More cash than the record lists is refused.
    let more = partial(vec![line("现金", ContentKind::Cash, 1, 99_000)]);
    assert!(problems(&described, &more, &CLERK)
        .contains(&pair("claims[0].handed", keys::DECISION_MISMATCH)));
}

#[test]
fn a_claim_rests_on_its_claimants_own_description_and_nothing_is_dated_after_it() {
    let described = described(received(contents()));
    let mut other = described.clone();
    let claim = Claim {
        claimant_name: "李先生".into(),
        ..claim(&described, ClaimOutcome::Disputed)
    };
    other.claims.push(Claim {
        handed: Vec::new(),
        ..claim
    });
    assert!(problems(&described, &other, &CLERK)
        .contains(&pair("claims[0].description", keys::NO_DESCRIPTION)));

    // A move to storage dated after the claim, in the same upload.
    let mut behind = claimed(&described);
    behind
        .moves
        .push(movement(21, &CLERK, Holder::Storage, "李客服", T0 + DAY));
    assert!(
        problems(&described, &behind, &CLERK).contains(&pair("moves[1]", keys::STEP_OUT_OF_ORDER))
    );
}

#[test]
fn the_witness_signs_as_the_person_the_count_names_and_is_not_the_finder() {
    let mut item = handbag();
    item.counts.push(count(
        1,
        &CLEANER,
        CountStage::Registration,
        contents(),
        T0 + 2 * MINUTE,
    ));
    let before = item.clone();
    let id = item.counts[0].id.clone();
    let mut witness = sign(
        &item,
        3,
        &CLEANER,
        Purpose::FoundItemCount,
        &id,
        SignerRole::Witness,
        T0 + 3 * MINUTE,
    );
    witness.signer_name = "刘阿姨".into();
    let mut forged = item.clone();
    forged.signatures.push(witness);
    assert!(problems(&before, &forged, &CLEANER)
        .contains(&pair("signatures[0].signer_name", keys::ROLE_FORBIDS)));
}

#[test]
fn the_notice_lists_unclaimed_items_after_the_notice_days_only() {
    let at_desk = received(contents());
    assert!(!at_desk.on_notice(T0 + 2 * DAY, NOTICE_DAYS));
    assert!(at_desk.on_notice(T0 + 3 * DAY, NOTICE_DAYS));
    let done = claimed(&described(at_desk));
    assert!(!done.on_notice(T0 + 30 * DAY, NOTICE_DAYS));
    assert!(
        !handbag().on_notice(T0 + 30 * DAY, NOTICE_DAYS),
        "the finder still has it"
    );
}

#[test]
fn a_public_description_with_numbers_is_refused() {
    for text in [
        "钱包 身份证110101199001011234",
        "内有现金500元",
        "卡号 6222 0210 0000",
        "¥80",
    ] {
        assert!(looks_personal(text), "{text}");
        let problems = FoundItem::register(
            "estate-1",
            "u",
            "刘阿姨",
            text,
            Category::Wallet,
            "",
            "",
            "大堂",
            "",
            T0,
            T0,
        )
        .expect_err("refused");
        assert!(problems.contains(&Problem::new("description", keys::PERSONAL_DATA)));
    }
    assert!(looks_personal("卡号6222/0210/0000"));
    for text in ["黑色皮质手提包", "红色雨伞2把", "A座15楼"] {
        assert!(!looks_personal(text), "{text}");
    }
    assert_eq!(mask_id("110101199001011234"), "**************1234");
    assert_eq!(mask_id("123"), "123");
}

proptest! {
    /// Whatever was counted and whoever claimed, the notice line holds none of the counted
    /// lines, amounts, ID numbers or names.
    #[test]
    fn the_notice_never_shows_what_identifies_the_owner(
        what in "[\\p{Han}a-z]{2,8}",
        amount in 100i64..10_000_000,
        id_number in "[0-9]{17}[0-9X]",
        claimant in "[\\p{Han}]{2,4}",
        description in "[\\p{Han} a-z0-9]{1,30}",
    ) {
        let mut item = received(vec![
            line(&what, ContentKind::Other, 1, 0),
            line("现金", ContentKind::Cash, 1, amount),
        ]);
        item.description = description;
        item.descriptions.push(ClaimantDescription {
            id: entry_id(40).to_string(),
            author: CLERK.user_id.to_owned(),
            corrects: None,
            claimant_name: claimant.clone(),
            description: what.clone(),
            described_at: T0 + DAY,
        });
        item.claims.push(Claim {
            id_number: id_number.clone(),
            claimant_name: claimant.clone(),
            handed: Vec::new(),
            ..claim(&item, ClaimOutcome::Disputed)
        });
        let notice = item.notice_line("AB12");
        // Everything the notice prints but the date.
        let shown = format!(
            "{} {} {} {}",
            notice.category.as_str(),
            notice.description,
            notice.place,
            notice.reference
        );
        let yuan = (amount / 100).to_string();
        prop_assert!(!shown.contains(&id_number));
        prop_assert!(!shown.contains(&id_number[id_number.len() - 4..]));
        prop_assert!(yuan.len() < 4 || !shown.contains(&yuan));
        prop_assert!(!shown.contains(&amount.to_string()));
        prop_assert!(!shown.contains(&claimant) || item.description.contains(&claimant));
        prop_assert!(!shown.contains("刘阿姨"));
        prop_assert!(!shown.contains(&what) || item.description.contains(&what));
        prop_assert!(!looks_personal(&notice.description));
    }
}
