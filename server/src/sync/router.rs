//! Routes each stored change to the connections it may concern, instead of waking every
//! connection for every change: a connection says who it serves (user, role, estates) and
//! which documents it has (its follow set, the documents it synced), and gets a queue of
//! its own. A change goes to a connection when the document is one it has, or when, in one
//! of its estates, the role lists records (the office), follows the kind, or the record is
//! the user's own or addressed to them. That is a superset of what the connection sends on;
//! the connection still decides, as before.
//!
//! A queue that is full when a change arrives loses it: the connection is marked behind and,
//! when it next reads its queue, tells its device to `resync`.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use gatehouse_shared::{DocumentId, Role, UserInfo};
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

/// The connections listening for changes, by connection number.
pub struct Router {
    listeners: Mutex<HashMap<u64, Listener>>,
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
        self.router.lock().remove(&self.id);
    }
}

impl Router {
    pub fn new(capacity: usize) -> Self {
        Self {
            listeners: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Listener>> {
        self.listeners
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Connection `id` of `user` starts listening.
    pub fn subscribe(self: &Arc<Self>, id: u64, user: &UserInfo) -> Subscription {
        let (queue, changes) = mpsc::channel(self.capacity);
        let behind = Arc::new(AtomicBool::new(false));
        self.lock().insert(
            id,
            Listener {
                interest: Interest::of(user),
                queue,
                behind: behind.clone(),
            },
        );
        Subscription {
            id,
            changes,
            behind,
            router: self.clone(),
        }
    }

    /// The connection's user as read again (roles and estates may have changed).
    pub fn set_user(&self, id: u64, user: &UserInfo) {
        if let Some(listener) = self.lock().get_mut(&id) {
            listener.interest.set_user(user);
        }
    }

    /// The connection has these documents too (followed, or synced).
    pub fn watch(&self, id: u64, docs: impl IntoIterator<Item = DocumentId>) {
        if let Some(listener) = self.lock().get_mut(&id) {
            listener.interest.docs.extend(docs);
        }
    }

    /// Hands a stored change to every connection it may concern.
    pub fn publish(&self, changed: DocChanged) {
        let changed = Arc::new(changed);
        for listener in self.lock().values() {
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
        self.lock().len()
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
