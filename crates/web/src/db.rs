//! Connections to the register for the web app: a small pool of readers and one writer, so
//! page loads never wait on a review decision being written (SQLite WAL lets them run together).
//! Reads run a few at a time (about two per core): fifty clients at once then queue for a
//! connection instead of fifty threads each warming its own page cache and thrashing the cores.

use crate::WebError;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The register, shared by all request handlers.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    readers: Mutex<Vec<Connection>>,
    /// Permits to run a read: as many as readers may work at once.
    reading: tokio::sync::Semaphore,
    writer: Mutex<Connection>,
}

/// The register is memory-mapped up to this size, so readers share the operating system's
/// cached pages instead of copying each into every connection's own cache.
const MMAP_BYTES: i64 = 1 << 34;

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    crate::review::register_sql_functions(conn)
}

impl Db {
    /// Opens the register at `path`, migrating it first (through `store`, which owns the schema).
    pub fn open(path: &Path) -> Result<Db, WebError> {
        store::Register::open(path)?;
        let writer = Connection::open(path)?;
        configure(&writer)?;
        // A decision is acknowledged only once it is on disk: FULL makes the commit durable
        // even against an OS crash, not just against a killed server.
        writer.pragma_update(None, "synchronous", "FULL")?;
        let parallel_reads = std::thread::available_parallelism().map_or(2, |n| n.get()) * 2;
        Ok(Db {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                readers: Mutex::new(Vec::new()),
                reading: tokio::sync::Semaphore::new(parallel_reads),
                writer: Mutex::new(writer),
            }),
        })
    }

    fn reader(&self) -> Result<Connection, WebError> {
        if let Some(conn) = self.inner.readers.lock().expect("reader pool poisoned").pop() {
            return Ok(conn);
        }
        let conn = Connection::open_with_flags(&self.inner.path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
        configure(&conn)?;
        conn.pragma_update(None, "cache_size", -32_000)?;
        conn.pragma_update(None, "mmap_size", MMAP_BYTES)?;
        // A search prepares one statement per slice of the index it reads, and filters vary.
        conn.set_prepared_statement_cache_capacity(64);
        Ok(conn)
    }

    /// Runs a read on a pooled read-only connection, off the async threads.
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, WebError> + Send + 'static,
    ) -> Result<T, WebError> {
        let _permit = self.inner.reading.acquire().await.map_err(|e| WebError::Internal(e.to_string()))?;
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.read_blocking(f)).await.map_err(|e| WebError::Internal(e.to_string()))?
    }

    /// Runs a read on the current thread (for startup and tests).
    pub fn read_blocking<T>(&self, f: impl FnOnce(&Connection) -> Result<T, WebError>) -> Result<T, WebError> {
        let conn = self.reader()?;
        let out = f(&conn);
        self.inner.readers.lock().expect("reader pool poisoned").push(conn);
        out
    }

    /// Runs a write on the single writer connection, off the async threads.
    pub async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, WebError> + Send + 'static,
    ) -> Result<T, WebError> {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.write_blocking(f)).await.map_err(|e| WebError::Internal(e.to_string()))?
    }

    /// Runs a write on the current thread.
    pub fn write_blocking<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T, WebError>) -> Result<T, WebError> {
        let mut conn = self.inner.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut conn)
    }
}
