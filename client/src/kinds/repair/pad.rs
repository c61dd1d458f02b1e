//! Signatures on the technician's phone: the pad the owner signs on with a finger, the exact
//! content shown above it in the signer's language, and the signing with the device's key.
//! Also the drawing of a stored signature.

use gatehouse_shared::money::format_yuan as yuan;
use gatehouse_shared::problem::keys;
use gatehouse_shared::record::repair::RepairRecord;
use gatehouse_shared::signature::{
    Purpose, Signature, SignerRole, Stroke, Unsigned, MAX_STROKE_BYTES,
};
use gatehouse_shared::{DocumentId, EntryId, Problem};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, PointerEvent};

use super::component_name;
use super::view::{parts_lines, signer_role_name};
use crate::ctx::{random_id, Ctx, EditError};
use crate::i18n::*;
use crate::identity::DeviceIdentity;
use crate::text::switch_locale;
use crate::time::now_ms;
use crate::widgets::Problems;

/// A stored signature, drawn as lines in its pad's proportions.
#[component]
pub fn StrokeDrawing(stroke: Vec<u8>) -> impl IntoView {
    let Some(stroke) = Stroke::decode(&stroke) else {
        return ().into_any();
    };
    let lines = stroke
        .lines
        .iter()
        .map(|line| {
            let points = line
                .iter()
                .map(|(x, y)| format!("{x},{y}"))
                .collect::<Vec<_>>()
                .join(" ");
            view! { <polyline points=points fill="none" stroke="currentColor" stroke-width="2.5"
            stroke-linecap="round" stroke-linejoin="round"/> }
        })
        .collect_view();
    view! {
        <svg class="signature-drawing" data-testid="signature-drawing"
            viewBox=format!("0 0 {} {}", stroke.width.max(1), stroke.height.max(1))>
            {lines}
        </svg>
    }
    .into_any()
}

/// Bytes the stroke takes once encoded.
fn encoded_len(lines: &[Vec<(u16, u16)>]) -> usize {
    5 + lines.iter().map(|l| 2 + 4 * l.len()).sum::<usize>()
}

fn context_2d(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas.get_context("2d").ok()??.dyn_into().ok()
}

/// Sizes the canvas to what it shows (CSS pixels, one drawing unit each) and draws `lines`.
fn redraw(canvas: &HtmlCanvasElement, lines: &[Vec<(u16, u16)>]) {
    let (width, height) = (canvas.client_width().max(1), canvas.client_height().max(1));
    canvas.set_width(width as u32);
    canvas.set_height(height as u32);
    let Some(context) = context_2d(canvas) else {
        return;
    };
    context.set_line_width(2.5);
    context.set_line_cap("round");
    context.set_line_join("round");
    for line in lines {
        context.begin_path();
        for (i, (x, y)) in line.iter().enumerate() {
            let (x, y) = (f64::from(*x), f64::from(*y));
            if i == 0 {
                context.move_to(x, y);
            } else {
                context.line_to(x, y);
            }
        }
        context.stroke();
    }
}

/// The pad: a canvas the signer draws on with a finger (or a mouse); `stroke` holds what is
/// drawn, in the canvas's CSS pixels.
#[component]
pub(crate) fn SignaturePad(stroke: RwSignal<Stroke>, full: RwSignal<bool>) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let drawing = RwSignal::new(false);
    let point = move |ev: &PointerEvent| -> Option<(u16, u16)> {
        let s = stroke.get_untracked();
        let x = ev.offset_x().clamp(0, i32::from(s.width));
        let y = ev.offset_y().clamp(0, i32::from(s.height));
        Some((u16::try_from(x).ok()?, u16::try_from(y).ok()?))
    };
    let down = move |ev: PointerEvent| {
        // One finger draws; a second one (a palm, a thumb) is ignored.
        if !ev.is_primary() {
            return;
        }
        let Some(element) = canvas.get_untracked() else {
            return;
        };
        ev.prevent_default();
        let _ = element.set_pointer_capture(ev.pointer_id());
        // The pad's size is taken when drawing starts; a turned phone redraws what is there.
        let (width, height) = (element.client_width(), element.client_height());
        let current = stroke.get_untracked();
        if i32::from(current.width) != width || i32::from(current.height) != height {
            let Ok(width) = u16::try_from(width.max(1)) else {
                return;
            };
            let Ok(height) = u16::try_from(height.max(1)) else {
                return;
            };
            stroke.update(|s| {
                let (sx, sy) = (
                    f64::from(width) / f64::from(s.width.max(1)),
                    f64::from(height) / f64::from(s.height.max(1)),
                );
                for line in &mut s.lines {
                    for (x, y) in line.iter_mut() {
                        *x = (f64::from(*x) * sx).round().min(f64::from(width)) as u16;
                        *y = (f64::from(*y) * sy).round().min(f64::from(height)) as u16;
                    }
                }
                s.width = width;
                s.height = height;
            });
            redraw(&element, &stroke.get_untracked().lines);
        }
        if encoded_len(&stroke.get_untracked().lines) + 6 > MAX_STROKE_BYTES {
            full.set(true);
            return;
        }
        if let Some(p) = point(&ev) {
            stroke.update(|s| s.lines.push(vec![p]));
            drawing.set(true);
        }
    };
    let moved = move |ev: PointerEvent| {
        if !drawing.get_untracked() || !ev.is_primary() {
            return;
        }
        ev.prevent_default();
        let Some(p) = point(&ev) else {
            return;
        };
        let mut last = None;
        stroke.update(|s| {
            if encoded_len(&s.lines) + 4 > MAX_STROKE_BYTES {
                full.set(true);
                return;
            }
            if let Some(line) = s.lines.last_mut() {
                last = line.last().copied();
                // Points closer than a pixel add bytes and nothing to see.
                if last.is_some_and(|(x, y)| x.abs_diff(p.0) + y.abs_diff(p.1) < 2) {
                    last = None;
                    return;
                }
                line.push(p);
            }
        });
        if let (Some((x0, y0)), Some(element)) = (last, canvas.get_untracked()) {
            if let Some(context) = context_2d(&element) {
                context.set_line_width(2.5);
                context.set_line_cap("round");
                context.begin_path();
                context.move_to(f64::from(x0), f64::from(y0));
                context.line_to(f64::from(p.0), f64::from(p.1));
                context.stroke();
            }
        }
    };
    let up = move |ev: PointerEvent| {
        if ev.is_primary() {
            drawing.set(false);
        }
    };
    // Cleared (or started afresh): the canvas shows what the stroke holds.
    Effect::new(move |_| {
        let lines = stroke.with(|s| s.lines.is_empty());
        if let (true, Some(element)) = (lines, canvas.get()) {
            redraw(&element, &[]);
        }
    });
    view! {
        <canvas class="signature-pad" data-testid="signature-pad" node_ref=canvas
            on:pointerdown=down on:pointermove=moved on:pointerup=up on:pointercancel=up/>
    }
}

/// Signs `unsigned` with this device's key (WebCrypto): the signature entry to add, or
/// `NotSaved` when the key could not sign. Every signing screen takes its signatures here.
pub(crate) async fn take_signature(
    identity: &DeviceIdentity,
    unsigned: &Unsigned<'_>,
) -> Result<Signature, EditError> {
    let mut entry = Signature::from_parts(unsigned, Vec::new());
    match identity.sign(&entry.message()).await {
        Ok(bytes) => {
            entry.signature = bytes.into();
            Ok(entry)
        }
        Err(error) => {
            leptos::logging::error!("signing failed: {error}");
            Err(EditError::NotSaved)
        }
    }
}

/// Asks the signer to sign `purpose` over the current estimate: what they agree to, in their
/// language, then the pad; the signature is made with this device's key and added to the
/// record.
#[component]
pub fn SignStep(
    id: DocumentId,
    repair: Memo<Option<RepairRecord>>,
    purpose: Purpose,
) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let signer_role = RwSignal::new(SignerRole::Owner);
    let signer_name = RwSignal::new(String::new());
    let stroke = RwSignal::new(Stroke {
        width: 1,
        height: 1,
        lines: Vec::new(),
    });
    let full = RwSignal::new(false);
    let problems = RwSignal::new(Vec::<Problem>::new());
    let busy = RwSignal::new(false);
    let clear = move |_| {
        stroke.update(|s| s.lines.clear());
        full.set(false);
    };
    let sign = move |_| {
        if busy.get_untracked() {
            return;
        }
        let drawn = stroke.get_untracked();
        if drawn.is_empty() {
            problems.set(vec![Problem::new("signature.stroke", keys::EMPTY_STROKE)]);
            return;
        }
        let (Some(record), Some(session), Some(identity)) = (
            repair.get_untracked(),
            ctx.session.get_untracked(),
            ctx.identity.get_value(),
        ) else {
            return;
        };
        let Some(subject) = record.current_estimate().map(|e| e.id.clone()) else {
            return;
        };
        let Some(content) = record.content_for(purpose, &subject) else {
            return;
        };
        let entry_id = EntryId::from_random(random_id()).to_string();
        let name = signer_name.get_untracked();
        let stroke_bytes = drawn.encode();
        busy.set(true);
        spawn_local(async move {
            let unsigned = Unsigned {
                id: &entry_id,
                author: &session.user.id,
                purpose,
                subject: &subject,
                signer_role: signer_role.get_untracked(),
                signer_name: &name,
                stroke: &stroke_bytes,
                content_hash: content.hash(),
                signed_at: now_ms(),
                document: id,
                device_id: identity.device_id(),
            };
            let outcome = match take_signature(&identity, &unsigned).await {
                Ok(entry) => {
                    ctx.edit::<RepairRecord>(id, move |r| r.signatures.push(entry))
                        .await
                }
                Err(error) => Err(error),
            };
            busy.set(false);
            match outcome {
                Ok(()) => {
                    problems.set(Vec::new());
                    stroke.update(|s| s.lines.clear());
                    signer_name.set(String::new());
                    ctx.notify("signature.saved", false);
                }
                Err(EditError::Invalid(found)) => problems.set(found),
                Err(EditError::NotSaved) => ctx.notify("error.not_saved", true),
            }
        });
    };
    let heading = match purpose {
        Purpose::RepairConsent => t_string!(i18n, signature.ask_consent).to_string(),
        // A repair's signing step asks for the two signatures of a repair only.
        _ => t_string!(i18n, signature.ask_acceptance).to_string(),
    };
    view! {
        <section class="card sign-step" data-testid="sign-step" data-purpose=purpose.as_str()>
            <h3>{heading}</h3>
            <button class="link" data-testid="signer-language" on:click=move |_| switch_locale(i18n)>
                {t!(i18n, app.switch_language)}
            </button>
            {move || repair.get().map(|r| view! { <SignedContentView repair=r purpose=purpose/> })}
            <label>{t!(i18n, signature.signer_role)}
                <select data-testid="signer-role" prop:value=move || signer_role.get().as_str()
                    on:change=move |ev| signer_role.set(SignerRole::parse(&event_target_value(&ev)).unwrap_or(SignerRole::Owner))>
                    {[SignerRole::Owner, SignerRole::Tenant, SignerRole::OwnersAgent].into_iter().map(|role| view! {
                        <option value=role.as_str()>{move || signer_role_name(i18n, role)}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>{t!(i18n, signature.signer_name)}
                <input data-testid="signer-name" prop:value=move || signer_name.get()
                    on:input=move |ev| signer_name.set(event_target_value(&ev))/>
            </label>
            <p class="muted">{t!(i18n, signature.sign_below)}</p>
            <SignaturePad stroke=stroke full=full/>
            <Show when=move || full.get()>
                <p class="problems" data-testid="pad-full">{t!(i18n, signature.pad_full)}</p>
            </Show>
            <Problems problems=problems/>
            <div class="actions">
                <button class="secondary" data-testid="clear-signature" on:click=clear>{t!(i18n, signature.clear)}</button>
                <button class="primary" data-testid="confirm-signature" on:click=sign
                    prop:disabled=move || busy.get()>{t!(i18n, signature.confirm)}</button>
            </div>
        </section>
    }
}

/// Exactly what a signature of `purpose` over the current estimate covers (the fields of
/// `RepairRecord::consent_content` / `acceptance_content`), in the app's language.
#[component]
fn SignedContentView(repair: RepairRecord, purpose: Purpose) -> impl IntoView {
    let i18n = use_i18n();
    let Some(estimate) = repair.current_estimate().cloned() else {
        return ().into_any();
    };
    let component = if repair.model.is_empty() {
        component_name(i18n, repair.component)
    } else {
        format!(
            "{} · {}",
            component_name(i18n, repair.component),
            repair.model
        )
    };
    let body = match purpose {
        Purpose::RepairConsent
        | Purpose::GateCheck
        | Purpose::SlipApproval
        | Purpose::FoundItemCount
        | Purpose::FoundItemReceipt
        | Purpose::FoundItemDisposal => view! {
            <div><span class="muted">{t!(i18n, repair.unit)}": "</span>{repair.unit.clone()}</div>
            <div><span class="muted">{t!(i18n, repair.fault)}": "</span>{repair.fault.clone()}</div>
            <div><span class="muted">{t!(i18n, repair.component)}": "</span>{component}</div>
            <div><span class="muted">{t!(i18n, repair.cause)}": "</span>{estimate.cause.clone()}</div>
            <div><span class="muted">{t!(i18n, repair.method)}": "</span>{estimate.method.clone()}</div>
            {parts_lines(&estimate.parts)}
            <div><span class="muted">{t!(i18n, repair.labour)}": "</span>{yuan(estimate.labour_fen)}</div>
        }
        .into_any(),
        Purpose::RepairAcceptance => {
            let mut work: Vec<_> = repair
                .work
                .iter()
                .filter(|w| w.estimate == estimate.id)
                .cloned()
                .collect();
            work.sort_by(|a, b| a.done_at.cmp(&b.done_at).then(a.id.cmp(&b.id)));
            let minutes: u64 = work.iter().map(|w| u64::from(w.minutes)).sum();
            view! {
                <div><span class="muted">{t!(i18n, repair.unit)}": "</span>{repair.unit.clone()}</div>
                {work.into_iter().map(|w| view! {
                    <div class="part">{w.done.clone()}" · "{w.minutes}" "{t!(i18n, repair.minutes_unit)}</div>
                    {parts_lines(&w.parts_used)}
                }).collect_view()}
                <div><span class="muted">{t!(i18n, repair.total_time)}": "</span>{minutes}" "{t!(i18n, repair.minutes_unit)}</div>
            }
            .into_any()
        }
    };
    view! {
        <div class="signed-content" data-testid="signed-content">
            {body}
            <div class="fee"><strong>{t!(i18n, repair.fee)}": "<span data-testid="signed-fee">{yuan(estimate.fee_fen())}</span></strong></div>
        </div>
    }
    .into_any()
}
