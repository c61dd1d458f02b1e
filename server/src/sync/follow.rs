//! The follow set (protocol version 2): the documents written elsewhere that a device
//! receives without asking, decided here from the user's role, estates and ID alone: every
//! document of a kind the role follows (the role table in `shared` says which), in the
//! user's estates, still followed now, and addressed to nobody in particular or to this
//! user (a record says so in its summary); and the user's own records of the last
//! [`OWN_RECORDS_DAYS`] days in those estates, whichever of their phones wrote them.
//! Kind-agnostic.

use std::collections::HashSet;

use gatehouse_shared::protocol::{ServerMessage, FOLLOW_SET_VERSION};
use gatehouse_shared::record::RecordKind;
use gatehouse_shared::{DocumentId, Role, UserInfo};

use super::DocChanged;
use crate::store::{Store, StoreError};

/// How many days back a user's own records (by the time they started) are in the follow set
/// of every phone they sign in on.
pub const OWN_RECORDS_DAYS: i64 = 7;

/// What one connection follows.
pub struct FollowSet {
    /// Whether the connection speaks a version with the follow set.
    enabled: bool,
    docs: HashSet<DocumentId>,
    /// The role and estates the set was computed for.
    role: Option<Role>,
    estates: HashSet<String>,
    /// The documents the last [`FollowSet::complete`] took out of the set.
    left: Vec<DocumentId>,
}

impl FollowSet {
    pub fn new(version: u32) -> Self {
        Self {
            enabled: version >= FOLLOW_SET_VERSION,
            docs: HashSet::new(),
            role: None,
            estates: HashSet::new(),
            left: Vec::new(),
        }
    }

    /// The whole set for `user`, as the store holds it now; `None` for a version 1 device.
    /// Called after `welcome`, again when the user's estates or role change, and when the
    /// connection fell behind on change events (an addition may have been missed).
    pub fn complete(
        &mut self,
        store: &Store,
        user: &UserInfo,
    ) -> Result<Option<ServerMessage>, StoreError> {
        if !self.enabled {
            return Ok(None);
        }
        let kinds: Vec<&str> = RecordKind::ALL
            .into_iter()
            .filter(|kind| user.role.follows(*kind))
            .map(RecordKind::as_str)
            .collect();
        let estates = user.estate_ids();
        let now = crate::now_ms();
        let own_since = now.saturating_sub(OWN_RECORDS_DAYS * 86_400_000);
        let readable: Vec<&str> = RecordKind::ALL
            .into_iter()
            .filter(|kind| user.role.reads(*kind))
            .map(RecordKind::as_str)
            .collect();
        let docs =
            store.documents_of_kinds(&estates, &kinds, &user.id, now, own_since, &readable)?;
        let docs_now: HashSet<DocumentId> = docs.iter().copied().collect();
        self.left = self.docs.difference(&docs_now).copied().collect();
        self.docs = docs_now;
        self.role = Some(user.role);
        self.estates = estates.into_iter().collect();
        Ok(Some(ServerMessage::Follows {
            docs,
            complete: true,
        }))
    }

    /// The documents in the set.
    pub fn docs(&self) -> impl Iterator<Item = DocumentId> + '_ {
        self.docs.iter().copied()
    }

    /// The documents the last computation of the whole set took out of it (their changes
    /// are no longer pushed to the device).
    pub fn take_left(&mut self) -> Vec<DocumentId> {
        std::mem::take(&mut self.left)
    }

    /// Whether the set must be computed again for `user` (their role or estates changed).
    pub fn is_stale(&self, user: &UserInfo) -> bool {
        self.enabled
            && (self.role != Some(user.role)
                || self.estates != user.estate_ids().into_iter().collect::<HashSet<_>>())
    }

    /// What a stored change does to the set: adds a new document of a kind the user
    /// follows, in one of their estates, addressed to them or to nobody in particular; or
    /// takes one away (addressed to someone else now), which the device learns from the
    /// whole set sent again.
    pub fn on_change(&mut self, user: &UserInfo, changed: &DocChanged) -> FollowUpdate {
        let Some(summary) = changed.summary.as_ref() else {
            return FollowUpdate::None;
        };
        if !self.enabled {
            return FollowUpdate::None;
        }
        let now = crate::now_ms();
        let still_followed = changed.followed_until.is_none_or(|until| until > now);
        // Their own recent record, written on another of their phones.
        let own = summary.created_by == user.id
            && user.role.reads(summary.kind)
            && summary.started_at > now.saturating_sub(OWN_RECORDS_DAYS * 86_400_000)
            && user.in_estate(&changed.estate_id);
        let for_user = summary
            .addressed_to
            .as_ref()
            .is_none_or(|to| *to == user.id);
        let follows = own
            || (still_followed
                && for_user
                && user.role.follows(summary.kind)
                && user.in_estate(&changed.estate_id));
        if follows && self.docs.insert(changed.doc) {
            FollowUpdate::Send(ServerMessage::Follows {
                docs: vec![changed.doc],
                complete: false,
            })
        } else if !follows && self.docs.contains(&changed.doc) {
            FollowUpdate::Recompute
        } else {
            FollowUpdate::None
        }
    }
}

/// What a stored change does to a connection's follow set.
pub enum FollowUpdate {
    None,
    /// Send this addition.
    Send(ServerMessage),
    /// A document left the set: compute and send the whole set again.
    Recompute,
}
