//! An office remark: a note a clerk adds to a record of any kind, at any time.

use autosurgeon::{Hydrate, Reconcile};

use super::entry::{impl_entry, EntryId};
use crate::problem::{check_text, Problem};

/// Longest remark, in characters.
pub const MAX_REMARK_CHARS: usize = 1000;
/// Longest author ID or name, in characters.
const MAX_AUTHOR_CHARS: usize = 200;

/// An office remark on a record.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct Remark {
    #[key]
    pub id: String,
    pub text: String,
    /// User ID of the writer.
    pub author: String,
    /// Display name of the writer at the time.
    pub author_name: String,
    pub written_at: i64,
    /// The remark this one corrects.
    #[autosurgeon(missing = "Default::default")]
    pub corrects: Option<String>,
}

impl_entry!(authored: Remark);

impl Remark {
    pub fn new(
        id: EntryId,
        text: &str,
        author: &str,
        author_name: &str,
        written_at: i64,
    ) -> Result<Self, Vec<Problem>> {
        let remark = Self {
            id: id.to_string(),
            text: text.trim().to_owned(),
            author: author.to_owned(),
            author_name: author_name.to_owned(),
            written_at,
            corrects: None,
        };
        let mut problems = Vec::new();
        check_remark(&mut problems, "remark", &remark);
        if problems.is_empty() {
            Ok(remark)
        } else {
            Err(problems)
        }
    }
}

pub(crate) fn check_remark(problems: &mut Vec<Problem>, path: &str, remark: &Remark) {
    check_text(
        problems,
        format!("{path}.text"),
        &remark.text,
        MAX_REMARK_CHARS,
    );
    check_text(
        problems,
        format!("{path}.author"),
        &remark.author,
        MAX_AUTHOR_CHARS,
    );
}
