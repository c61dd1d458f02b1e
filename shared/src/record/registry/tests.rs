use automerge::ActorId;

use super::import::{parse_csv, plan, ImportProblem};
use super::*;
use crate::record::test_support::{entry_id, CLERK, DOC, GUARD, T0, TECH};
use crate::record::{create_document, judge, read_record, EntryId};

const FILE: &str = "\u{feff}楼栋,单元,房号,类型,公司名称,业主姓名,业主电话,业主工作单位,业主证件号,租户姓名,租户电话,租户证件号,租期开始,租期结束,备注\n\
3,1,502,出租,,王建国,13800138000,市第一医院,110101198001011234,李明,13900139000,44010119900101567X,2026/1/1,2026/12/31,押金已收\n\
3,1,502,出租,,王建国,13800138000,市第一医院,110101198001011234,赵丽,13700137000,,2026-01-01,2026-12-31,\n\
3,1,502,出租,,陈芳,13600136000,,,,,,,,共同业主\n\
\n\
12,,1201,公司,\"宏达贸易有限公司, 深圳\",,,,,,,,,,\n\
5,2,101,自住,,张伟,(0755) 8888-1234,,A1234567,,,,,,\n";

fn problems_of(text: &str) -> Vec<ImportProblem> {
    parse_csv(text).expect_err("the file has bad rows")
}

fn has(problems: &[ImportProblem], line: u64, column: &str, key: ProblemKey) -> bool {
    problems
        .iter()
        .any(|p| p.line == line && p.column == column && p.key == key)
}

use crate::problem::ProblemKey;

#[test]
fn a_spreadsheet_file_reads_into_units_with_every_owner_and_tenant() {
    let parsed = parse_csv(FILE).expect("the file reads");
    assert_eq!(parsed.rows, 5);
    assert_eq!(parsed.ignored_columns, vec!["备注".to_owned()]);
    assert_eq!(parsed.units.len(), 3);
    let let_unit = &parsed.units[0];
    assert_eq!(let_unit.key().label(), "3-1-502");
    assert_eq!(let_unit.occupancy, Occupancy::Let);
    assert_eq!(
        let_unit.owners.len(),
        2,
        "two owners, the first repeated on two rows"
    );
    assert_eq!(
        let_unit.owners[0].id_last4, "1234",
        "only the last four characters are kept"
    );
    assert_eq!(let_unit.tenants.len(), 2);
    assert_eq!(let_unit.tenants[0].id_last4, "567X");
    assert_eq!(
        let_unit.tenants[0].lease_start, "2026-01-01",
        "dates as spreadsheets write them"
    );
    assert_eq!(let_unit.tenants[1].lease_end, "2026-12-31");
    let company = &parsed.units[1];
    assert_eq!(company.occupancy, Occupancy::Company);
    assert_eq!(
        company.company, "宏达贸易有限公司, 深圳",
        "a quoted comma stays in the cell"
    );
    assert!(company.owners.is_empty());
    assert_eq!(parsed.units[2].owners[0].phone, "(0755) 8888-1234");
    assert_eq!(parsed.units[2].owners[0].id_last4, "4567");
    // English headers in another order read the same.
    let english = "room,owner_name,occupancy,building\n502,Wang,owner_occupied,3\n";
    let parsed = parse_csv(english).expect("reads");
    assert_eq!(parsed.units[0].key(), UnitKey::new("3", "", "502"));
}

#[test]
fn every_bad_row_is_reported_by_line_and_column_and_nothing_is_read() {
    let text = "房号,类型,业主姓名,业主电话,租户姓名,租期开始,租期结束,业主证件号\n\
        101,自住,张伟,1.38E+10,,,,\n\
        102,出租,李娜,,,,,\n\
        103,出租,王强,,赵六,2026-02-30,2026-01-01,\n\
        104,别墅,刘洋,,,,,\n\
        ,自住,孙丽,,,,,12\n\
        106,自住,周杰,,钱七,,,\n\
        107,自住,,,,,,\n\
        108,自住,吴敏,,,,,\n\
        108,出租,吴敏,,郑八,,,\n";
    let problems = problems_of(text);
    assert!(
        has(&problems, 2, "业主电话", keys::BAD_PHONE),
        "{problems:?}"
    );
    assert!(
        has(&problems, 3, "租户姓名", keys::REQUIRED),
        "a let unit needs a tenant"
    );
    assert!(has(&problems, 4, "租期开始", keys::BAD_DATE));
    assert!(has(&problems, 5, "类型", keys::UNKNOWN_VALUE));
    assert!(has(&problems, 6, "房号", keys::REQUIRED));
    assert!(has(&problems, 6, "业主证件号", keys::BAD_ID_NUMBER));
    assert!(has(&problems, 7, "租户姓名", keys::NOT_LET));
    assert!(has(&problems, 8, "业主姓名", keys::REQUIRED));
    assert!(has(&problems, 10, "类型", keys::CONFLICTING_ROWS));
    assert!(
        problems.windows(2).all(|w| w[0].line <= w[1].line),
        "in file order"
    );
    // Tenants on a unit that is not let: on the tenant's row.
    let problems = problems_of("房号,类型,业主姓名,租户姓名\n1,自住,甲,\n1,自住,甲,乙\n");
    assert!(has(&problems, 3, "租户姓名", keys::NOT_LET), "{problems:?}");
    // An ID number typed as a phone number is refused, two numbers are fine.
    let problems = problems_of("房号,类型,业主姓名,业主电话\n1,自住,甲,110101198001011234\n2,自住,乙,13800138000 / 0755-88881234\n");
    assert!(
        has(&problems, 2, "业主电话", keys::BAD_PHONE),
        "{problems:?}"
    );
    assert_eq!(problems.len(), 1, "{problems:?}");
    // A quote left open would swallow the rows after it: refused at its row, not lost.
    let problems = problems_of(
        "房号,类型,业主姓名,备注\n1,自住,甲,\"没有关上的引号\n2,自住,乙,\n3,自住,丙,\n",
    );
    assert!(has(&problems, 2, "", keys::UNREADABLE_ROW), "{problems:?}");
    // An empty room is reported once.
    let problems = problems_of("房号,类型,业主姓名\n,自住,甲\n");
    assert_eq!(problems.len(), 1, "{problems:?}");
    // A lease that ends before it starts, on the tenant's own row.
    let problems = problems_of(
        "房号,类型,业主姓名,租户姓名,租期开始,租期结束\n1,出租,甲,乙,2026-05-01,2026-04-01\n",
    );
    assert!(
        has(&problems, 2, "租期结束", keys::ENDS_BEFORE_START),
        "{problems:?}"
    );
}

#[test]
fn a_file_without_the_needed_columns_or_rows_is_refused_at_its_header() {
    let problems = problems_of("楼栋,业主姓名,业主姓名\n3,甲,乙\n");
    assert!(has(&problems, 1, "房号", keys::MISSING_COLUMN));
    assert!(has(&problems, 1, "类型", keys::MISSING_COLUMN));
    assert!(has(&problems, 1, "业主姓名", keys::DUPLICATE_COLUMN));
    assert!(has(&problems_of(""), 1, "", keys::REQUIRED));
    assert!(has(
        &problems_of("房号,类型,业主姓名\n\n"),
        2,
        "",
        keys::REQUIRED
    ));
    // The same person twice with different details contradicts itself.
    let problems =
        problems_of("房号,类型,业主姓名,业主电话\n1,自住,甲,13800138000\n1,自住,甲,13900139000\n");
    assert!(
        has(&problems, 3, "业主姓名", keys::CONFLICTING_ROWS),
        "{problems:?}"
    );
}

#[test]
fn an_import_adds_only_what_changed() {
    let parsed = parse_csv(FILE).expect("reads");
    let mut registry = Registry::start("estate-1", "user-clerk", "Clerk", T0);
    let first = plan(&current_units([&registry]), parsed.units.clone());
    assert_eq!(
        (first.changed.len(), first.unchanged, first.not_in_file),
        (3, 0, 0)
    );
    for (n, unit) in first.changed.into_iter().enumerate() {
        registry.units.push(UnitEntry {
            id: entry_id(n as u8).to_string(),
            author: "user-clerk".into(),
            corrects: None,
            written_at: T0,
            unit,
        });
    }
    let mut next = parsed.units.clone();
    next[2].owners[0].phone = "13500135000".into();
    next.remove(1);
    let again = plan(&current_units([&registry]), next);
    assert_eq!(again.changed.len(), 1);
    assert_eq!(again.changed[0].room, "101");
    assert_eq!((again.unchanged, again.not_in_file), (1, 1));
}

fn unit(room: &str, owner: &str) -> UnitInfo {
    UnitInfo {
        building: "3".into(),
        entrance: "1".into(),
        room: room.into(),
        occupancy: Occupancy::OwnerOccupied,
        company: String::new(),
        owners: vec![Owner {
            name: owner.into(),
            phone: "13800138000".into(),
            employer: String::new(),
            id_last4: "1234".into(),
        }],
        tenants: Vec::new(),
    }
}

fn entry(n: u8, author: &str, at: i64, info: UnitInfo) -> UnitEntry {
    UnitEntry {
        id: entry_id(n).to_string(),
        author: author.into(),
        corrects: None,
        written_at: at,
        unit: info,
    }
}

#[test]
fn the_latest_entry_of_a_unit_stands_across_every_registry_document() {
    let mut a = Registry::start("estate-1", "user-clerk", "Clerk", T0);
    let mut b = Registry::start("estate-1", "user-clerk-2", "Clerk 2", T0);
    a.units
        .push(entry(1, "user-clerk", T0, unit("502", "王建国")));
    a.units
        .push(entry(2, "user-clerk", T0, unit("503", "陈芳")));
    b.units.push(entry(
        3,
        "user-clerk-2",
        T0 + 10,
        unit("502", "王建国（已过户）"),
    ));
    let units = current_units([&a, &b]);
    assert_eq!(units.len(), 2);
    assert_eq!(units[0].unit.owners[0].name, "王建国（已过户）");
    // The same in the other order: every replica agrees.
    assert_eq!(current_units([&b, &a]), units);
    assert_eq!(a.detail(), SummaryDetail::Registry { unit_count: 2 });
}

#[test]
fn units_are_listed_in_the_order_people_count() {
    let mut keys = [
        UnitKey::new("12", "", "1201"),
        UnitKey::new("3", "1", "1202"),
        UnitKey::new("3", "1", "502"),
        UnitKey::new("3", "2", "101"),
        UnitKey::new("B座", "", "10"),
        UnitKey::new("A座", "", "9"),
        UnitKey::new("03", "1", "501"),
    ];
    keys.sort();
    let labels: Vec<String> = keys.iter().map(UnitKey::label).collect();
    assert_eq!(
        labels,
        ["3-1-502", "3-1-1202", "3-2-101", "03-1-501", "12-1201", "A座-9", "B座-10"]
    );
}

#[test]
fn units_are_found_by_label_room_and_name() {
    let mut info = unit("502", "王建国");
    info.occupancy = Occupancy::Let;
    info.tenants.push(Tenant {
        name: "李明".into(),
        phone: String::new(),
        id_last4: String::new(),
        lease_start: String::new(),
        lease_end: String::new(),
    });
    for query in [
        "3-1-502",
        "31502",
        "1-502",
        "502",
        "王建",
        "李明",
        " 3 - 1 - 502 ",
        "",
    ] {
        assert!(info.matches(query), "{query}");
    }
    for query in ["501", "4-1-502", "张"] {
        assert!(!info.matches(query), "{query}");
    }
}

#[test]
fn a_lease_ending_within_thirty_days_or_ended_is_pointed_out() {
    let today = Date::parse("2026-11-27").expect("valid");
    let tenant = |end: &str| Tenant {
        name: "李明".into(),
        phone: String::new(),
        id_last4: String::new(),
        lease_start: String::new(),
        lease_end: end.into(),
    };
    assert_eq!(tenant("").lease_state(today), LeaseState::Unknown);
    assert_eq!(tenant("2027-06-30").lease_state(today), LeaseState::Running);
    assert_eq!(
        tenant("2026-12-27").lease_state(today),
        LeaseState::EndsSoon(30)
    );
    assert_eq!(
        tenant("2026-11-27").lease_state(today),
        LeaseState::EndsSoon(0)
    );
    assert_eq!(
        tenant("2026-10-31").lease_state(today),
        LeaseState::Ended(27)
    );
}

#[test]
fn only_office_staff_of_the_estate_write_the_registry() {
    let mut registry = Registry::start("estate-1", "user-clerk", "Clerk", T0);
    assert_eq!(
        judge(None, &registry.clone().into_any(), &CLERK, *DOC, T0),
        Ok(())
    );
    // A guard reads the registry but cannot start one or add to it.
    let mut by_guard = registry.clone();
    by_guard.created_by = "user-guard".into();
    let refused = judge(None, &by_guard.into_any(), &GUARD, *DOC, T0).expect_err("refused");
    assert!(refused.iter().any(|p| p.key == keys::ROLE_FORBIDS));
    let before = registry.clone().into_any();
    let mut added = registry.clone();
    added
        .units
        .push(entry(1, "user-guard", T0, unit("502", "假业主")));
    let refused = judge(Some(&before), &added.into_any(), &GUARD, *DOC, T0).expect_err("refused");
    assert!(
        refused.iter().any(|p| p.key == keys::ROLE_FORBIDS),
        "{refused:?}"
    );
    let refused =
        judge(Some(&before), &registry.clone().into_any(), &TECH, *DOC, T0).expect_err("refused");
    assert!(refused.iter().any(|p| p.key == keys::ROLE_FORBIDS));
    // The clerk adds a unit; nobody changes it afterwards, not even the clerk.
    registry
        .units
        .push(entry(1, "user-clerk", T0, unit("502", "王建国")));
    assert_eq!(
        judge(
            Some(&before),
            &registry.clone().into_any(),
            &CLERK,
            *DOC,
            T0
        ),
        Ok(())
    );
    let mut changed = registry.clone();
    changed.units[0].unit.owners[0].name = "别人".into();
    let refused = judge(
        Some(&registry.clone().into_any()),
        &changed.into_any(),
        &CLERK,
        *DOC,
        T0,
    )
    .expect_err("refused");
    assert!(refused.iter().any(|p| p.key == keys::ENTRY_CHANGED));
    // An entry written in another clerk's name is refused.
    let mut forged = registry.clone();
    forged
        .units
        .push(entry(2, "user-clerk-2", T0, unit("503", "陈芳")));
    let refused = judge(
        Some(&registry.clone().into_any()),
        &forged.into_any(),
        &CLERK,
        *DOC,
        T0,
    )
    .expect_err("refused");
    assert!(refused.iter().any(|p| p.key == keys::AUTHOR_NOT_WRITER));
    // A unit that breaks the unit rules (a tenant on an owner-occupied unit) is refused.
    let mut bad = registry.clone();
    let mut info = unit("504", "甲");
    info.tenants.push(Tenant {
        name: "乙".into(),
        phone: String::new(),
        id_last4: "12".into(),
        lease_start: String::new(),
        lease_end: String::new(),
    });
    bad.units.push(entry(3, "user-clerk", T0, info));
    let refused = judge(
        Some(&registry.into_any()),
        &bad.into_any(),
        &CLERK,
        *DOC,
        T0,
    )
    .expect_err("refused");
    assert!(refused.iter().any(|p| p.key == keys::NOT_LET));
    assert!(refused.iter().any(|p| p.key == keys::BAD_ID_NUMBER));
}

/// The size of an estate's registry: 5,000 units with an owner each and a tenant on every
/// third, written as one import, stays well under the server's 2 MiB document limit and
/// reads back.
#[test]
fn a_registry_of_five_thousand_units_fits_one_document() {
    let mut registry = Registry::start("estate-1", "user-clerk", "Clerk", T0);
    for n in 0..5000u32 {
        let mut info = unit(&format!("{}", 101 + n % 3000), &format!("业主{n}"));
        info.building = format!("{}", 1 + n / 3000);
        info.owners[0].phone = format!("138{:08}", n);
        if n % 3 == 0 {
            info.occupancy = Occupancy::Let;
            info.tenants.push(Tenant {
                name: format!("租户{n}"),
                phone: format!("139{:08}", n),
                id_last4: format!("{:04}", n),
                lease_start: "2026-01-01".into(),
                lease_end: "2026-12-31".into(),
            });
        }
        let mut bytes = [0u8; 16];
        bytes[..4].copy_from_slice(&n.to_le_bytes());
        registry.units.push(UnitEntry {
            id: EntryId::from_random(bytes).to_string(),
            author: "user-clerk".into(),
            corrects: None,
            written_at: T0,
            unit: info,
        });
    }
    let doc = create_document(ActorId::random(), &registry, T0).expect("valid");
    let bytes = doc.save();
    eprintln!("registry of 5,000 units: {} bytes", bytes.len());
    assert!(bytes.len() < 1024 * 1024, "{} bytes", bytes.len());
    let back = read_record(&automerge::Automerge::load(&bytes).expect("valid")).expect("valid");
    assert_eq!(
        current_units([back.as_registry().expect("valid")]).len(),
        5000
    );
}
