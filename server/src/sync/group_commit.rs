//! Group commit: one writer thread owns a write connection of its own. The sync frames
//! waiting for it at one moment are applied in one transaction, each in a part of its own
//! (a savepoint: a frame that fails is taken back alone, the others stay), and committed
//! together: one WAL sync for the group instead of one per frame. A frame is answered only
//! after the commit that made it durable; if that commit fails, every frame of the group is
//! told so and none is acknowledged.
//!
//! Reads (sessions, follow sets, the office list) go to read-only connections: in WAL mode
//! they neither wait for the writer nor make it wait.
//!
//! A frame whose work panics is taken back alone in test and debug builds; the release
//! build aborts on a panic (`panic = "abort"`), as anywhere else in the server.

use std::path::Path;
use std::sync::{mpsc, Arc};

use tokio::sync::oneshot;

use crate::metrics::Metrics;
use crate::store::{Store, StoreError, StoreTransaction};

/// Most frames in one group: bounds how long the first frame of a group waits for the
/// others' work before its commit.
const MAX_GROUP: usize = 64;

/// Why a write did not become durable.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the writer is gone")]
    WriterGone,
    #[error("the group's transaction could not be started or committed: {0}")]
    Commit(String),
    #[error("the write panicked")]
    Panicked,
}

/// What a frame's work hands back to the writer: whether its part is kept, and what to do
/// once the group's commit succeeded or failed.
type Finish = Box<dyn FnOnce(Result<(), String>) + Send>;
/// A frame's work in the group's transaction; `None`: the transaction could not start.
type Job = Box<dyn FnOnce(Option<&StoreTransaction<'_>>) -> (bool, Finish) + Send>;

/// The handle connections send their frames' work through.
#[derive(Clone)]
pub struct GroupWriter {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for GroupWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GroupWriter")
    }
}

impl GroupWriter {
    /// Opens a write connection to the database at `path` and starts the writer thread.
    pub fn start(path: &Path, metrics: Arc<Metrics>) -> Result<Self, StoreError> {
        let store = Store::open(path)?;
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("gatehouse-writer".into())
            .spawn(move || run(store, queue, &metrics))
            .map_err(|error| StoreError::NotCommitted(format!("no writer thread: {error}")))?;
        Ok(Self { jobs })
    }

    /// Runs `work` in the next group's transaction. `work` returns its result and whether
    /// what it wrote is kept (`false`: its part is taken back, the group goes on). Resolves
    /// once the group is committed: the result, or why it is not durable.
    pub async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&StoreTransaction<'_>) -> (T, bool) + Send + 'static,
    ) -> Result<T, WriteError> {
        self.write_then(work, |_| {}).await
    }

    /// Like [`Self::write`], and once the group is committed, `committed` runs on the
    /// result in the writer thread, before the answer goes: frame after frame in the order
    /// they were committed (what is announced of stored changes keeps that order).
    pub async fn write_then<T: Send + 'static>(
        &self,
        work: impl FnOnce(&StoreTransaction<'_>) -> (T, bool) + Send + 'static,
        committed: impl FnOnce(&mut T) + Send + 'static,
    ) -> Result<T, WriteError> {
        let (reply, answer) = oneshot::channel::<Result<T, WriteError>>();
        let job: Job = Box::new(move |tx| {
            let Some(tx) = tx else {
                let finish: Finish = Box::new(move |committed: Result<(), String>| {
                    let error = committed.err().unwrap_or_default();
                    let _ = reply.send(Err(WriteError::Commit(error)));
                });
                return (false, finish);
            };
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(tx)));
            let (result, keep) = match outcome {
                Ok((value, keep)) => (Ok(value), keep),
                Err(_) => (Err(WriteError::Panicked), false),
            };
            let finish: Finish = Box::new(move |outcome: Result<(), String>| {
                let answer = match (outcome, result) {
                    (Ok(()), Ok(mut value)) => {
                        committed(&mut value);
                        Ok(value)
                    }
                    (Ok(()), Err(error)) => Err(error),
                    (Err(error), _) => Err(WriteError::Commit(error)),
                };
                let _ = reply.send(answer);
            });
            (keep, finish)
        });
        self.jobs.send(job).map_err(|_| WriteError::WriterGone)?;
        answer.await.map_err(|_| WriteError::WriterGone)?
    }
}

/// The writer thread: takes the frames waiting, applies them in one transaction, commits,
/// answers; until every handle is dropped.
fn run(mut store: Store, queue: mpsc::Receiver<Job>, metrics: &Metrics) {
    while let Ok(first) = queue.recv() {
        let started = std::time::Instant::now();
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let tx = match store.begin_immediate() {
            Ok(tx) => tx,
            Err(error) => {
                tracing::error!(%error, "the writer could not start a transaction");
                for job in group {
                    let (_, finish) = job(None);
                    finish(Err(error.to_string()));
                }
                continue;
            }
        };
        let mut finishes = Vec::with_capacity(group.len());
        let mut broken = None;
        for job in group {
            if let Err(error) = tx.begin_part() {
                broken = Some(error.to_string());
            }
            let (keep, finish) = job(Some(&tx));
            let ended = if keep {
                tx.keep_part()
            } else {
                tx.take_back_part()
            };
            if let Err(error) = ended {
                broken = Some(error.to_string());
            }
            finishes.push(finish);
        }
        let committed = match broken {
            // A part that could not be marked or taken back leaves the transaction unsure:
            // nothing of it is kept.
            Some(error) => Err(error),
            None => tx.commit().map_err(|error| error.to_string()),
        };
        match &committed {
            Ok(()) => metrics.committed(started.elapsed()),
            Err(error) => {
                tracing::error!(%error, frames = finishes.len(), "a group of frames was not committed");
            }
        }
        for finish in finishes {
            finish(committed.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer() -> (tempfile::TempDir, GroupWriter, Store) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("gatehouse.db");
        let reader = Store::open(&path).expect("opens");
        let writer = GroupWriter::start(&path, Arc::default()).expect("starts");
        (dir, writer, reader)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_frame_taken_back_or_panicking_leaves_the_others_of_its_group_stored() {
        let (_dir, writer, reader) = writer();
        // Many frames at once, so that groups hold several: every third is taken back,
        // one panics; the others are durable once answered.
        let writes: Vec<_> = (0..30)
            .map(|i| {
                let writer = writer.clone();
                tokio::spawn(async move {
                    writer
                        .write(move |tx| {
                            tx.insert_estate(&format!("estate-{i}")).expect("writes");
                            assert!(i != 7, "a frame's work that fails");
                            (i, i % 3 != 0)
                        })
                        .await
                })
            })
            .collect();
        for (i, write) in writes.into_iter().enumerate() {
            let answer = write.await.expect("task");
            let stored = reader.estate_exists(&format!("estate-{i}")).expect("reads");
            match answer {
                Ok(value) => {
                    assert_eq!(value, i);
                    // Answered only after the commit: another connection reads it at once.
                    assert_eq!(stored, i % 3 != 0, "estate-{i}");
                }
                Err(WriteError::Panicked) => {
                    assert_eq!(i, 7);
                    assert!(!stored, "the failed frame's write was kept");
                }
                Err(error) => panic!("frame {i}: {error}"),
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn what_follows_a_commit_runs_in_the_order_the_frames_were_stored() {
        let (_dir, writer, _reader) = writer();
        let applied = Arc::new(std::sync::Mutex::new(Vec::new()));
        let announced = Arc::new(std::sync::Mutex::new(Vec::new()));
        let writes: Vec<_> = (0..40)
            .map(|i| {
                let (writer, applied, announced) =
                    (writer.clone(), applied.clone(), announced.clone());
                tokio::spawn(async move {
                    writer
                        .write_then(
                            move |_| {
                                applied.lock().expect("lock").push(i);
                                (i, true)
                            },
                            move |i| announced.lock().expect("lock").push(*i),
                        )
                        .await
                })
            })
            .collect();
        for write in writes {
            write.await.expect("task").expect("stored");
        }
        let applied = applied.lock().expect("lock").clone();
        assert_eq!(applied.len(), 40);
        assert_eq!(*announced.lock().expect("lock"), applied);
    }
}
