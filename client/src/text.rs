//! The interface's words: the locale the user chose, and the translation of keys known only
//! at run time (notices, and the problems the shared rules report).

use gatehouse_shared::problem::ProblemKey;
use gatehouse_shared::Problem;
use leptos::prelude::*;
use leptos_i18n::I18nContext;

use crate::i18n::*;

const LOCALE_KEY: &str = "gatehouse.locale";

/// Translates a key that is only known at run time (notices, rule problems).
pub fn tr(i18n: I18nContext<Locale>, key: &str) -> String {
    let text = match key {
        "saved.round" => t_string!(i18n, saved.round),
        "registry.imported" => t_string!(i18n, registry.imported),
        "saved.ended" => t_string!(i18n, saved.ended),
        "visit.saved" => t_string!(i18n, visit.saved),
        "finding.saved" => t_string!(i18n, finding.saved),
        "remark.saved" => t_string!(i18n, remark.saved),
        "error.not_saved" => t_string!(i18n, error.not_saved),
        "error.unauthorized" => t_string!(i18n, error.unauthorized),
        "error.forbidden" => t_string!(i18n, error.forbidden),
        "error.internal" => t_string!(i18n, error.internal),
        "error.rejected" => t_string!(i18n, error.rejected),
        "connection.signed_out" => t_string!(i18n, connection.signed_out),
        "connection.device_revoked" => t_string!(i18n, connection.device_revoked),
        "sign_in.device_revoked" => t_string!(i18n, sign_in.device_revoked),
        "sign_in.device_conflict" => t_string!(i18n, sign_in.device_conflict),
        "sign_in.no_device_key" => t_string!(i18n, sign_in.no_device_key),
        "unsynced.kept" => t_string!(i18n, unsynced.kept),
        "export.done" => t_string!(i18n, export.done),
        "export.failed" => t_string!(i18n, export.failed),
        "correct.done" => t_string!(i18n, correct.done),
        "correct.sent_again" => t_string!(i18n, correct.sent_again),
        "admin.revoked" => t_string!(i18n, admin.revoked),
        "admin.user_created" => t_string!(i18n, admin.user_created),
        "admin.estate_created" => t_string!(i18n, admin.estate_created),
        "admin.estate_invalid" => t_string!(i18n, admin.estate_invalid),
        "admin.estate_taken" => t_string!(i18n, admin.estate_taken),
        "admin.retention_saved" => t_string!(i18n, admin.retention_saved),
        "admin.retention_invalid" => t_string!(i18n, admin.retention_invalid),
        "admin.found_periods_invalid" => t_string!(i18n, admin.found_periods_invalid),
        "admin.user_invalid" => t_string!(i18n, admin.user_invalid),
        "admin.username_taken" => t_string!(i18n, admin.username_taken),
        "account.password_changed" => t_string!(i18n, account.password_changed),
        "account.wrong_password" => t_string!(i18n, account.wrong_password),
        "account.password_too_short" => t_string!(i18n, account.password_too_short),
        "account.needs_network" => t_string!(i18n, account.needs_network),
        "account.device_named" => t_string!(i18n, account.device_named),
        "account.bad_device_name" => t_string!(i18n, account.bad_device_name),
        "admin.failed" => t_string!(i18n, admin.failed),
        "admin.restored" => t_string!(i18n, admin.restored),
        "admin.needs_network" => t_string!(i18n, admin.needs_network),
        "connection.must_update" => t_string!(i18n, connection.must_update),
        "sign_in.invalid" => t_string!(i18n, sign_in.invalid),
        "sign_in.needs_network" => t_string!(i18n, sign_in.needs_network),
        "sign_in.failed" => t_string!(i18n, sign_in.failed),
        "sign_in.too_many" => t_string!(i18n, sign_in.too_many),
        "field.author" => t_string!(i18n, field.author),
        "field.corrects" => t_string!(i18n, field.corrects),
        "field.guard_name" => t_string!(i18n, field.guard_name),
        "field.started_at" => t_string!(i18n, field.started_at),
        "field.ended_at" => t_string!(i18n, field.ended_at),
        "field.route" => t_string!(i18n, field.route),
        "field.checkpoint" => t_string!(i18n, field.checkpoint),
        "field.note" => t_string!(i18n, field.note),
        "field.what" => t_string!(i18n, field.what),
        "field.location" => t_string!(i18n, field.location),
        "field.text" => t_string!(i18n, field.text),
        "field.other" => t_string!(i18n, field.other),
        "field.time" => t_string!(i18n, field.time),
        "repair.started" => t_string!(i18n, repair.started),
        "repair.closed" => t_string!(i18n, repair.closed),
        "found.registered" => t_string!(i18n, found.registered),
        "found.counted" => t_string!(i18n, found.counted),
        "found.handed_over" => t_string!(i18n, found.handed_over),
        "found.received" => t_string!(i18n, found.received),
        "found.described" => t_string!(i18n, found.described),
        "found.claimed" => t_string!(i18n, found.claimed),
        "found.saved" => t_string!(i18n, found.saved),
        "field.description" => t_string!(i18n, field.description),
        "field.area" => t_string!(i18n, field.area),
        "field.witness_name" => t_string!(i18n, field.witness_name),
        "field.claimant_name" => t_string!(i18n, field.claimant_name),
        "field.id_number" => t_string!(i18n, field.id_number),
        "field.holder_name" => t_string!(i18n, field.holder_name),
        "field.amount_fen" => t_string!(i18n, field.amount_fen),
        "repair.estimate_saved" => t_string!(i18n, repair.estimate_saved),
        "repair.work_saved" => t_string!(i18n, repair.work_saved),
        "repair.measure_saved" => t_string!(i18n, repair.measure_saved),
        "signature.saved" => t_string!(i18n, signature.saved),
        "office.load_failed" => t_string!(i18n, office.load_failed),
        "field.cause" => t_string!(i18n, field.cause),
        "field.contact" => t_string!(i18n, field.contact),
        "field.done" => t_string!(i18n, field.done),
        "field.estimate" => t_string!(i18n, field.estimate),
        "field.fault" => t_string!(i18n, field.fault),
        "field.fee_fen" => t_string!(i18n, field.fee_fen),
        "field.labour_fen" => t_string!(i18n, field.labour_fen),
        "field.method" => t_string!(i18n, field.method),
        "field.minutes" => t_string!(i18n, field.minutes),
        "field.model" => t_string!(i18n, field.model),
        "field.name" => t_string!(i18n, field.name),
        "field.quantity" => t_string!(i18n, field.quantity),
        "field.reason" => t_string!(i18n, field.reason),
        "field.reported_by" => t_string!(i18n, field.reported_by),
        "field.signer_name" => t_string!(i18n, field.signer_name),
        "field.stroke" => t_string!(i18n, field.stroke),
        "field.subject" => t_string!(i18n, field.subject),
        "field.technician_name" => t_string!(i18n, field.technician_name),
        "field.unit" => t_string!(i18n, field.unit),
        "field.unit_price_fen" => t_string!(i18n, field.unit_price_fen),
        "field.building" => t_string!(i18n, field.building),
        "field.entrance" => t_string!(i18n, field.entrance),
        "field.room" => t_string!(i18n, field.room),
        "field.occupancy" => t_string!(i18n, field.occupancy),
        "field.company" => t_string!(i18n, field.company),
        "field.owners" => t_string!(i18n, field.owners),
        "field.tenants" => t_string!(i18n, field.tenants),
        "field.owner_name" => t_string!(i18n, field.owner_name),
        "field.owner_phone" => t_string!(i18n, field.owner_phone),
        "field.owner_employer" => t_string!(i18n, field.owner_employer),
        "field.owner_id_last4" => t_string!(i18n, field.owner_id_last4),
        "field.tenant_name" => t_string!(i18n, field.tenant_name),
        "field.tenant_phone" => t_string!(i18n, field.tenant_phone),
        "field.tenant_id_last4" => t_string!(i18n, field.tenant_id_last4),
        "field.lease_start" => t_string!(i18n, field.lease_start),
        "field.lease_end" => t_string!(i18n, field.lease_end),
        "registry.unit_saved" => t_string!(i18n, registry.unit_saved),
        "slip.saved" => t_string!(i18n, slip.saved),
        "connection.sync_waits" => t_string!(i18n, connection.sync_waits),
        "request.created" => t_string!(i18n, request.created),
        "request.taken" => t_string!(i18n, request.taken),
        "request.take_failed" => t_string!(i18n, request.take_failed),
        "request.reassigned" => t_string!(i18n, request.reassigned),
        "request.cancelled" => t_string!(i18n, request.cancelled),
        "request.links_failed" => t_string!(i18n, request.links_failed),
        "register.load_failed" => t_string!(i18n, register.load_failed),
        "register.exported" => t_string!(i18n, register.exported),
        "field.item_what" => t_string!(i18n, field.item_what),
        "field.held_what" => t_string!(i18n, field.held_what),
        "slip.approved" => t_string!(i18n, slip.approved),
        "slip.checked" => t_string!(i18n, slip.checked_saved),
        "route.saved" => t_string!(i18n, route.saved),
        "sign_in.offline_done" => t_string!(i18n, sign_in.offline_done),
        "visit.scanned_saved" => t_string!(i18n, visit.scanned_saved),
        "scan.not_on_route" => t_string!(i18n, scan.not_on_route),
        "scan.not_a_checkpoint" => t_string!(i18n, scan.not_a_checkpoint),
        "field.checkpoints" => t_string!(i18n, field.checkpoints),
        "field.due_times" => t_string!(i18n, field.due_times),
        "field.max_minutes" => t_string!(i18n, field.max_minutes),
        "field.hint" => t_string!(i18n, field.hint),
        "field.planned" => t_string!(i18n, field.planned),
        "field.checkpoint_id" => t_string!(i18n, field.checkpoint_id),
        "field.route_name" => t_string!(i18n, field.route_name),
        "field.applicant_name" => t_string!(i18n, field.applicant_name),
        "field.valid_from" => t_string!(i18n, field.valid_from),
        "field.valid_until" => t_string!(i18n, field.valid_until),
        "field.items" => t_string!(i18n, field.items),
        "field.approver_name" => t_string!(i18n, field.approver_name),
        "field.phone_number" => t_string!(i18n, field.phone_number),
        "field.identity_checks" => t_string!(i18n, field.identity_checks),
        "field.carrier_name" => t_string!(i18n, field.carrier_name),
        "field.carrier_id" => t_string!(i18n, field.carrier_id),
        "field.plate" => t_string!(i18n, field.plate),
        "field.released" => t_string!(i18n, field.released),
        "field.held" => t_string!(i18n, field.held),
        "field.decision" => t_string!(i18n, field.decision),
        "field.check_date" => t_string!(i18n, field.check_date),

        other => return problem_key_text(i18n, ProblemKey::parse(other)).to_string(),
    };
    text.to_string()
}

/// What a broken rule means, for every key the rules have.
pub fn problem_key_text(i18n: I18nContext<Locale>, key: ProblemKey) -> &'static str {
    match key {
        ProblemKey::Required => t_string!(i18n, validation.required),
        ProblemKey::TooLong => t_string!(i18n, validation.too_long),
        ProblemKey::EndsBeforeStart => t_string!(i18n, validation.ends_before_start),
        ProblemKey::BeforeRoundStart => t_string!(i18n, validation.before_round_start),
        ProblemKey::DuplicateId => t_string!(i18n, validation.duplicate_id),
        ProblemKey::OtherEstate => t_string!(i18n, validation.other_estate),
        ProblemKey::NotARecord => t_string!(i18n, validation.not_a_record),
        ProblemKey::EstateChanged => t_string!(i18n, validation.estate_changed),
        ProblemKey::CreatorChanged => t_string!(i18n, validation.creator_changed),
        ProblemKey::CreatorNotWriter => t_string!(i18n, validation.creator_not_writer),
        ProblemKey::EntryDeleted => t_string!(i18n, validation.entry_deleted),
        ProblemKey::Unknown => t_string!(i18n, validation.unknown),
        ProblemKey::InFuture => t_string!(i18n, validation.in_future),
        ProblemKey::ForeignActor => t_string!(i18n, validation.foreign_actor),
        ProblemKey::RoleForbids => t_string!(i18n, validation.role_forbids),
        ProblemKey::DocumentTooLarge => t_string!(i18n, validation.document_too_large),
        ProblemKey::CorrectFirst => t_string!(i18n, validation.correct_first),
        ProblemKey::KindChanged => t_string!(i18n, validation.kind_changed),
        ProblemKey::EntryChanged => t_string!(i18n, validation.entry_changed),
        ProblemKey::AuthorNotWriter => t_string!(i18n, validation.author_not_writer),
        ProblemKey::NotCreator => t_string!(i18n, validation.not_creator),
        ProblemKey::RecordClosed => t_string!(i18n, validation.record_closed),
        ProblemKey::BadCorrection => t_string!(i18n, validation.bad_correction),
        ProblemKey::BadSignature => t_string!(i18n, validation.bad_signature),
        ProblemKey::SignatureOtherRecord => t_string!(i18n, validation.signature_other_record),
        ProblemKey::ContentMismatch => t_string!(i18n, validation.content_mismatch),
        ProblemKey::StrokeMismatch => t_string!(i18n, validation.stroke_mismatch),
        ProblemKey::EmptyStroke => t_string!(i18n, validation.empty_stroke),
        ProblemKey::StepOutOfOrder => t_string!(i18n, validation.step_out_of_order),
        ProblemKey::NoConsent => t_string!(i18n, validation.no_consent),
        ProblemKey::UnknownEntry => t_string!(i18n, validation.unknown_entry),
        ProblemKey::OutOfRange => t_string!(i18n, validation.out_of_range),
        ProblemKey::TooMany => t_string!(i18n, validation.too_many),
        ProblemKey::NoChange => t_string!(i18n, validation.no_change),
        ProblemKey::DuplicateChange => t_string!(i18n, validation.duplicate_change),
        ProblemKey::NotLet => t_string!(i18n, validation.not_let),
        ProblemKey::BadPhone => t_string!(i18n, validation.bad_phone),
        ProblemKey::BadIdNumber => t_string!(i18n, validation.bad_id_number),
        ProblemKey::BadDate => t_string!(i18n, validation.bad_date),
        ProblemKey::UnknownValue => t_string!(i18n, validation.unknown_value),
        ProblemKey::UnreadableRow => t_string!(i18n, validation.unreadable_row),
        ProblemKey::MissingColumn => t_string!(i18n, validation.missing_column),
        ProblemKey::DuplicateColumn => t_string!(i18n, validation.duplicate_column),
        ProblemKey::ConflictingRows => t_string!(i18n, validation.conflicting_rows),
        ProblemKey::NotApproved => t_string!(i18n, validation.not_approved),
        ProblemKey::OutOfWindow => t_string!(i18n, validation.out_of_window),
        ProblemKey::UsedUp => t_string!(i18n, validation.used_up),
        ProblemKey::OverReleased => t_string!(i18n, validation.over_released),
        ProblemKey::DecisionMismatch => t_string!(i18n, validation.decision_mismatch),
        ProblemKey::SlipApproved => t_string!(i18n, validation.slip_approved),
        ProblemKey::Unsigned => t_string!(i18n, validation.unsigned),
        ProblemKey::NotAssigned => t_string!(i18n, validation.not_assigned),
        ProblemKey::RequestClosed => t_string!(i18n, validation.request_closed),
        ProblemKey::ApprovalMismatch => t_string!(i18n, validation.approval_mismatch),
        ProblemKey::BadTime => t_string!(i18n, validation.bad_time),
        ProblemKey::DuplicateName => t_string!(i18n, validation.duplicate_name),
        ProblemKey::OnRoute => t_string!(i18n, validation.on_route),
        ProblemKey::NotOnRoute => t_string!(i18n, validation.not_on_route),
        ProblemKey::RouteChanged => t_string!(i18n, validation.route_changed),
        ProblemKey::PersonalData => t_string!(i18n, validation.personal_data),
        ProblemKey::NotWitnessed => t_string!(i18n, validation.not_witnessed),
        ProblemKey::CountIncomplete => t_string!(i18n, validation.count_incomplete),
        ProblemKey::NoDescription => t_string!(i18n, validation.no_description),
        ProblemKey::IdNotChecked => t_string!(i18n, validation.id_not_checked),
        ProblemKey::BeforeRetention => t_string!(i18n, validation.before_retention),
    }
}

/// "Field: message" (with the locale's colon: full-width in Chinese) for a problem found by the rules.
pub fn problem_text(i18n: I18nContext<Locale>, problem: &Problem) -> String {
    let mut segments = problem.path.rsplit('.');
    let field = segments.next().unwrap_or_default();
    let field = field.split('[').next().unwrap_or_default();
    // A registry's owner or tenant: "units[3].unit.owners[0].phone" is the owner's phone;
    // a slip's item or a held item: "items[0].what".
    let person = match segments.next().and_then(|s| s.split('[').next()) {
        Some("owners") => Some("owner"),
        Some("tenants") => Some("tenant"),
        Some("items") => Some("item"),
        Some("held") => Some("held"),
        Some("revision" | "revisions") => Some("route"),
        Some("checkpoints" | "planned") => Some("checkpoint"),
        _ => None,
    };
    let label_key = match (person, field) {
        (Some(person @ ("owner" | "tenant")), "name" | "phone" | "employer" | "id_last4") => {
            format!("field.{person}_{field}")
        }
        (Some(list @ ("item" | "held")), "what") => format!("field.{list}_what"),
        (Some("route"), "name") | (_, "route_id") => "field.route_name".to_owned(),
        (Some("checkpoint"), "name" | "id") => "field.checkpoint".to_owned(),
        (
            _,
            "building" | "entrance" | "room" | "occupancy" | "company" | "owners" | "tenants"
            | "lease_start" | "lease_end" | "applicant_name" | "valid_from" | "valid_until"
            | "items" | "approver_name" | "phone_number" | "identity_checks" | "carrier_name"
            | "carrier_id" | "plate" | "released" | "held" | "decision" | "check_date",
        ) => format!("field.{field}"),
        _ => match field {
            "route" | "checkpoint" | "note" | "what" | "location" | "text" | "author"
            | "corrects" | "guard_name" | "started_at" | "ended_at" | "unit" | "reported_by"
            | "contact" | "fault" | "model" | "cause" | "method" | "name" | "quantity"
            | "unit_price_fen" | "labour_fen" | "fee_fen" | "done" | "minutes" | "reason"
            | "signer_name" | "stroke" | "subject" | "estimate" | "technician_name"
            | "checkpoints" | "due_times" | "max_minutes" | "hint" | "planned"
            | "checkpoint_id" | "description" | "area" | "witness_name" | "claimant_name"
            | "id_number" | "holder_name" | "amount_fen" => {
                format!("field.{field}")
            }
            "visited_at" | "found_at" | "written_at" | "taken_at" | "done_at" | "decided_at"
            | "signed_at" | "closed_at" | "revised_at" => "field.time".to_owned(),
            _ => "field.other".to_owned(),
        },
    };
    format!(
        "{}{}{}",
        tr(i18n, &label_key),
        t_string!(i18n, app.colon),
        problem_key_text(i18n, problem.key)
    )
}

pub fn saved_locale() -> Locale {
    let stored = window()
        .local_storage()
        .ok()
        .flatten()
        .and_then(|s| s.get_item(LOCALE_KEY).ok().flatten());
    match stored.as_deref() {
        Some("en") => Locale::en,
        _ => Locale::zh_Hans,
    }
}

pub fn switch_locale(i18n: I18nContext<Locale>) {
    let next = match i18n.get_locale_untracked() {
        Locale::zh_Hans => Locale::en,
        Locale::en => Locale::zh_Hans,
    };
    i18n.set_locale(next);
    if let Ok(Some(storage)) = window().local_storage() {
        let _ = storage.set_item(
            LOCALE_KEY,
            if next == Locale::en { "en" } else { "zh-Hans" },
        );
    }
}
