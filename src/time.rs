//! How times and commit ids are written: RFC 3339 in records, relative
//! times for people (`3 minutes ago`), ids abbreviated as git does.

use std::time::{SystemTime, UNIX_EPOCH};

use gix::ObjectId;

/// A time as RFC 3339, in its own offset.
pub fn rfc3339(time: gix::date::Time) -> String {
    time.format_or_unix(gix::date::time::format::ISO8601_STRICT)
}

/// Seven hex digits, as git abbreviates by default.
pub fn short(id: ObjectId) -> String {
    id.to_hex_with_len(7).to_string()
}

/// Now, in seconds since the epoch, as a commit made now in `repo` would
/// record it: `GIT_COMMITTER_DATE` when set (so a script or test that fixes
/// the date sees checkpoints as recent as the commits it makes), else the
/// clock.
pub fn now(repo: &gix::Repository) -> i64 {
    repo.committer()
        .and_then(Result::ok)
        .and_then(|sig| sig.time().ok())
        .map(|t| t.seconds)
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        })
}

/// A duration for messages: `300 s`, or `250 ms` below a second.
pub fn duration(d: std::time::Duration) -> String {
    if d.as_secs() >= 1 && d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// How long ago `time` was, in the largest unit that fits.
pub fn ago(time: gix::date::Time) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    describe(now - time.seconds)
}

/// `seconds` as a relative phrase; a time in the future is `in the future`.
pub fn describe(seconds: i64) -> String {
    if seconds < 0 {
        return "in the future".into();
    }
    let units = [
        (365 * 24 * 3600, "year"),
        (30 * 24 * 3600, "month"),
        (7 * 24 * 3600, "week"),
        (24 * 3600, "day"),
        (3600, "hour"),
        (60, "minute"),
        (1, "second"),
    ];
    if seconds < 10 {
        return "just now".into();
    }
    for (size, name) in units {
        if seconds >= size {
            let n = seconds / size;
            return format!("{n} {name}{} ago", if n == 1 { "" } else { "s" });
        }
    }
    "just now".into()
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn phrases() {
        assert_eq!(describe(3), "just now");
        assert_eq!(describe(61), "1 minute ago");
        assert_eq!(describe(7200), "2 hours ago");
        assert_eq!(describe(-5), "in the future");
    }
}
