//! The connections that only read, each on a thread of its own: the sync path's, where
//! frames are judged ahead of the writer, and the one of people at a screen (the office
//! list, a record, `/metrics`). WAL lets them read beside the writer.

use std::sync::{mpsc, Arc, Mutex};

use crate::store::{Store, StoreError};

/// A read that did not finish: it panicked (its thread goes on with the next), or the pool
/// was shut.
#[derive(Debug, thiserror::Error)]
#[error("store read failed: {0}")]
pub struct ReadFailed(&'static str);

impl ReadFailed {
    pub(crate) fn panicked() -> Self {
        Self("the read panicked")
    }
}

/// The connections that only read (none without group commit: everything on the shared
/// store, as before).
pub struct Readers {
    /// Reads of the sync path: handshakes, follow sets, and frames judged ahead of the
    /// writer.
    pub(crate) sync: ReadPool,
    /// Reads of the HTTP API (the office list, a record, `/metrics`): a connection of
    /// their own, so that a clerk's list never waits behind a whole estate's phones
    /// reconnecting at once.
    pub(crate) requests: ReadPool,
}

impl Default for Readers {
    fn default() -> Self {
        Self {
            sync: ReadPool::none(),
            requests: ReadPool::none(),
        }
    }
}

impl Readers {
    /// `sync` read connections for the sync path and one for requests, to the database at
    /// `path`.
    pub fn open(path: &std::path::Path, sync: usize) -> Result<Self, StoreError> {
        Ok(Self {
            sync: ReadPool::open(path, sync, "gatehouse-sync")?,
            requests: ReadPool::open(path, 1, "gatehouse-reads")?,
        })
    }
}

type Job = Box<dyn FnOnce(&Store) + Send>;

/// Threads that each own a read connection and take reads from one queue, in the order
/// they came. A read waits in the queue without holding a thread, and a thread done with
/// one read takes the next at once. (Reads used to take a turn from a semaphore, then a
/// blocking thread: each turn passed through the async runtime's queue, and under a wave
/// of phones the connection sat idle until a busy runtime thread got to the next waiting
/// task. In the wave benchmark, p99 2.05-2.61 s before, 1.40-1.88 s after.)
pub(crate) struct ReadPool {
    jobs: Option<mpsc::Sender<Job>>,
}

impl ReadPool {
    /// No connection: reads go to the shared store.
    pub(crate) fn none() -> Self {
        Self { jobs: None }
    }

    /// `count` connections to the database at `path`, on threads named `name`.
    pub(crate) fn open(
        path: &std::path::Path,
        count: usize,
        name: &str,
    ) -> Result<Self, StoreError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..count {
            let store = Store::open_reader(path)?;
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(name.into())
                .spawn(move || serve(&store, &queue))
                .map_err(|error| StoreError::NotCommitted(format!("no read thread: {error}")))?;
        }
        Ok(Self { jobs: Some(jobs) })
    }

    pub(crate) fn is_open(&self) -> bool {
        self.jobs.is_some()
    }

    /// Runs `work` on the next free connection of the pool.
    pub(crate) async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Store) -> T + Send + 'static,
    ) -> Result<T, ReadFailed> {
        let jobs = self.jobs.as_ref().ok_or(ReadFailed("no read connection"))?;
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |store| {
            // Its caller gone (a request given up on, a connection closed): not read for
            // nobody while others wait.
            if !reply.is_closed() {
                let _ = reply.send(work(store));
            }
        });
        jobs.send(job).map_err(|_| ReadFailed("the pool is shut"))?;
        answer.await.map_err(|_| ReadFailed::panicked())
    }
}

/// Takes reads from `queue` until every sender is gone. A read that panics drops its reply
/// (its caller is told) and the thread takes the next.
fn serve(store: &Store, queue: &Mutex<mpsc::Receiver<Job>>) {
    loop {
        let job = {
            let queue = queue
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            queue.recv()
        };
        let Ok(job) = job else { return };
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(store))).is_err() {
            tracing::error!("a store read panicked");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn pool(count: usize) -> (tempfile::TempDir, ReadPool) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("gatehouse.db");
        Store::open(&path).expect("creates the database");
        let pool = ReadPool::open(&path, count, "test-reads").expect("opens");
        (dir, pool)
    }

    #[tokio::test]
    async fn a_read_that_panics_is_reported_and_its_connection_takes_the_next() {
        let (_dir, pool) = pool(1);
        let failed = pool
            .read(|_store| -> usize { panic!("a read that panics") })
            .await;
        assert!(failed.is_err(), "the caller is told");
        let counted = tokio::time::timeout(
            Duration::from_secs(5),
            pool.read(|store| store.document_count().expect("reads")),
        )
        .await
        .expect("the only connection still serves");
        assert_eq!(counted.expect("read"), 0);
    }

    /// Both connections held by reads that wait: a third read waits its turn (no third
    /// connection, no thread of its own) and runs as soon as one is free.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_read_waits_for_a_free_connection_and_runs_when_one_is() {
        let (_dir, pool) = pool(2);
        let pool = Arc::new(pool);
        let (release, held) = mpsc::channel::<()>();
        let held = Arc::new(Mutex::new(held));
        let holding: Vec<_> = (0..2)
            .map(|_| {
                let (pool, held) = (pool.clone(), held.clone());
                tokio::spawn(async move {
                    pool.read(move |_store| {
                        let _ = held.lock().expect("lock").recv();
                    })
                    .await
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let third = tokio::spawn({
            let pool = pool.clone();
            async move {
                pool.read(|store| store.document_count().expect("reads"))
                    .await
            }
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!third.is_finished(), "no connection was free");
        release.send(()).expect("a holder waits");
        let counted = tokio::time::timeout(Duration::from_secs(5), third)
            .await
            .expect("runs once a connection is free")
            .expect("joins");
        assert_eq!(counted.expect("read"), 0);
        release.send(()).expect("the other holder waits");
        for holder in holding {
            holder.await.expect("joins").expect("read");
        }
    }

    /// A read whose caller went away while it waited is not run.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_read_given_up_on_while_it_waited_is_not_run() {
        let (_dir, pool) = pool(1);
        let pool = Arc::new(pool);
        let (release, held) = mpsc::channel::<()>();
        let holder = tokio::spawn({
            let pool = pool.clone();
            async move { pool.read(move |_store| held.recv().is_ok()).await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let given_up = tokio::spawn({
            let (pool, ran) = (pool.clone(), ran.clone());
            async move {
                pool.read(move |_store| ran.store(true, std::sync::atomic::Ordering::SeqCst))
                    .await
            }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        given_up.abort();
        assert!(given_up.await.is_err(), "aborted while waiting");
        release.send(()).expect("the holder waits");
        assert!(holder.await.expect("joins").expect("read"));
        // The queue is in order: once this later read is done, the one given up on was
        // taken (and dropped) before it.
        pool.read(|_store| ()).await.expect("read");
        assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[tokio::test]
    async fn without_connections_a_read_is_refused_not_lost() {
        let pool = ReadPool::none();
        assert!(!pool.is_open());
        assert!(pool.read(|_store| ()).await.is_err());
    }
}
