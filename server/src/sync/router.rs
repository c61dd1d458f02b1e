//! Routes each stored change to the connections it may concern, instead of waking every
//! connection for every change: a connection says who it serves (user, role, estates) and
//! which documents it has (its follow set, the documents it synced), and gets a queue of
//! its own. A change goes to a connection when the document is one it has, or when, in one
//! of its estates, the role lists records (the office), follows the kind, or the record is
//! the user's own or addressed to them. That is a superset of what the connection sends on;
//! the connection still decides, as before.
//!
//! The connections a change may concern are found through indexes (by document, by estate
//! and kind, by user), not by asking each connection: with a whole estate's phones
//! connected, a change costs the few connections it concerns, not all of them.
//!
//! A queue that is full when a change arrives loses it: the connection is marked behind and,
//! when it next reads its queue, tells its device to `resync`.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use gatehouse_shared::{DocumentId, RecordKind, Role, UserInfo};
use tokio::sync::mpsc;

use super::DocChanged;

/// What a connection may need to hear of.
#[derive(Debug, Default)]
struct Interest {
    user_id: String,
    role: Option<Role>,
    estates: Vec<String>,
    /// Documents the connection has (followed or synced); only ever grows.
    docs: HashSet<DocumentId>,
}

impl Interest {
    fn of(user: &UserInfo) -> Self {
        let mut interest = Self::default();
        interest.set_user(user);
        interest
    }

    fn set_user(&mut self, user: &UserInfo) {
        self.user_id.clone_from(&user.id);
        self.role = Some(user.role);
        self.estates = user.estate_ids();
    }

    /// The kinds whose every record in the connection's estates concerns it.
    fn estate_wide_kinds(&self) -> impl Iterator<Item = RecordKind> + '_ {
        RecordKind::ALL.into_iter().filter(|kind| {
            self.role
                .is_some_and(|role| role.lists_records() || role.follows(*kind))
        })
    }

    /// The rule; the indexes only find the connections worth asking.
    fn wants(&self, changed: &DocChanged) -> bool {
        if self.docs.contains(&changed.doc) {
            return true;
        }
        let (Some(role), Some(summary)) = (self.role, changed.summary.as_ref()) else {
            return false;
        };
        self.estates.contains(&changed.estate_id)
            && (role.lists_records()
                || role.follows(summary.kind)
                || summary.created_by == self.user_id
                || summary.addressed_to.as_deref() == Some(self.user_id.as_str()))
    }
}

struct Listener {
    interest: Interest,
    queue: mpsc::Sender<Arc<DocChanged>>,
    behind: Arc<AtomicBool>,
}

/// The connections listening, by connection number, and the indexes that find the ones a
/// change may concern.
#[derive(Default)]
struct Listeners {
    by_id: HashMap<u64, Listener>,
    /// Connections that have the document (few per document: a list).
    by_doc: HashMap<DocumentId, Vec<u64>>,
    /// Connections that hear of every record of a kind in an estate.
    by_estate_kind: HashMap<String, HashMap<RecordKind, HashSet<u64>>>,
    /// Connections of a user: they hear of the user's own records and those addressed to them.
    by_user: HashMap<String, HashSet<u64>>,
}

impl Listeners {
    /// Puts connection `id` in the estate and user indexes, as its interest says.
    fn index(&mut self, id: u64) {
        let Some(listener) = self.by_id.get(&id) else {
            return;
        };
        let interest = &listener.interest;
        for estate in &interest.estates {
            let kinds = self.by_estate_kind.entry(estate.clone()).or_default();
            for kind in interest.estate_wide_kinds() {
                kinds.entry(kind).or_default().insert(id);
            }
        }
        self.by_user
            .entry(interest.user_id.clone())
            .or_default()
            .insert(id);
    }

    /// Takes connection `id` out of the estate and user indexes.
    fn unindex(&mut self, id: u64) {
        let Some(listener) = self.by_id.get(&id) else {
            return;
        };
        let interest = &listener.interest;
        for estate in &interest.estates {
            if let Some(kinds) = self.by_estate_kind.get_mut(estate) {
                for ids in kinds.values_mut() {
                    ids.remove(&id);
                }
                kinds.retain(|_, ids| !ids.is_empty());
                if kinds.is_empty() {
                    self.by_estate_kind.remove(estate);
                }
            }
        }
        if let Some(ids) = self.by_user.get_mut(&interest.user_id) {
            ids.remove(&id);
            if ids.is_empty() {
                self.by_user.remove(&interest.user_id);
            }
        }
    }

    fn remove(&mut self, id: u64) {
        self.unindex(id);
        let Some(listener) = self.by_id.remove(&id) else {
            return;
        };
        for doc in &listener.interest.docs {
            if let Some(ids) = self.by_doc.get_mut(doc) {
                ids.retain(|other| *other != id);
                if ids.is_empty() {
                    self.by_doc.remove(doc);
                }
            }
        }
    }

    /// The connections a change may concern: a superset of those that want it.
    fn candidates(&self, changed: &DocChanged) -> Vec<u64> {
        let mut ids: Vec<u64> = self.by_doc.get(&changed.doc).cloned().unwrap_or_default();
        if let Some(summary) = &changed.summary {
            if let Some(wide) = self
                .by_estate_kind
                .get(&changed.estate_id)
                .and_then(|kinds| kinds.get(&summary.kind))
            {
                ids.extend(wide);
            }
            for user in std::iter::once(&summary.created_by).chain(&summary.addressed_to) {
                if let Some(own) = self.by_user.get(user) {
                    ids.extend(own);
                }
            }
        }
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

/// The connections listening for changes.
pub struct Router {
    listeners: Mutex<Listeners>,
    /// Changes a connection's queue holds.
    capacity: usize,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Router")
    }
}

/// A connection's queue of changes; it stops listening when dropped.
pub struct Subscription {
    id: u64,
    pub changes: mpsc::Receiver<Arc<DocChanged>>,
    behind: Arc<AtomicBool>,
    router: Arc<Router>,
}

impl Subscription {
    /// Whether changes were lost since the last call (the queue was full).
    pub fn fell_behind(&self) -> bool {
        self.behind.swap(false, Ordering::Relaxed)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.router.lock().remove(self.id);
    }
}

impl Router {
    pub fn new(capacity: usize) -> Self {
        Self {
            listeners: Mutex::new(Listeners::default()),
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Listeners> {
        self.listeners
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Connection `id` of `user` starts listening.
    pub fn subscribe(self: &Arc<Self>, id: u64, user: &UserInfo) -> Subscription {
        let (queue, changes) = mpsc::channel(self.capacity);
        let behind = Arc::new(AtomicBool::new(false));
        let mut listeners = self.lock();
        listeners.remove(id);
        listeners.by_id.insert(
            id,
            Listener {
                interest: Interest::of(user),
                queue,
                behind: behind.clone(),
            },
        );
        listeners.index(id);
        drop(listeners);
        Subscription {
            id,
            changes,
            behind,
            router: self.clone(),
        }
    }

    /// The connection's user as read again (roles and estates may have changed).
    pub fn set_user(&self, id: u64, user: &UserInfo) {
        let mut listeners = self.lock();
        listeners.unindex(id);
        if let Some(listener) = listeners.by_id.get_mut(&id) {
            listener.interest.set_user(user);
        }
        listeners.index(id);
    }

    /// The connection has these documents too (followed, or synced).
    pub fn watch(&self, id: u64, docs: impl IntoIterator<Item = DocumentId>) {
        let mut listeners = self.lock();
        let Listeners { by_id, by_doc, .. } = &mut *listeners;
        let Some(listener) = by_id.get_mut(&id) else {
            return;
        };
        for doc in docs {
            if listener.interest.docs.insert(doc) {
                by_doc.entry(doc).or_default().push(id);
            }
        }
    }

    /// Hands a stored change to every connection it may concern.
    pub fn publish(&self, changed: DocChanged) {
        let changed = Arc::new(changed);
        let listeners = self.lock();
        for id in listeners.candidates(&changed) {
            let Some(listener) = listeners.by_id.get(&id) else {
                continue;
            };
            if listener.interest.wants(&changed)
                && matches!(
                    listener.queue.try_send(changed.clone()),
                    Err(mpsc::error::TrySendError::Full(_))
                )
            {
                listener.behind.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Connections listening (for tests and metrics).
    pub fn len(&self) -> usize {
        self.lock().by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use gatehouse_shared::record::Kind;
    use gatehouse_shared::{PatrolLog, RecordKind, RecordSummary};

    use super::*;

    fn user(id: &str, role: Role, estate: &str) -> UserInfo {
        UserInfo {
            id: id.into(),
            username: id.into(),
            display_name: id.into(),
            role,
            estate_id: estate.into(),
            estate_name: String::new(),
            estates: Vec::new(),
        }
    }

    /// A stored change of a patrol log written by `by` in `estate`, retitled as `kind`.
    fn change(by: &str, estate: &str, kind: RecordKind) -> DocChanged {
        let doc = DocumentId::from_random(rand::random());
        let log = PatrolLog::start(estate, by, "王保安", "东门", 1_780_000_000_000).expect("valid");
        let mut summary = RecordSummary::of(doc, &log.into_any(), 0, 0);
        summary.kind = kind;
        DocChanged {
            doc,
            estate_id: estate.into(),
            summary: Some(summary),
            followed_until: None,
            origin: 0,
        }
    }

    fn heard(subscription: &mut Subscription) -> usize {
        let mut n = 0;
        while subscription.changes.try_recv().is_ok() {
            n += 1;
        }
        n
    }

    #[test]
    fn a_change_reaches_only_the_connections_it_may_concern() {
        let router = Arc::new(Router::new(16));
        let mut guard = router.subscribe(1, &user("g1", Role::Guard, "e1"));
        let mut office = router.subscribe(2, &user("o1", Role::Office, "e1"));
        let mut elsewhere = router.subscribe(3, &user("o2", Role::Office, "e2"));

        // Another guard's round: the office of the estate only.
        router.publish(change("g2", "e1", RecordKind::PatrolLog));
        assert_eq!(
            (heard(&mut guard), heard(&mut office), heard(&mut elsewhere)),
            (0, 1, 0)
        );
        // The guard's own round (their other phone), a slip guards follow: the guard too.
        router.publish(change("g1", "e1", RecordKind::PatrolLog));
        router.publish(change("o1", "e1", RecordKind::ReleaseSlip));
        assert_eq!(
            (heard(&mut guard), heard(&mut office), heard(&mut elsewhere)),
            (2, 2, 0)
        );
        // A document the guard has (synced, or followed), whoever changed it.
        let theirs = change("g2", "e1", RecordKind::PatrolLog);
        router.watch(1, [theirs.doc]);
        router.publish(theirs);
        assert_eq!(heard(&mut guard), 1);
        // Gone: no longer listening.
        drop(guard);
        assert_eq!(router.len(), 2);
    }

    use proptest::prelude::*;

    const ESTATES: [&str; 3] = ["e1", "e2", "e3"];
    const USERS: [&str; 4] = ["u1", "u2", "u3", "u4"];
    const ROLES: [Role; 5] = [
        Role::Guard,
        Role::Technician,
        Role::Office,
        Role::Admin,
        Role::Cleaner,
    ];

    /// A connection as the property test draws it: who (user, role, estates) and which of
    /// the test's documents it has; then, maybe, who it is read again as.
    #[derive(Debug, Clone)]
    struct Drawn {
        user: usize,
        role: usize,
        estates: Vec<usize>,
        docs: Vec<usize>,
        reread_as: Option<(usize, Vec<usize>)>,
        dropped: bool,
    }

    fn drawn_user(who: usize, role: usize, estates: &[usize]) -> UserInfo {
        let mut info = user(USERS[who], ROLES[role], ESTATES[estates[0]]);
        info.estates = estates
            .iter()
            .map(|e| gatehouse_shared::user::EstateRef {
                id: ESTATES[*e].into(),
                name: String::new(),
            })
            .collect();
        info
    }

    fn drawn_connection() -> impl Strategy<Value = Drawn> {
        (
            0..USERS.len(),
            0..ROLES.len(),
            proptest::collection::vec(0..ESTATES.len(), 1..3),
            proptest::collection::vec(0..4usize, 0..3),
            proptest::option::of((
                0..ROLES.len(),
                proptest::collection::vec(0..ESTATES.len(), 1..3),
            )),
            proptest::bool::weighted(0.2),
        )
            .prop_map(|(user, role, estates, docs, reread_as, dropped)| Drawn {
                user,
                role,
                estates,
                docs,
                reread_as,
                dropped,
            })
    }

    proptest! {
        /// The indexes find every connection the rule says a change concerns, and no other
        /// gets it: the same as asking each connection, through subscribes, re-reads of the
        /// user, watches and drops.
        #[test]
        fn the_indexes_route_as_asking_every_connection_would(
            connections in proptest::collection::vec(drawn_connection(), 1..12),
            changes in proptest::collection::vec(
                (0..4usize, 0..ESTATES.len(), 0..RecordKind::ALL.len(), 0..USERS.len(), proptest::option::of(0..USERS.len()), proptest::bool::weighted(0.1)),
                1..20,
            ),
        ) {
            let docs: Vec<DocumentId> = (0..4u8).map(|i| DocumentId::from_random([i + 1; 16])).collect();
            let router = Arc::new(Router::new(64));
            let mut subscriptions = Vec::new();
            for (id, drawn) in connections.iter().enumerate() {
                let id = id as u64;
                let subscription = router.subscribe(id, &drawn_user(drawn.user, drawn.role, &drawn.estates));
                router.watch(id, drawn.docs.iter().map(|d| docs[*d]));
                if let Some((role, estates)) = &drawn.reread_as {
                    router.set_user(id, &drawn_user(drawn.user, *role, estates));
                }
                subscriptions.push((!drawn.dropped).then_some(subscription));
            }
            for (doc, estate, kind, by, to, no_summary) in changes {
                let kind = RecordKind::ALL[kind];
                let mut changed = change(USERS[by], ESTATES[estate], kind);
                changed.doc = docs[doc];
                if let Some(summary) = changed.summary.as_mut() {
                    summary.addressed_to = to.map(|u| USERS[u].to_owned());
                }
                if no_summary {
                    changed.summary = None;
                }
                let expected: Vec<bool> = connections
                    .iter()
                    .map(|drawn| {
                        let (role, estates) = drawn
                            .reread_as
                            .clone()
                            .unwrap_or((drawn.role, drawn.estates.clone()));
                        let (role, user) = (ROLES[role], USERS[drawn.user]);
                        drawn.docs.contains(&doc)
                            || (!no_summary
                                && estates.contains(&estate)
                                && (role == Role::Office
                                    || role.follows(kind)
                                    || USERS[by] == user
                                    || to.map(|u| USERS[u]) == Some(user)))
                    })
                    .collect();
                router.publish(changed);
                for (subscription, expected) in subscriptions.iter_mut().zip(expected) {
                    if let Some(subscription) = subscription {
                        prop_assert_eq!(heard(subscription), usize::from(expected));
                    }
                }
            }
            let listening = subscriptions.iter().flatten().count();
            prop_assert_eq!(router.len(), listening);
            drop(subscriptions);
            let listeners = router.lock();
            prop_assert!(listeners.by_id.is_empty());
            prop_assert!(listeners.by_doc.is_empty(), "documents of dropped connections are unindexed");
            prop_assert!(listeners.by_estate_kind.is_empty());
            prop_assert!(listeners.by_user.is_empty());
        }
    }

    #[test]
    fn a_full_queue_loses_changes_and_says_so_once() {
        let router = Arc::new(Router::new(2));
        let mut office = router.subscribe(1, &user("o1", Role::Office, "e1"));
        for _ in 0..5 {
            router.publish(change("g1", "e1", RecordKind::PatrolLog));
        }
        assert!(office.fell_behind());
        assert!(!office.fell_behind(), "said once");
        assert_eq!(heard(&mut office), 2);
    }
}
