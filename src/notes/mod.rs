//! The only module that reads or writes git notes: one notes ref read and
//! written here, and [`merge`], a remote's notes merged into the local ones.
//!
//! Notes live under one ref (`refs/notes/session` unless configured) in the
//! tree layout git itself uses, fanout and non-note entries included, so
//! `git notes --ref=session show` prints what we wrote and we read what git
//! wrote. Reads go through one cached platform per command, so a history
//! walk does not reload the notes tree for every commit.

pub mod merge;

use anyhow::Context as _;
use gix::ObjectId;

/// How often [`Notes::write`] tries before it gives up.
const WRITE_ATTEMPTS: u64 = 4;

/// Access to one notes ref.
pub struct Notes<'repo> {
    repo: &'repo gix::Repository,
    platform: gix::note::Platform<'repo>,
    name: gix::refs::FullName,
}

impl<'repo> Notes<'repo> {
    /// Open the notes ref `name` (a full ref name) of `repo`, for reading
    /// also the remotes' notes fetched beside it (`<name>-remotes/*`, where
    /// `git session init` makes a plain `git fetch` put them): a commit's
    /// note is the one the merge of `git session fetch` would keep
    /// ([`merge`]), so fetched notes are read before they are merged.
    pub fn open(repo: &'repo gix::Repository, name: &str) -> anyhow::Result<Self> {
        let full: gix::refs::FullName = name
            .try_into()
            .with_context(|| format!("'{name}' is not a valid notes ref name"))?;
        let mut refs = vec![name.to_string()];
        let prefix = format!("{name}-remotes/");
        if let Ok(found) = repo
            .references()
            .and_then(|platform| Ok(platform.prefixed(prefix.as_str())?.collect::<Vec<_>>()))
        {
            refs.extend(
                found
                    .into_iter()
                    .flatten()
                    .map(|r| r.name().as_bstr().to_string()),
            );
        }
        let platform = repo
            .notes()
            .context("could not read the notes configuration")?
            .with_refs(refs)
            .with_context(|| format!("could not open notes ref '{name}'"))?;
        Ok(Notes {
            repo,
            platform,
            name: full,
        })
    }

    /// The full name of the notes ref.
    pub fn name(&self) -> String {
        self.name.as_bstr().to_string()
    }

    /// The note attached to `id`, if any.
    pub fn read(&mut self, id: ObjectId) -> anyhow::Result<Option<Vec<u8>>> {
        let name = self.name.as_bstr().to_string();
        // gc's repack may make one lookup miss (see retry_beside_gc).
        let platform = &mut self.platform;
        crate::repo::retry_beside_gc(|| {
            let notes = platform.get(id)?;
            // One note (the usual case) needs no ranking, which parses it.
            let chosen = if notes.len() > 1 {
                notes
                    .into_iter()
                    .max_by_key(|note| merge::rank_of(&note.blob.data, note.blob.id))
            } else {
                notes.into_iter().next()
            };
            Ok(chosen.map(|note| note.blob.data.clone()))
        })
        .with_context(|| format!("could not read the notes in '{name}' for {id}"))
    }

    /// Attach `text` to `id`, replacing any note it had. The notes ref moves
    /// with compare-and-swap, so a concurrent writer makes this fail rather
    /// than lose a note.
    ///
    /// A `git gc` running alongside can make one attempt fail: its
    /// `pack-refs` may leave us reading a stale tip (the swap then fails),
    /// its `prune` may remove an object directory between its creation and
    /// our object's arrival in it. The edit is "this commit's note is
    /// `text`", right on any tip, so it is made again from the current tip,
    /// and read back to be sure it landed.
    pub fn write(&mut self, id: ObjectId, text: &str, message: &str) -> anyhow::Result<()> {
        let name = self.name.clone();
        let mut attempt = 0;
        loop {
            attempt += 1;
            crate::repo::refresh_packed_refs(self.repo);
            let written = self
                .repo
                .notes()
                .map_err(anyhow::Error::from)
                .and_then(|notes| {
                    notes
                        .with_commit_message(message)
                        .replace_at_ref(name.as_ref(), id, text.as_bytes())
                        .map_err(anyhow::Error::from)
                })
                .with_context(|| format!("could not write the note for {id} to '{name}'"));
            // The reading platform caches the old notes tree: start afresh.
            *self = Notes::open(self.repo, &name.as_bstr().to_string())?;
            let landed = written.and_then(|_| match self.read(id)? {
                Some(note) if note == text.as_bytes() => Ok(()),
                _ => Err(anyhow::anyhow!(
                    "the note for {id} is not in '{name}' after it was written"
                )),
            });
            match landed {
                Ok(()) => return Ok(()),
                Err(err) if attempt >= WRITE_ATTEMPTS => return Err(err),
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(10 * attempt)),
            }
        }
    }
}
