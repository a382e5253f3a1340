//! File access that remembers what was read, so unread vectors fail the run.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Reads vector files under a root and records each one.
#[derive(Debug)]
pub struct Reader {
    root: PathBuf,
    read: Mutex<BTreeSet<PathBuf>>,
}

impl Reader {
    /// A reader for the tree at `root`.
    pub fn new(root: &Path) -> Reader {
        Reader {
            root: root.to_owned(),
            read: Mutex::new(BTreeSet::new()),
        }
    }

    /// The raw bytes of a file.
    pub fn bytes(&self, path: &Path) -> Result<Vec<u8>, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        if let Ok(mut read) = self.read.lock() {
            read.insert(path.to_owned());
        }
        Ok(bytes)
    }

    /// A block-snappy file, decompressed.
    pub fn snappy(&self, path: &Path) -> Result<Vec<u8>, String> {
        let compressed = self.bytes(path)?;
        snap::raw::Decoder::new()
            .decompress_vec(&compressed)
            .map_err(|e| format!("{}: bad snappy: {e}", path.display()))
    }

    /// A YAML file as a generic value.
    pub fn yaml(&self, path: &Path) -> Result<serde_json::Value, String> {
        let bytes = self.bytes(path)?;
        serde_yaml_ng::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Every file under the root that was not read.
    pub fn unread(&self) -> Vec<PathBuf> {
        let read = self.read.lock().map(|r| r.clone()).unwrap_or_default();
        let mut all = Vec::new();
        walk(&self.root, &mut all);
        all.into_iter().filter(|p| !read.contains(p)).collect()
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}
