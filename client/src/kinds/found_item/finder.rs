//! The finder's screens, on a phone with or without network: register the item where it was
//! found, count a valuable's contents with a witness, both sign, and hand it to the desk.

use gatehouse_shared::money::{format_yuan, parse_yuan};
use gatehouse_shared::problem::keys;
use gatehouse_shared::record::found_item::{
    Category, ContentKind, Count, CountStage, CountedItem, CustodyMove, FoundItem, Holder, MAX_FEN,
};
use gatehouse_shared::signature::{Purpose, SignerRole};
use gatehouse_shared::{DocumentId, EntryId, Problem};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::sign::{sign_and_save, SignBox, Signing};
use super::view::{content_name, line_text};
use super::{category_name, status_name};
use crate::ctx::{random_id, Ctx, EditError, Screen};
use crate::i18n::*;
use crate::time::{format_time, now_ms};
use crate::widgets::{Problems, StatusBadge};

/// One line of a count being typed.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct LineDraft {
    pub what: String,
    pub content: ContentKind,
    pub quantity: String,
    /// Yuan, for cash.
    pub amount: String,
}

impl LineDraft {
    pub fn empty() -> Self {
        Self {
            what: String::new(),
            content: ContentKind::Other,
            quantity: "1".into(),
            amount: String::new(),
        }
    }

    pub fn of(item: &CountedItem) -> Self {
        Self {
            what: item.what.clone(),
            content: item.content,
            quantity: item.quantity.to_string(),
            amount: if item.content == ContentKind::Cash {
                format_yuan(item.amount_fen)
                    .trim_start_matches('¥')
                    .to_owned()
            } else {
                String::new()
            },
        }
    }
}

/// The typed lines as counted lines (blank lines left out), or what is wrong with them.
pub(super) fn counted(lines: &[LineDraft], path: &str) -> Result<Vec<CountedItem>, Vec<Problem>> {
    let mut items = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.what.trim().is_empty() && line.amount.trim().is_empty() {
            continue;
        }
        let quantity = line.quantity.trim().parse::<u32>().ok();
        let amount_fen = if line.content == ContentKind::Cash {
            parse_yuan(&line.amount, MAX_FEN)
        } else {
            Some(0)
        };
        if quantity.is_none() {
            problems.push(Problem::new(
                format!("{path}[{i}].quantity"),
                keys::OUT_OF_RANGE,
            ));
        }
        if amount_fen.is_none() {
            problems.push(Problem::new(
                format!("{path}[{i}].amount_fen"),
                keys::OUT_OF_RANGE,
            ));
        }
        if line.what.trim().is_empty() {
            problems.push(Problem::new(format!("{path}[{i}].what"), keys::REQUIRED));
        }
        if let (Some(quantity), Some(amount_fen)) = (quantity, amount_fen) {
            items.push(CountedItem {
                what: line.what.trim().to_owned(),
                content: line.content,
                quantity,
                amount_fen,
            });
        }
    }
    if problems.is_empty() {
        Ok(items)
    } else {
        Err(problems)
    }
}

/// Lines of a count, typed one per row: what, kind, how many, and the amount for cash.
#[component]
pub(super) fn LinesEditor(lines: RwSignal<Vec<LineDraft>>) -> impl IntoView {
    let i18n = use_i18n();
    let add = move |_| lines.update(|l| l.push(LineDraft::empty()));
    view! {
        <div class="count-lines" data-testid="count-lines">
            {move || (0..lines.with(Vec::len)).map(|i| {
                let get = move || lines.with(|l| l.get(i).cloned()).unwrap_or_else(LineDraft::empty);
                let set = move |f: &dyn Fn(&mut LineDraft)| lines.update(|l| if let Some(line) = l.get_mut(i) { f(line) });
                view! {
                    <div class="count-line" data-testid="count-line">
                        <input data-testid="line-what" placeholder=move || t_string!(i18n, found.line_what).to_string()
                            prop:value=move || get().what on:input=move |ev| { let v = event_target_value(&ev); set(&|l| l.what = v.clone()) }/>
                        <select data-testid="line-content" aria-label=move || t_string!(i18n, found.line_kind).to_string() prop:value=move || get().content.as_str()
                            on:change=move |ev| { let v = ContentKind::parse(&event_target_value(&ev)).unwrap_or(ContentKind::Other); set(&|l| l.content = v) }>
                            {ContentKind::ALL.into_iter().map(|c| view! { <option value=c.as_str()>{move || content_name(i18n, c)}</option> }).collect_view()}
                        </select>
                        <input type="number" min="0" inputmode="numeric" data-testid="line-quantity" aria-label=move || t_string!(i18n, found.line_quantity).to_string()
                            prop:value=move || get().quantity on:input=move |ev| { let v = event_target_value(&ev); set(&|l| l.quantity = v.clone()) }/>
                        <Show when=move || get().content == ContentKind::Cash>
                            <input inputmode="decimal" data-testid="line-amount" placeholder=move || t_string!(i18n, found.line_amount).to_string()
                                prop:value=move || get().amount on:input=move |ev| { let v = event_target_value(&ev); set(&|l| l.amount = v.clone()) }/>
                        </Show>
                    </div>
                }
            }).collect_view()}
            <button class="secondary" data-testid="add-line" on:click=add>{t!(i18n, found.add_line)}</button>
        </div>
    }
}

/// Register a found item, and the items this user registered.
#[component]
pub fn FinderHome() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let mine = move || {
        ctx.version.track();
        ctx.model.with_value(|m| m.mine_of::<FoundItem>())
    };
    view! {
        <RegisterForm/>
        <h2>{t!(i18n, found.mine)}</h2>
        <div class="list" data-testid="found-list">
            {move || {
                let mine = mine();
                if mine.is_empty() {
                    view! { <p class="muted">{t!(i18n, found.none)}</p> }.into_any()
                } else {
                    mine.into_iter().map(|(id, item)| {
                        let status = item.status();
                        view! {
                            <div class="row" role="button" tabindex="0" data-testid="found-item" data-doc=id.to_string()
                                on:click=move |_| ctx.screen.set(Screen::Record(id))
                                on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" || ev.key() == " " {
                                    ev.prevent_default();
                                    ctx.screen.set(Screen::Record(id));
                                }>
                                <div class="row-main">
                                    <strong>{item.description.clone()}</strong>
                                    <span>{item.area.clone()}</span>
                                    <span class="muted">{format_time(item.found_at)}</span>
                                </div>
                                <div class="row-meta">
                                    <span class="pill">{status_name(i18n, status.as_str())}</span>
                                    <StatusBadge id=id/>
                                </div>
                            </div>
                        }
                    }).collect_view().into_any()
                }
            }}
        </div>
    }
}

#[component]
fn RegisterForm() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let description = RwSignal::new(String::new());
    let category = RwSignal::new(Category::Bag);
    let building = RwSignal::new(String::new());
    let floor = RwSignal::new(String::new());
    let area = RwSignal::new(String::new());
    let spot = RwSignal::new(String::new());
    // Minutes ago it was found (0: now).
    let minutes_ago = RwSignal::new(String::from("0"));
    let estate = RwSignal::new(None::<String>);
    let problems = RwSignal::new(Vec::<Problem>::new());
    let busy = RwSignal::new(false);
    let estates = move || {
        ctx.session
            .get()
            .map(|s| s.user.estates)
            .unwrap_or_default()
    };
    let register = move |_| {
        if busy.get_untracked() {
            return;
        }
        let Some(user) = ctx.session.get_untracked().map(|s| s.user) else {
            return;
        };
        let Some(estate_id) = ctx.start_estate(estate.get_untracked()) else {
            return;
        };
        let now = now_ms();
        let Some(ago) = minutes_ago
            .get_untracked()
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|m| (0..=1440).contains(m))
        else {
            problems.set(vec![Problem::new("found_at", keys::OUT_OF_RANGE)]);
            return;
        };
        let record = FoundItem::register(
            &estate_id,
            &user.id,
            &user.display_name,
            &description.get_untracked(),
            category.get_untracked(),
            &building.get_untracked(),
            &floor.get_untracked(),
            &area.get_untracked(),
            &spot.get_untracked(),
            now - ago * 60_000,
            now,
        );
        busy.set(true);
        spawn_local(async move {
            let started = match record {
                Ok(record) => ctx.start(record).await,
                Err(found) => Err(EditError::Invalid(found)),
            };
            busy.set(false);
            match started {
                Ok(id) => {
                    for field in [description, building, floor, area, spot] {
                        field.set(String::new());
                    }
                    minutes_ago.set("0".into());
                    problems.set(Vec::new());
                    ctx.notify("found.registered", false);
                    ctx.screen.set(Screen::Record(id));
                }
                Err(EditError::Invalid(found)) => problems.set(found),
                Err(EditError::NotSaved) => ctx.notify("error.not_saved", true),
            }
        });
    };
    view! {
        <section class="card" data-testid="register-found-form">
            <h2>{t!(i18n, found.register)}</h2>
            <label>{t!(i18n, found.description)}
                <input data-testid="found-description" prop:value=move || description.get()
                    placeholder=move || t_string!(i18n, found.description_hint).to_string()
                    on:input=move |ev| description.set(event_target_value(&ev))/>
            </label>
            <fieldset class="choices">
                <legend>{t!(i18n, found.category)}</legend>
                {Category::ALL.into_iter().map(|c| view! {
                    <button class=move || if category.get() == c { "choice selected" } else { "choice" }
                        data-testid=format!("category-{}", c.as_str()) aria-pressed=move || (category.get() == c).to_string()
                        on:click=move |_| category.set(c)>{move || category_name(i18n, c)}</button>
                }).collect_view()}
            </fieldset>
            <div class="pair">
                <label>{t!(i18n, found.building)}
                    <input data-testid="found-building" prop:value=move || building.get() on:input=move |ev| building.set(event_target_value(&ev))/>
                </label>
                <label>{t!(i18n, found.floor)}
                    <input data-testid="found-floor" prop:value=move || floor.get() on:input=move |ev| floor.set(event_target_value(&ev))/>
                </label>
            </div>
            <label>{t!(i18n, found.area)}
                <input data-testid="found-area" prop:value=move || area.get()
                    placeholder=move || t_string!(i18n, found.area_hint).to_string()
                    on:input=move |ev| area.set(event_target_value(&ev))/>
            </label>
            <label>{t!(i18n, found.spot)}
                <input data-testid="found-spot" prop:value=move || spot.get() on:input=move |ev| spot.set(event_target_value(&ev))/>
            </label>
            <label>{t!(i18n, found.minutes_ago)}
                <input type="number" min="0" max="1440" inputmode="numeric" data-testid="found-minutes-ago"
                    prop:value=move || minutes_ago.get() on:input=move |ev| minutes_ago.set(event_target_value(&ev))/>
            </label>
            <Show when=move || { estates().len() > 1 }>
                <label>{t!(i18n, app.estate)}
                    <select data-testid="found-estate" on:change=move |ev| estate.set(Some(event_target_value(&ev)))>
                        {move || estates().into_iter().map(|e| view! { <option value=e.id.clone()>{e.name.clone()}</option> }).collect_view()}
                    </select>
                </label>
            </Show>
            <Problems problems=problems/>
            <button class="primary" data-testid="register-found" prop:disabled=move || busy.get() on:click=register>
                {t!(i18n, found.register)}
            </button>
        </section>
    }
}

/// The finder's steps while they hold the item: the count with a witness, the two
/// signatures over it, and the hand-over to the desk.
#[component]
pub fn FinderSteps(id: DocumentId, item: Memo<Option<FoundItem>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let count = Memo::new(move |_| {
        item.get()
            .and_then(|i| i.latest_count(CountStage::Registration).cloned())
    });
    let signed = move |role: SignerRole| {
        item.get()
            .zip(count.get())
            .is_some_and(|(i, c)| i.signed(Purpose::FoundItemCount, &c.id, role).is_some())
    };
    let problems = RwSignal::new(Vec::<Problem>::new());
    let busy = RwSignal::new(false);
    let may_hand_over = move || {
        item.get().is_some_and(|i| {
            !i.is_valuable()
                || i.latest_count(CountStage::Registration)
                    .is_some_and(|c| i.is_witnessed(c))
        })
    };
    let hand_over = move |_| {
        let moved = CustodyMove {
            id: EntryId::from_random(random_id()).to_string(),
            author: ctx.user_id(),
            corrects: None,
            to: Holder::Desk,
            holder_name: String::new(),
            place: String::new(),
            note: String::new(),
            moved_at: now_ms(),
        };
        ctx.save_edit_once::<FoundItem>(
            busy,
            id,
            problems,
            "found.handed_over",
            move |r| r.moves.push(moved),
            || {},
        );
    };
    view! {
        {move || match count.get() {
            None => view! { <CountForm id=id item=item/> }.into_any(),
            Some(c) if !signed(SignerRole::Finder) => view! {
                <SignCount id=id item=item count=c role=SignerRole::Finder/>
            }.into_any(),
            Some(c) if !signed(SignerRole::Witness) => view! {
                <SignCount id=id item=item count=c role=SignerRole::Witness/>
            }.into_any(),
            Some(_) => ().into_any(),
        }}
        <section class="card" data-testid="hand-over">
            <h3>{t!(i18n, found.hand_over)}</h3>
            <p class="muted">{move || if may_hand_over() {
                t_string!(i18n, found.hand_over_explain).to_string()
            } else {
                t_string!(i18n, found.count_first).to_string()
            }}</p>
            <Problems problems=problems/>
            <button class="primary" data-testid="hand-over-button" on:click=hand_over
                prop:disabled=move || busy.get() || !may_hand_over()>{t!(i18n, found.hand_over)}</button>
        </section>
    }
}

/// The count at registration: line by line, with the witness's name.
#[component]
fn CountForm(id: DocumentId, item: Memo<Option<FoundItem>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let lines = RwSignal::new(vec![LineDraft::empty()]);
    let witness = RwSignal::new(String::new());
    let problems = RwSignal::new(Vec::<Problem>::new());
    let busy = RwSignal::new(false);
    let save = move |_| {
        let items = match counted(&lines.get_untracked(), "items") {
            Ok(items) if items.is_empty() => {
                return problems.set(vec![Problem::new("items", keys::REQUIRED)]);
            }
            Ok(items) => items,
            Err(found) => return problems.set(found),
        };
        if witness.get_untracked().trim().is_empty() {
            return problems.set(vec![Problem::new("witness_name", keys::REQUIRED)]);
        }
        let count = Count {
            id: EntryId::from_random(random_id()).to_string(),
            author: ctx.user_id(),
            corrects: None,
            stage: CountStage::Registration,
            items,
            witness_name: witness.get_untracked().trim().to_owned(),
            counted_at: now_ms(),
        };
        ctx.save_edit_once::<FoundItem>(
            busy,
            id,
            problems,
            "found.counted",
            move |r| r.counts.push(count),
            || {},
        );
    };
    view! {
        <section class="card" data-testid="count-form">
            <h3>{t!(i18n, found.count_title)}</h3>
            <p class="muted">{move || if item.get().is_some_and(|i| i.is_valuable()) {
                t_string!(i18n, found.count_valuable).to_string()
            } else {
                t_string!(i18n, found.count_optional).to_string()
            }}</p>
            <LinesEditor lines=lines/>
            <label>{t!(i18n, found.witness)}
                <input data-testid="witness-name" prop:value=move || witness.get()
                    placeholder=move || t_string!(i18n, found.witness_hint).to_string()
                    on:input=move |ev| witness.set(event_target_value(&ev))/>
            </label>
            <Problems problems=problems/>
            <button class="primary" data-testid="save-count" prop:disabled=move || busy.get() on:click=save>{t!(i18n, found.save_count)}</button>
        </section>
    }
}

/// One signature over the registration count: the finder's, then the witness's.
#[component]
fn SignCount(
    id: DocumentId,
    item: Memo<Option<FoundItem>>,
    count: Count,
    role: SignerRole,
) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let i18n = use_i18n();
    let name = RwSignal::new(match role {
        SignerRole::Witness => count.witness_name.clone(),
        _ => item
            .get_untracked()
            .map(|i| i.finder_name)
            .unwrap_or_default(),
    });
    let busy = RwSignal::new(false);
    let problems = RwSignal::new(Vec::<Problem>::new());
    let heading = match role {
        SignerRole::Witness => t_string!(i18n, found.sign_witness).to_string(),
        _ => t_string!(i18n, found.sign_finder).to_string(),
    };
    let mut lines: Vec<String> = item
        .get_untracked()
        .map(|i| {
            vec![
                format!("{}（{}）", i.description, category_name(i18n, i.category)),
                [i.building, i.floor, i.area, i.spot]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" "),
                format_time(i.found_at),
            ]
        })
        .unwrap_or_default();
    lines.extend(count.items.iter().map(|l| line_text(i18n, l)));
    lines.push(format!(
        "{}{}{}",
        t_string!(i18n, found.witness),
        t_string!(i18n, app.colon),
        count.witness_name
    ));
    let subject = count.id.clone();
    let on_sign = Callback::new(move |(signer, stroke): (String, Vec<u8>)| {
        let Some(record) = item.get_untracked() else {
            return;
        };
        let Some(content) = record.content_for(Purpose::FoundItemCount, &subject) else {
            return;
        };
        let signing = Signing {
            purpose: Purpose::FoundItemCount,
            subject: subject.clone(),
            role,
            name: signer,
            stroke,
            content_hash: content.hash(),
        };
        sign_and_save(
            ctx,
            id,
            signing,
            busy,
            problems,
            "signature.saved",
            |r, entry| r.signatures.push(entry),
        );
    });
    view! {
        <SignBox heading=heading lines=lines name=name busy=busy problems=problems
            testid=if role == SignerRole::Witness { "sign-witness" } else { "sign-finder" } on_sign=on_sign/>
    }
}
