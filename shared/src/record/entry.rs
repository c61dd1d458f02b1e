//! Entries: the items a record's lists hold (a visit, a finding, a remark, an estimate, a
//! signature). An entry is written once, by one user, and never changed or removed; a
//! correction is a new entry that names the one it corrects.

use std::fmt;

use uuid::Uuid;

/// The ID of an entry, minted on the writing device from random bytes the caller supplies
/// (`shared` takes randomness as an argument). It keys the entry in its list, so that entries
/// added on two devices at once both survive the merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EntryId(Uuid);

impl EntryId {
    /// An ID from 16 random bytes (a version-4 UUID).
    pub fn from_random(bytes: [u8; 16]) -> Self {
        Self(uuid::Builder::from_random_bytes(bytes).into_uuid())
    }
}

impl fmt::Display for EntryId {
    /// 32 lowercase hex digits, as stored in documents.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.simple().fmt(f)
    }
}

/// What the common rules read of every entry.
pub trait Entry: PartialEq {
    fn id(&self) -> &str;
    /// The user who wrote it; `None` only in entries written before entries carried their
    /// author (patrol-log visits and findings of the first version, written by the creator).
    fn author(&self) -> Option<&str>;
    /// The entry of the same list this one corrects, if any.
    fn corrects(&self) -> Option<&str>;
}

/// Implements [`Entry`] for entry types with `id`, `corrects` and an `author` that is a
/// `String` (`authored`) or, in types the first version wrote without one, an `Option`
/// (`maybe_authored`).
macro_rules! impl_entry {
    (authored: $($entry:ty),+) => {$(
        impl $crate::record::entry::Entry for $entry {
            fn id(&self) -> &str {
                &self.id
            }
            fn author(&self) -> Option<&str> {
                Some(&self.author)
            }
            fn corrects(&self) -> Option<&str> {
                self.corrects.as_deref()
            }
        }
    )+};
    (maybe_authored: $($entry:ty),+) => {$(
        impl $crate::record::entry::Entry for $entry {
            fn id(&self) -> &str {
                &self.id
            }
            fn author(&self) -> Option<&str> {
                self.author.as_deref()
            }
            fn corrects(&self) -> Option<&str> {
                self.corrects.as_deref()
            }
        }
    )+};
}
pub(crate) use impl_entry;

/// The entries of `list` that a later entry corrects, by ID.
pub fn corrected_ids<E: Entry>(list: &[E]) -> std::collections::HashSet<&str> {
    list.iter().filter_map(Entry::corrects).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_different_bytes_differ_and_print_as_hex() {
        let a = EntryId::from_random([1; 16]);
        let b = EntryId::from_random([2; 16]);
        assert_ne!(a, b);
        let text = a.to_string();
        assert_eq!(text.len(), 32);
        assert!(text.bytes().all(|c| c.is_ascii_hexdigit()));
    }
}
