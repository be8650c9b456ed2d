//! Writing the index after a checkpoint: the entries, a valid cache-tree,
//! and the trailing checksum.
//!
//! The cache-tree (the `TREE` extension) records, for each directory, the
//! tree object the index's entries there hash to. git uses it to commit
//! without rehashing, and so do we: when the index we read has a valid
//! cache-tree whose root is HEAD's tree, the index *is* HEAD's tree, and the
//! snapshot can edit HEAD's tree by the work-tree changes alone instead of
//! diffing the whole index against it (see `snapshot.rs`). So every index we
//! write carries a complete, correct cache-tree, rebuilt only along changed
//! directories: subtrees whose id did not change are reused as they were.
//!
//! gix writes the entries; the cache-tree is appended here because gix can
//! only rewrite a cache-tree the file already had. The checksum is plain
//! SHA-1 (or SHA-256) of the content: it guards against torn writes, not
//! attackers, so it is computed with a fast implementation rather than the
//! collision-detecting one used for objects (git ≥ 2.48 does the same).

use std::collections::HashSet;

use anyhow::Context as _;
use gix::bstr::BString;
use gix::index::extension::Tree;
use gix::ObjectId;

/// The cache-tree for `tree`, reusing every subtree of `old` whose id is
/// unchanged (its entry count is a property of the tree object alone).
///
/// In a sparse index, a directory in `sparse` is one index entry: git
/// counts it as one and does not describe what is below it, and so do we.
pub fn cache_tree(
    repo: &gix::Repository,
    tree: ObjectId,
    old: Option<&Tree>,
    sparse: &HashSet<BString>,
) -> anyhow::Result<Tree> {
    build(repo, tree, &mut BString::default(), old, sparse)
}

fn build(
    repo: &gix::Repository,
    id: ObjectId,
    path: &mut BString,
    old: Option<&Tree>,
    sparse: &HashSet<BString>,
) -> anyhow::Result<Tree> {
    let name: &[u8] = path.rsplit(|b| *b == b'/').next().unwrap_or_default();
    if let Some(old) = old.filter(|o| o.num_entries.is_some() && o.id == id) {
        let mut reused = old.clone();
        reused.name = name.into();
        return Ok(reused);
    }
    let object = repo
        .find_tree(id)
        .with_context(|| format!("could not read tree {id} for the cache-tree"))?;
    let mut count: u32 = 0;
    let mut children = Vec::new();
    for entry in object.iter() {
        let entry = entry.with_context(|| format!("tree {id} is damaged"))?;
        if entry.mode().is_tree() {
            let child_name: &[u8] = entry.filename();
            let len = path.len();
            if len > 0 {
                path.push(b'/');
            }
            path.extend_from_slice(child_name);
            if sparse.contains(path) {
                count += 1;
                children.push(Tree {
                    name: child_name.into(),
                    id: entry.oid().to_owned(),
                    num_entries: Some(1),
                    children: Vec::new(),
                });
            } else {
                let old_child = old.and_then(|o| find_child(o, child_name));
                let child = build(repo, entry.oid().to_owned(), path, old_child, sparse)?;
                count += child.num_entries.unwrap_or(0);
                children.push(child);
            }
            path.truncate(len);
        } else {
            count += 1;
        }
    }
    // git keeps subtrees ordered by name length, then bytes.
    children
        .sort_by(|a, b| (a.name.len(), a.name.as_slice()).cmp(&(b.name.len(), b.name.as_slice())));
    Ok(Tree {
        name: path
            .rsplit(|b| *b == b'/')
            .next()
            .unwrap_or_default()
            .into(),
        id,
        num_entries: Some(count),
        children,
    })
}

/// A child by name; git writes children sorted, so search that way and fall
/// back to a scan for a cache-tree another tool wrote in another order.
fn find_child<'a>(tree: &'a Tree, name: &[u8]) -> Option<&'a Tree> {
    let key = (name.len(), name);
    match tree
        .children
        .binary_search_by(|c| (c.name.len(), c.name.as_slice()).cmp(&key))
    {
        Ok(i) => tree.children.get(i),
        Err(_) => tree.children.iter().find(|c| c.name.as_slice() == name),
    }
}

/// Read the index of `repo` (an empty one when there is none), verifying
/// its checksum first as git does, with the fast hash; gix then decodes it
/// without hashing again. Call it with `index.lock` held, so the file
/// cannot change between the check and the decode.
pub fn read(repo: &gix::Repository) -> anyhow::Result<gix::index::File> {
    let path = repo.index_path();
    let kind = repo.object_hash();
    let data = match std::fs::read(&path) {
        Ok(data) => data,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Ok(gix::index::File::from_state(
                gix::index::State::new(kind),
                path,
            ));
        }
        Err(err) => {
            return Err(err)
                .with_context(|| format!("could not read the index '{}'", path.display()))
        }
    };
    let len = kind.len_in_bytes();
    if data.len() >= len {
        let (content, trailer) = data.split_at(data.len() - len);
        // An all-zero trailer means index.skipHash: nothing to verify.
        if trailer.iter().any(|b| *b != 0) && checksum(kind, content)? != trailer {
            return Err(crate::error::Error::DamagedIndex(path).into());
        }
    }
    drop(data);
    gix::index::File::at(&path, kind, true, gix::index::decode::Options::default())
        .with_context(|| format!("could not read the index '{}'", path.display()))
}

/// Whether the index's cache-tree says the index is exactly `tree`.
/// (In a sparse index each sparse directory counts as one entry, in the
/// cache-tree as in the index.)
pub fn index_is_tree(index: &gix::index::State, tree: ObjectId) -> bool {
    index.tree().is_some_and(|t| {
        t.id == tree
            && t.num_entries.and_then(|n| usize::try_from(n).ok()) == Some(index.entries().len())
    })
}

/// Serialize `index` with `cache_tree` into `out`, checksum included.
///
/// The layout is gix's (and git's) version 2 or 3: the header, the entries
/// each padded to eight bytes, then the extensions. gix's own writer goes
/// through a `dyn Write` for every field of every entry, which at 100 000
/// entries costs more than everything else a checkpoint writes; here each
/// entry is encoded by gix's `Entry::write_to` straight into one buffer.
/// Only our cache-tree and the mandatory sparse marker are written: no
/// end-of-index-entry extension, which would not cover our cache-tree.
pub fn write(
    index: &gix::index::File,
    cache_tree: &Tree,
    out: &mut impl std::io::Write,
) -> anyhow::Result<()> {
    let mut buf = Vec::with_capacity(index.entries().len() * 96 + 4096);
    entries(index, &mut buf).context("could not serialize the index")?;
    cache_tree
        .write_to(&mut buf)
        .context("could not serialize the cache-tree")?;
    if index.is_sparse() {
        gix::index::extension::sparse::write_to(&mut buf)
            .context("could not serialize the index")?;
    }
    let digest = checksum(index.object_hash(), &buf)?;
    buf.extend_from_slice(&digest);
    out.write_all(&buf).context("could not write the index")?;
    Ok(())
}

/// The header and the entries, as `gix_index::State::write_to` lays them out.
fn entries(state: &gix::index::State, buf: &mut Vec<u8>) -> std::io::Result<()> {
    use gix::index::entry::Flags;
    let live = || {
        state
            .entries()
            .iter()
            .filter(|e| !e.flags.contains(Flags::REMOVE))
    };
    let version: u32 = if live().any(|e| e.flags.contains(Flags::EXTENDED)) {
        3
    } else {
        2
    };
    let count = u32::try_from(live().count())
        .map_err(|_| std::io::Error::other("too many index entries"))?;
    buf.extend_from_slice(b"DIRC");
    buf.extend_from_slice(&version.to_be_bytes());
    buf.extend_from_slice(&count.to_be_bytes());
    let header = buf.len();
    for entry in live() {
        entry.write_to(&mut *buf, state)?;
        let over = (buf.len() - header) % 8;
        if over != 0 {
            buf.extend_from_slice(&[0u8; 8][over..]);
        }
    }
    Ok(())
}

fn checksum(kind: gix::hash::Kind, data: &[u8]) -> anyhow::Result<Vec<u8>> {
    use sha1::Digest as _;
    Ok(match kind {
        gix::hash::Kind::Sha1 => sha1::Sha1::digest(data).to_vec(),
        _ => {
            let mut hasher = gix::hash::hasher(kind);
            hasher.update(data);
            hasher
                .try_finalize()
                .map_err(|e| anyhow::anyhow!("could not hash the index: {e}"))?
                .as_slice()
                .to_vec()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gix::index::entry::{Flags, Mode, Stat};

    /// Our entry encoding is byte for byte gix's, for plain and extended
    /// entries and for paths longer than the 12-bit length field.
    #[test]
    fn entries_encode_exactly_as_gix_does() {
        let mut state = gix::index::State::new(gix::hash::Kind::Sha1);
        let id = gix::ObjectId::from_hex(b"0123456789abcdef0123456789abcdef01234567").expect("hex");
        let long = "d/".repeat(2100) + "f";
        for (path, flags, mode) in [
            ("a", Flags::empty(), Mode::FILE),
            ("b/c.txt", Flags::ASSUME_VALID, Mode::FILE_EXECUTABLE),
            ("link", Flags::empty(), Mode::SYMLINK),
            ("sub", Flags::empty(), Mode::COMMIT),
            (long.as_str(), Flags::empty(), Mode::FILE),
        ] {
            let stat = Stat {
                size: path.len() as u32,
                ino: 7,
                ..Stat::default()
            };
            state.dangerously_push_entry(stat, id, flags, mode, path.into());
        }
        state.sort_entries();
        for extended in [false, true] {
            if extended {
                let entry = &mut state.entries_mut()[0];
                entry.flags.insert(Flags::EXTENDED | Flags::SKIP_WORKTREE);
            }
            let mut ours = Vec::new();
            entries(&state, &mut ours).expect("encode");
            let mut gixs = Vec::new();
            state
                .write_to(
                    &mut gixs,
                    gix::index::write::Options {
                        extensions: gix::index::write::Extensions::None,
                        skip_hash: true,
                    },
                )
                .expect("gix encodes");
            // `State::write_to` writes no trailing checksum.
            let first = ours.iter().zip(&gixs).position(|(a, b)| a != b);
            assert_eq!(
                ours,
                gixs,
                "extended: {extended}; lengths {} vs {}, first difference at {first:?}",
                ours.len(),
                gixs.len()
            );
        }
    }
}
