//! Housekeeping after a checkpoint, as git does it after a commit.
//!
//! Every checkpoint writes loose objects, and hook-driven sessions write
//! many checkpoints. `git commit` then runs git's automatic maintenance
//! (`git gc --auto`), which packs them once there are too many; so does a
//! checkpoint. The check is git's own estimate, made here because it costs
//! one directory listing while starting git costs a process: loose objects
//! in `objects/17` (a 256th of them) above `gc.auto / 256`, or more packs
//! than `gc.autoPackLimit`. When it is due, `git gc --auto` is started in
//! the background and not waited for: it decides again, and with
//! `gc.autoDetach` (the default) detaches itself as it does after a commit.

use std::path::Path;

/// git's default `gc.auto`.
const DEFAULT_AUTO: i64 = 6700;
/// git's default `gc.autoPackLimit`.
const DEFAULT_PACK_LIMIT: i64 = 50;

/// Whether `git gc --auto` would find work in `repo`, by git's estimate;
/// never when `gc.auto` is 0 or `maintenance.auto` is false.
pub fn gc_due(repo: &gix::Repository) -> bool {
    let config = repo.config_snapshot();
    if config.boolean("maintenance.auto") == Some(false) {
        return false;
    }
    let auto = config.integer("gc.auto").unwrap_or(DEFAULT_AUTO);
    if auto <= 0 {
        return false;
    }
    let pack_limit = config
        .integer("gc.autoPackLimit")
        .unwrap_or(DEFAULT_PACK_LIMIT);
    let objects = repo.objects.store_ref().path().to_path_buf();
    let hex_len = repo.object_hash().len_in_hex() - 2;
    let threshold = (auto as u64).div_ceil(256);
    loose_in_17(&objects, hex_len) > threshold
        || (pack_limit > 0 && packs(&objects) > pack_limit as u64)
}

/// Start `git gc --auto` when [`gc_due`] says so. Best effort: a failure
/// to start it is no reason to fail the checkpoint that is already written.
pub fn start_gc_if_due(repo: &gix::Repository) {
    if gc_due(repo) {
        let _ = crate::remote::Git::new(repo).gc_auto_in_background();
    }
}

/// Loose objects in the `17` fan-out directory, counted as git counts them.
fn loose_in_17(objects: &Path, hex_len: usize) -> u64 {
    let Ok(entries) = std::fs::read_dir(objects.join("17")) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|entry| {
            let name = entry.file_name();
            let name = name.as_encoded_bytes();
            name.len() == hex_len && name.iter().all(u8::is_ascii_hexdigit)
        })
        .count() as u64
}

/// Packs without a `.keep` file.
fn packs(objects: &Path) -> u64 {
    let dir = objects.join("pack");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let path = entry.path();
            (path.extension()? == "pack").then_some(path)
        })
        .filter(|pack| !pack.with_extension("keep").exists())
        .count() as u64
}
