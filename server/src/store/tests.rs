use super::*;
use automerge::ActorId;
use gatehouse_shared::record::{create_document, edit_document, SummaryDetail};
use gatehouse_shared::{AnyRecord, CheckpointVisit, EntryId, PatrolLog, Role, Writer};

const T0: i64 = 1_780_000_000_000;

fn new_id(n: u8) -> DocumentId {
    DocumentId::from_random([n; 16])
}

/// Stores a round as `saves` syncs, each adding a visit; returns the document.
fn save_history(store: &mut Store, id: &DocumentId, saves: i64) -> Automerge {
    store.upsert_estate("estate", "Estate").expect("estate");
    let log = PatrolLog::start("estate", "guard", "王", "night", T0).expect("valid");
    let mut doc = create_document(ActorId::random(), &log, T0).expect("created");
    let mut heads = Vec::new();
    let estates = vec!["estate".to_owned()];
    let writer = Writer {
        user_id: "guard",
        role: Role::Guard,
        estates: &estates,
        device_id: "device",
        device_key: &[],
        verify_key: gatehouse_shared::signature::ed25519_verifies,
        estate_settings: &[],
    };
    for step in 0..saves {
        if step > 0 {
            edit_document(&mut doc, *id, &writer, T0 + step, |log: &mut PatrolLog| {
                let entry = EntryId::from_random([step as u8; 16]);
                let name = format!("c{step}");
                log.visits.push(
                    CheckpointVisit::new(entry, "guard", &name, T0 + step, "").expect("valid"),
                )
            })
            .expect("edit");
        }
        let tx = store.begin().expect("begin");
        tx.save_changes(id, "estate", &doc, &doc.save_after(&heads), None, T0)
            .expect("save");
        tx.commit().expect("commit");
        heads = doc.get_heads();
    }
    doc
}

#[test]
fn document_survives_compaction_and_reopen() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("test.db");
    let id = new_id(1);
    let doc = {
        let mut store = Store::open(&path).expect("opens");
        save_history(&mut store, &id, COMPACT_AFTER_CHANGE_ROWS * 2)
    };
    let store = Store::open(&path).expect("reopens");
    let stored = store.load_document(&id).expect("loads").expect("exists");
    assert_eq!(stored.doc.get_heads(), doc.get_heads());
    let rows: i64 = store
        .conn
        .query_row("SELECT count(*) FROM changes", [], |r| r.get(0))
        .expect("count");
    assert!(
        rows < COMPACT_AFTER_CHANGE_ROWS,
        "changes were compacted, {rows} rows left"
    );
}

#[test]
fn stored_size_counts_snapshot_and_change_rows_as_the_migration_does() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open(&dir.path().join("test.db")).expect("opens");
    let id = new_id(2);
    save_history(&mut store, &id, COMPACT_AFTER_CHANGE_ROWS + 5);
    let counted = store
        .load_document(&id)
        .expect("loads")
        .expect("exists")
        .size_bytes;
    let measured: i64 = store
        .conn
        .query_row(
            "SELECT COALESCE(length(snapshot), 0)
                + (SELECT COALESCE(SUM(length(data)), 0) FROM changes WHERE doc_id = ?1)
             FROM documents WHERE id = ?1",
            params![id.as_bytes()],
            |row| row.get(0),
        )
        .expect("measures");
    assert!(counted > 0);
    assert_eq!(counted, measured);
}

#[test]
fn records_stored_before_summaries_had_common_columns_are_listed_after_the_migration() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("test.db");
    // A database of the version before, holding a round as it stored it.
    let bytes =
        include_bytes!("../../../shared/tests/fixtures/patrol_log_v1_ended_with_remark.automerge")
            .to_vec();
    let id = new_id(3);
    {
        let conn = Connection::open(&path).expect("opens");
        for migration in &MIGRATIONS[..3] {
            conn.execute_batch(migration.sql).expect("old schema");
        }
        conn.pragma_update(None, "user_version", 3)
            .expect("version");
        conn.execute_batch("INSERT INTO estates VALUES ('sunny-garden', 'Sunny Garden');")
            .expect("estate");
        conn.execute(
            "INSERT INTO documents (id, estate_id, snapshot, change_rows, created_at, updated_at, size_bytes)
             VALUES (?1, 'sunny-garden', ?2, 0, 100, 200, ?3)",
            params![id.as_bytes(), bytes, bytes.len() as i64],
        )
        .expect("document");
        let old_summary = format!(
            r#"{{"doc":"{id}","kind":"patrol_log","estate_id":"sunny-garden","created_by":"u-guard","author_name":"王保安","title":"地下车库夜间巡逻","started_at":1790000000000,"ended_at":1790000240000,"visit_count":2,"finding_count":1,"follow_up_count":1,"remark_count":1,"first_received_at":100,"last_received_at":200}}"#
        );
        conn.execute(
            "INSERT INTO records VALUES (?1, 'sunny-garden', 'patrol_log', 1790000000000, 200, ?2)",
            params![id.as_bytes(), old_summary],
        )
        .expect("record");
    }
    let store = Store::open(&path).expect("migrates");
    let listed = store
        .list_records(&["sunny-garden".to_owned()], 10, None)
        .expect("lists");
    assert_eq!(listed.len(), 1);
    let summary = &listed[0];
    assert_eq!(summary.doc, id);
    assert_eq!(summary.title, "地下车库夜间巡逻");
    assert_eq!(summary.status, "ended");
    assert_eq!(summary.closed_at, Some(1_790_000_240_000));
    assert_eq!(
        (summary.first_received_at, summary.last_received_at),
        (100, 200)
    );
    assert_eq!(
        summary.detail,
        SummaryDetail::PatrolLog {
            visit_count: 2,
            finding_count: 1,
            follow_up_count: 1,
            remark_count: 1,
            route_id: None,
            planned_count: 0,
            missed: vec![],
            visited: vec![],
            max_minutes: None,
        }
    );
}

#[test]
fn a_record_done_with_stays_followed_for_its_estates_retention() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open(&dir.path().join("test.db")).expect("opens");
    let (done, open) = (new_id(7), new_id(8));
    let doc = save_history(&mut store, &done, 1);
    save_history(&mut store, &open, 1);
    let estates = vec!["estate".to_owned()];
    let log: PatrolLog = gatehouse_shared::record::read_kind(&doc).expect("log");
    let record = AnyRecord::PatrolLog(log);
    for (id, done_at) in [(done, Some(T0)), (open, None)] {
        let mut summary = RecordSummary::of(id, &record, T0, T0);
        summary.done_at = done_at;
        upsert_summary(&store.conn, &id, &summary).expect("summary");
    }
    let day = 86_400_000;
    let followed = |store: &Store, now: i64| {
        store
            .documents_of_kinds(&estates, &["patrol_log"], "nobody", now, i64::MAX, &[])
            .expect("reads")
    };
    assert_eq!(store.retention_days("estate").expect("reads"), Some(30));
    assert_eq!(followed(&store, T0 + 29 * day), vec![done, open]);
    assert_eq!(followed(&store, T0 + 30 * day), vec![open]);
    assert!(store.set_retention_days("estate", 60).expect("sets"));
    assert_eq!(followed(&store, T0 + 59 * day), vec![done, open]);
    assert_eq!(followed(&store, T0 + 61 * day), vec![open]);
    assert!(!store
        .set_retention_days("no-such-estate", 60)
        .expect("answers"));
    // Renaming an estate keeps its retention.
    store.upsert_estate("estate", "Renamed").expect("renames");
    assert_eq!(store.retention_days("estate").expect("reads"), Some(60));
}

#[test]
fn a_users_own_recent_records_are_in_their_follow_set_whatever_the_kinds() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open(&dir.path().join("test.db")).expect("opens");
    let id = new_id(9);
    let doc = save_history(&mut store, &id, 1);
    let log: PatrolLog = gatehouse_shared::record::read_kind(&doc).expect("log");
    let summary = RecordSummary::of(id, &AnyRecord::PatrolLog(log), T0, T0);
    assert_eq!(
        (summary.created_by.as_str(), summary.started_at),
        ("guard", T0)
    );
    upsert_summary(&store.conn, &id, &summary).expect("summary");
    let estates = vec!["estate".to_owned()];
    let follows = |user: &str, estates: &[String], own_since: i64| {
        store
            .documents_of_kinds(estates, &[], user, T0 + 1, own_since, &["patrol_log"])
            .expect("reads")
    };
    // Their own, started after the limit: followed though the role follows no kind.
    assert_eq!(follows("guard", &estates, T0 - 1), vec![id]);
    // Their own and of a kind they follow: listed once.
    let both = store
        .documents_of_kinds(
            &estates,
            &["patrol_log"],
            "guard",
            T0 + 1,
            T0 - 1,
            &["patrol_log"],
        )
        .expect("reads");
    assert_eq!(both, vec![id]);
    // Started before the limit, someone else's, or in an estate they left: not.
    assert!(follows("guard", &estates, T0).is_empty());
    assert!(follows("guard-2", &estates, T0 - 1).is_empty());
    assert!(follows("guard", &["elsewhere".to_owned()], T0 - 1).is_empty());
    // A kind their role no longer reads (moved to another role): not.
    let none = store
        .documents_of_kinds(&estates, &[], "guard", T0 + 1, T0 - 1, &["repair"])
        .expect("reads");
    assert!(none.is_empty());
}

#[test]
fn the_follow_set_is_read_from_indexes_not_from_every_record_of_the_estate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join("test.db")).expect("opens");
    let mut statement = store
        .conn
        .prepare(&format!("EXPLAIN QUERY PLAN {FOLLOWED_DOCUMENTS}"))
        .expect("explains");
    let plan: Vec<String> = statement
        .query_map(
            params![
                "[\"estate\"]",
                "[\"registry\"]",
                T0,
                "guard",
                T0,
                "[\"patrol_log\"]"
            ],
            |row| row.get(3),
        )
        .expect("plan")
        .collect::<Result<_, _>>()
        .expect("rows");
    // Each half of the query searches an index for its rows; a search by the estate alone
    // (or a scan) would read every record of the estate each time a phone says hello.
    let on_records: Vec<&String> = plan.iter().filter(|step| step.contains(" r ")).collect();
    assert_eq!(on_records.len(), 2, "{plan:#?}");
    assert!(
        on_records.iter().any(|step| step
            .starts_with("SEARCH r USING INDEX records_by_estate (estate_id=? AND kind=?)")),
        "{plan:#?}"
    );
    assert!(
        on_records.iter().any(|step| step.starts_with(
            "SEARCH r USING INDEX records_by_creator (created_by=? AND started_at>?)"
        )),
        "{plan:#?}"
    );
}

#[test]
fn every_connection_keeps_a_bounded_page_cache() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("test.db");
    let writer = Store::open(&path).expect("opens");
    let reader = Store::open_reader(&path).expect("opens to read");
    for store in [&writer, &reader] {
        let cache: i64 = store
            .conn
            .pragma_query_value(None, "cache_size", |row| row.get(0))
            .expect("reads the setting");
        assert_eq!(cache, -PAGE_CACHE_KIB, "negative: KiB, not pages");
    }
}

/// A read that panics inside its snapshot (a read thread catches it and goes on) leaves the
/// connection out of the transaction: the next read sees what was committed since.
#[test]
fn a_snapshot_whose_read_panics_is_ended_and_the_next_sees_new_commits() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("test.db");
    let writer = Store::open(&path).expect("opens");
    let reader = Store::open_reader(&path).expect("opens to read");
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        reader.read_snapshot(|store| -> Result<(), StoreError> {
            store.document_count()?;
            panic!("a read that panics");
        })
    }));
    assert!(panicked.is_err());
    assert!(reader.conn.is_autocommit(), "still in the transaction");
    writer.upsert_estate("later", "Later").expect("writes");
    let seen = reader
        .read_snapshot(|store| store.estate_exists("later"))
        .expect("a new snapshot starts");
    assert!(seen, "the next read sees the commit made since");
}
