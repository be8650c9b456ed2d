//! Merging another notes ref (a remote's, fetched) into the local one, the
//! way session notes need it.
//!
//! The merge is a union per annotated object. When both sides annotate the
//! same object differently, the state with the later `created_at` wins; a
//! note that is not valid TOML loses to one that is; ties go to the larger
//! note blob id, so every clone picks the same winner whichever side merges.
//! git's own `git notes merge` either stops on such conflicts or, with
//! `union` and `cat_sort_uniq`, concatenates the two texts, which is never
//! valid TOML: it is not used.
//!
//! When one side contains the other the local ref fast-forwards; otherwise
//! the result is a merge commit with both parents whose tree gix-note writes
//! in git's layout (fanout and the local side's non-note entries included),
//! so `git notes show` reads every note.
//!
//! It reads notes trees and edits them through `gix::note::plumbing`
//! directly rather than through [`super::Notes`], which works one note at a
//! time while a merge works on whole trees.

use std::collections::HashMap;

use anyhow::Context as _;
use gix::bstr::{BString, ByteSlice};
use gix::refs::transaction::PreviousValue;
use gix::refs::Target;
use gix::ObjectId;

use crate::state::State;

/// What a merge did to the local notes ref.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Merged {
    /// The local ref already had everything the other side has.
    UpToDate,
    /// The local ref moved to (or was created at) the other side's commit.
    FastForward,
    /// A merge commit with both sides as parents.
    Merged {
        commit: ObjectId,
        /// Notes only the other side had.
        added: usize,
        /// Notes both sides had, where the other side's state won.
        replaced: usize,
    },
}

/// How often the local ref may move under us (a checkpoint writing a note
/// meanwhile) before the merge gives up.
const ATTEMPTS: usize = 3;

/// Merge the notes of `other_ref` into `local_ref`. A missing `other_ref`
/// is nothing to merge; a missing `local_ref` is created. The local ref
/// moves with compare-and-swap, so a concurrent note is never lost: the
/// merge starts again from it.
///
/// Merge commits need an identity: call [`crate::repo::ensure_identity`]
/// first.
pub fn merge(repo: &gix::Repository, local_ref: &str, other_ref: &str) -> anyhow::Result<Merged> {
    let _shared = crate::repo::shared_permissions(repo);
    let Some(other) = peel(repo, other_ref)? else {
        return Ok(Merged::UpToDate);
    };
    let mut attempt = 0;
    loop {
        attempt += 1;
        let local = peel(repo, local_ref)?;
        match merge_once(repo, local_ref, local, other_ref, other) {
            Ok(merged) => return Ok(merged),
            // Only a ref that moved since we read it is worth another try.
            Err(err) if attempt >= ATTEMPTS || peel(repo, local_ref)? == local => return Err(err),
            Err(_) => {}
        }
    }
}

fn merge_once(
    repo: &gix::Repository,
    local_ref: &str,
    local: Option<ObjectId>,
    other_ref: &str,
    other: ObjectId,
) -> anyhow::Result<Merged> {
    let message = format!("git-session: merge notes from {other_ref}");
    let Some(local) = local else {
        set_ref(
            repo,
            local_ref,
            other,
            PreviousValue::MustNotExist,
            &message,
        )?;
        return Ok(Merged::FastForward);
    };
    if local == other {
        return Ok(Merged::UpToDate);
    }
    let base = repo
        .merge_base(local, other)
        .map(|base| base.map(|id| id.detach()))
        .with_context(|| format!("could not find where '{local_ref}' and '{other_ref}' met"))?;
    if base == Some(other) {
        return Ok(Merged::UpToDate);
    }
    if base == Some(local) {
        set_ref(repo, local_ref, other, expect(local), &message)?;
        return Ok(Merged::FastForward);
    }

    let local_tree = tree_of(repo, local, local_ref)?;
    let other_tree = tree_of(repo, other, other_ref)?;
    let mut theirs = Vec::new();
    differing_notes(
        repo,
        Some(local_tree),
        other_tree,
        &mut BString::default(),
        &mut theirs,
    )
    .with_context(|| format!("could not read the notes tree of '{other_ref}'"))?;

    let mut state = gix::note::plumbing::State::new(local_tree, repo)
        .with_context(|| format!("could not read the notes tree of '{local_ref}'"))?;
    let (mut added, mut replaced) = (0, 0);
    for (object, their_note) in theirs {
        let ours = state
            .get(&object, repo)
            .with_context(|| format!("could not read the note of {object} in '{local_ref}'"))?;
        let take = match ours {
            None => {
                added += 1;
                true
            }
            Some(our_note) if our_note == their_note => false,
            Some(our_note) => {
                let theirs_wins = rank(repo, their_note)? > rank(repo, our_note)?;
                replaced += usize::from(theirs_wins);
                theirs_wins
            }
        };
        if take {
            state
                .edit(object, Some(their_note), repo)
                .with_context(|| format!("could not add the note of {object} to '{local_ref}'"))?;
        }
    }
    let tree = state
        .write(repo)
        .with_context(|| format!("could not write the merged notes tree for '{local_ref}'"))?;
    let commit = repo
        .new_commit(&message, tree, [local, other])
        .with_context(|| format!("could not write the notes merge commit for '{local_ref}'"))?
        .id;
    set_ref(repo, local_ref, commit, expect(local), &message)?;
    Ok(Merged::Merged {
        commit,
        added,
        replaced,
    })
}

/// The commit a ref points to, `None` when the ref does not exist.
fn peel(repo: &gix::Repository, name: &str) -> anyhow::Result<Option<ObjectId>> {
    let Some(mut reference) = repo
        .try_find_reference(name)
        .with_context(|| format!("could not read '{name}'"))?
    else {
        return Ok(None);
    };
    let id = reference
        .peel_to_id()
        .with_context(|| format!("could not resolve '{name}'"))?;
    Ok(Some(id.detach()))
}

fn tree_of(repo: &gix::Repository, commit: ObjectId, name: &str) -> anyhow::Result<ObjectId> {
    Ok(repo
        .find_commit(commit)
        .with_context(|| format!("'{name}' does not point to a commit"))?
        .tree_id()
        .with_context(|| format!("could not read the tree of '{name}'"))?
        .detach())
}

fn expect(id: ObjectId) -> PreviousValue {
    PreviousValue::MustExistAndMatch(Target::Object(id))
}

fn set_ref(
    repo: &gix::Repository,
    name: &str,
    id: ObjectId,
    expected: PreviousValue,
    message: &str,
) -> anyhow::Result<()> {
    repo.reference(name, id, expected, message)
        .with_context(|| format!("could not move '{name}' to {id}"))?;
    Ok(())
}

/// Collect the notes of the tree `other` that may differ from those of
/// `local`, as (annotated object, note blob). Subtrees and notes with the
/// same path and id on both sides hold the same notes and are skipped, so
/// the cost follows the difference, not the number of notes. A note the
/// other side holds at another fanout depth is still listed, and settled
/// against the local notes by the caller.
///
/// The layout rules are git's (notes.c): in a subtree at hex prefix `p`, a
/// blob named by the remaining hex digits is a note, a two-hex-digit tree is
/// a fanout level, anything else is a non-note (the other side's are not
/// merged).
fn differing_notes(
    repo: &gix::Repository,
    local: Option<ObjectId>,
    other: ObjectId,
    prefix: &mut BString,
    out: &mut Vec<(ObjectId, ObjectId)>,
) -> anyhow::Result<()> {
    if local == Some(other) {
        return Ok(());
    }
    let hex_len = other.kind().len_in_hex();
    let ours: HashMap<BString, (bool, ObjectId)> = match local {
        Some(id) => entries(repo, id)?
            .into_iter()
            .map(|(name, is_tree, id)| (name, (is_tree, id)))
            .collect(),
        None => HashMap::new(),
    };
    for (name, is_tree, id) in entries(repo, other)? {
        let hex = name.iter().all(u8::is_ascii_hexdigit);
        if !is_tree && hex && prefix.len() + name.len() == hex_len {
            if ours.get(&name) == Some(&(false, id)) {
                continue;
            }
            let mut full = prefix.clone();
            full.extend_from_slice(&name);
            if let Ok(object) = ObjectId::from_hex(&full) {
                out.push((object, id));
            }
        } else if is_tree && hex && name.len() == 2 && prefix.len() + 2 < hex_len {
            let local_sub = ours
                .get(&name)
                .filter(|(is_tree, _)| *is_tree)
                .map(|(_, id)| *id);
            let len = prefix.len();
            prefix.extend_from_slice(&name);
            let result = differing_notes(repo, local_sub, id, prefix, out);
            prefix.truncate(len);
            result?;
        }
    }
    Ok(())
}

/// A tree's entries as (name, is a tree, id); blobs of any mode count as
/// blobs, as they do to git's notes code.
fn entries(
    repo: &gix::Repository,
    tree: ObjectId,
) -> anyhow::Result<Vec<(BString, bool, ObjectId)>> {
    let tree = repo
        .find_tree(tree)
        .with_context(|| format!("could not read notes tree {tree}"))?;
    let decoded = tree
        .decode()
        .with_context(|| format!("could not decode notes tree {}", tree.id))?;
    Ok(decoded
        .entries
        .iter()
        .filter(|e| e.mode.is_tree() || e.mode.is_blob())
        .map(|e| (e.filename.to_owned(), e.mode.is_tree(), e.oid.to_owned()))
        .collect())
}

/// How strongly a note claims its object: a valid state beats an invalid
/// one, then the later `created_at`, then the larger blob id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Rank {
    valid: bool,
    created: Option<i64>,
    blob: ObjectId,
}

fn rank(repo: &gix::Repository, blob: ObjectId) -> anyhow::Result<Rank> {
    let data = repo
        .find_blob(blob)
        .with_context(|| format!("could not read note blob {blob}"))?
        .detach()
        .data;
    Ok(rank_of(&data, blob))
}

pub(super) fn rank_of(data: &[u8], blob: ObjectId) -> Rank {
    let state = data
        .to_str()
        .ok()
        .and_then(|text| State::from_toml(text).ok());
    Rank {
        valid: state.is_some(),
        created: state.and_then(|s| seconds(&s.created_at)),
        blob,
    }
}

/// `created_at` as seconds since the epoch; offsets are taken into account,
/// so `…T05:00:00+02:00` is earlier than `…T04:00:00Z`.
fn seconds(created_at: &str) -> Option<i64> {
    let text = created_at.trim();
    if text.is_empty() {
        return None;
    }
    gix::date::parse(text, None).ok().map(|time| time.seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(byte: u8) -> ObjectId {
        ObjectId::from_bytes_or_panic(&[byte; 20])
    }

    /// Whether note `theirs` replaces `ours` on the same object.
    fn prefers(theirs: (&[u8], ObjectId), ours: (&[u8], ObjectId)) -> bool {
        rank_of(theirs.0, theirs.1) > rank_of(ours.0, ours.1)
    }

    fn note(created_at: &str) -> Vec<u8> {
        format!("schema = 1\ntask = \"t\"\ncreated_at = \"{created_at}\"\n").into_bytes()
    }

    #[test]
    fn created_at_reads_rfc3339_with_offsets() {
        assert_eq!(seconds("1970-01-01T00:01:00Z"), Some(60));
        assert_eq!(seconds("1970-01-01T01:01:00+01:00"), Some(60));
        assert_eq!(
            seconds("2026-01-02T03:04:05+00:00"),
            seconds("2026-01-02T03:04:05Z")
        );
        assert_eq!(seconds(""), None);
        assert_eq!(seconds("not a date"), None);
    }

    #[test]
    fn the_later_state_wins_whatever_the_blob_ids() {
        let early = note("2026-01-02T03:04:05Z");
        let late = note("2026-01-02T03:04:06Z");
        assert!(prefers((&late, id(1)), (&early, id(2))));
        assert!(!prefers((&early, id(2)), (&late, id(1))));
        // Offsets count: 05:00+02:00 is 03:00Z, earlier than 03:04:05Z.
        let offset = note("2026-01-02T05:00:00+02:00");
        assert!(prefers((&early, id(1)), (&offset, id(2))));
    }

    #[test]
    fn invalid_toml_loses_and_ties_go_to_the_larger_blob() {
        let valid = note("2026-01-02T03:04:05Z");
        assert!(prefers((&valid, id(1)), (b"not = [toml", id(2))));
        assert!(!prefers((b"not = [toml", id(2)), (&valid, id(1))));
        assert!(prefers((&valid, id(2)), (&valid, id(1))));
        assert!(!prefers((&valid, id(1)), (&valid, id(2))));
        // A state without a time loses to one with a time.
        let timeless = b"schema = 1\n".to_vec();
        assert!(prefers((&valid, id(1)), (&timeless, id(2))));
    }
}
