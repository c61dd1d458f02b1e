//! Claims, disposal, the notice and the rules an adversarial review added.

use proptest::prelude::*;

use super::*;

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
    let periods = FoundItemPeriods::default();
    assert_eq!(
        at_desk.retention_days(&periods),
        DEFAULT_VALUABLES_RETENTION_DAYS
    );
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
    let due = T0 + 20 * MINUTE + i64::from(DEFAULT_VALUABLES_RETENTION_DAYS) * DAY;
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
fn disposal_waits_for_the_retention_the_estate_set_as_the_judge_knows_it() {
    let at_desk = received(contents());
    let mut item = at_desk.clone();
    let at = T0 + 40 * DAY;
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
    // By the defaults (180 days for a valuable) 40 days is too early.
    assert!(problems_at(Some(&at_desk), &item, &CLERK, at)
        .contains(&pair("moves[1].moved_at", keys::BEFORE_RETENTION)));
    // An estate keeping valuables 30 days: accepted.
    let mut settings = EstateSettings {
        id: at_desk.estate_id.clone(),
        name: "一号院".into(),
        retention_days: 30,
        rules: EstateRules {
            found_items: FoundItemPeriods {
                notice_days: 3,
                retention_days: 90,
                valuables_retention_days: 30,
            },
        },
    };
    let short = Writer {
        estate_settings: std::slice::from_ref(&settings),
        ..*CLERK
    };
    assert_eq!(at_desk.retention_days(&settings.rules.found_items), 30);
    assert!(problems_at(Some(&at_desk), &item, &short, at).is_empty());
    // Another estate's settings are not this record's.
    settings.id = "estate-elsewhere".into();
    let elsewhere = Writer {
        estate_settings: std::slice::from_ref(&settings),
        ..*CLERK
    };
    assert!(problems_at(Some(&at_desk), &item, &elsewhere, at)
        .contains(&pair("moves[1].moved_at", keys::BEFORE_RETENTION)));
}

#[test]
fn an_estate_sets_periods_in_range_with_the_notice_before_disposal() {
    let ok = FoundItemPeriods::default();
    assert!(ok.is_valid());
    for bad in [
        FoundItemPeriods {
            notice_days: 0,
            ..ok
        },
        FoundItemPeriods {
            notice_days: 61,
            ..ok
        },
        FoundItemPeriods {
            retention_days: 0,
            ..ok
        },
        FoundItemPeriods {
            valuables_retention_days: 731,
            ..ok
        },
        // On the notice after it may already be gone.
        FoundItemPeriods {
            notice_days: 10,
            valuables_retention_days: 7,
            ..ok
        },
    ] {
        assert!(!bad.is_valid(), "{bad:?}");
    }
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
    assert!(!at_desk.on_notice(T0 + 2 * DAY, DEFAULT_NOTICE_DAYS));
    assert!(at_desk.on_notice(T0 + 3 * DAY, DEFAULT_NOTICE_DAYS));
    let done = claimed(&described(at_desk));
    assert!(!done.on_notice(T0 + 30 * DAY, DEFAULT_NOTICE_DAYS));
    assert!(
        !handbag().on_notice(T0 + 30 * DAY, DEFAULT_NOTICE_DAYS),
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
