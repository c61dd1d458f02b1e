use super::*;
use crate::problem::{keys, ProblemKey};
use crate::record::test_support::{entry_id, CLEANER, CLERK, DOC, GUARD, T0, TECH_SEED};
use crate::record::{judge, Kind, Writer};
use crate::signature::{Stroke, Unsigned};
use crate::user::{EstateRules, EstateSettings};

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

mod claims;
