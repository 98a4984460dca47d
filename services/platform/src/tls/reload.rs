//! TLS material that follows its files: [`Reloading`] holds what was last built
//! from a set of files and builds it again when their bytes change.
//!
//! The files are compared byte for byte (they are a few kilobytes), not by
//! modification time, so a Secret volume's swap of its `..data` link, a copy
//! that keeps the time, or two writes within a second are all seen. Files read
//! mid-rotation (a new certificate beside the old key) do not make a valid
//! whole: that is logged, the material in use is kept, and the next look, once
//! both are written, succeeds.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};

/// How often the certificate files are read again for changes.
pub const RELOAD_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// Builds the material from the files' bytes, in the order of the paths.
type Build<T> = Box<dyn Fn(&[Vec<u8>]) -> anyhow::Result<T> + Send + Sync>;

/// What was last seen of the files.
#[derive(Default)]
struct Seen {
    bytes: Vec<Vec<u8>>,
    /// The last problem logged, so that one that persists is logged once.
    problem: Option<String>,
}

/// Material built from files, rebuilt when they change.
pub(crate) struct Reloading<T> {
    what: &'static str,
    paths: Vec<PathBuf>,
    build: Build<T>,
    seen: Mutex<Seen>,
    current: RwLock<Arc<T>>,
}

impl<T> std::fmt::Debug for Reloading<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reloading").field("what", &self.what).field("paths", &self.paths).finish_non_exhaustive()
    }
}

fn read_all(paths: &[PathBuf]) -> Result<Vec<Vec<u8>>, String> {
    paths.iter().map(|path| std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))).collect()
}

impl<T: Send + Sync + 'static> Reloading<T> {
    /// Builds `what` from `paths` now; a failure here is a start-up error.
    pub(crate) fn load(
        what: &'static str,
        paths: Vec<PathBuf>,
        build: impl Fn(&[Vec<u8>]) -> anyhow::Result<T> + Send + Sync + 'static,
    ) -> anyhow::Result<Arc<Self>> {
        let bytes = read_all(&paths).map_err(|e| anyhow::anyhow!("{what}: {e}"))?;
        let first = build(&bytes)?;
        Ok(Arc::new(Self {
            what,
            paths,
            build: Box::new(build),
            seen: Mutex::new(Seen { bytes, problem: None }),
            current: RwLock::new(Arc::new(first)),
        }))
    }

    /// The material in use now.
    pub(crate) fn current(&self) -> Arc<T> {
        self.current.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Reads the files again; when they changed and build, the new material is
    /// used from now on and returned.
    pub(crate) fn check(&self) -> Option<Arc<T>> {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let bytes = match read_all(&self.paths) {
            Ok(bytes) => bytes,
            Err(problem) => {
                self.problem(&mut seen, problem);
                return None;
            }
        };
        if bytes == seen.bytes {
            return None;
        }
        seen.bytes = bytes;
        match (self.build)(&seen.bytes) {
            Ok(built) => {
                let built = Arc::new(built);
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = built.clone();
                seen.problem = None;
                Some(built)
            }
            Err(e) => {
                self.problem(&mut seen, format!("{e:#}"));
                None
            }
        }
    }

    fn problem(&self, seen: &mut Seen, problem: String) {
        if seen.problem.as_ref() != Some(&problem) {
            tracing::warn!(
                what = self.what,
                problem = %problem,
                "the {} files changed but cannot be used; the one in use is kept until they can",
                self.what
            );
            seen.problem = Some(problem);
        }
    }

    /// Looks at the files every [`RELOAD_EVERY`] for as long as anything
    /// holds this material, calling `changed` with each new one. Needs a Tokio
    /// runtime; without one the files are not followed.
    pub(crate) fn follow(self: &Arc<Self>, changed: impl Fn(&T) + Send + 'static) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(what = self.what, "no runtime to follow the {} files with: they are read once", self.what);
            return;
        };
        let held: Weak<Self> = Arc::downgrade(self);
        runtime.spawn(async move {
            let mut every = tokio::time::interval(RELOAD_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            every.tick().await;
            loop {
                every.tick().await;
                // Nothing serves or connects with this material any more: stop looking.
                let Some(reloading) = held.upgrade() else { return };
                let checked = tokio::task::spawn_blocking(move || reloading.check()).await;
                if let Ok(Some(built)) = checked {
                    changed(&built);
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: &[Vec<u8>]) -> anyhow::Result<String> {
        let text = String::from_utf8(bytes[0].clone())?;
        anyhow::ensure!(!text.contains("broken"), "broken");
        Ok(text)
    }

    #[test]
    fn changed_files_are_used_and_broken_ones_leave_the_last_good_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("material");
        std::fs::write(&file, "first").unwrap();
        let reloading = Reloading::load("test", vec![file.clone()], text).unwrap();
        assert!(reloading.check().is_none(), "unchanged");
        std::fs::write(&file, "second").unwrap();
        assert_eq!(reloading.check().as_deref().map(String::as_str), Some("second"));
        std::fs::write(&file, "broken").unwrap();
        assert!(reloading.check().is_none());
        assert_eq!(*reloading.current(), "second", "kept");
        std::fs::remove_file(&file).unwrap();
        assert!(reloading.check().is_none());
        std::fs::write(&file, "third").unwrap();
        assert_eq!(*reloading.current(), "second");
        assert!(reloading.check().is_some());
        assert_eq!(*reloading.current(), "third");
    }
}
