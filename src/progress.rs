//! A progress line for slow work: printed only when the work is still
//! running after a delay, and erased when it ends.
//!
//! A checkpoint usually takes a fraction of a second, and a line that flashes
//! by is noise, so nothing is shown unless the work outlasts the delay (one
//! second for the command layer). The line is written by a timer thread, so
//! the snapshot code itself knows nothing about it; and only to a terminal,
//! because in a hook or a pipe nobody is watching and the erasing escape
//! code would be garbage.

use std::io::{IsTerminal as _, Write};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How long work may run before the progress line appears.
pub const DELAY: Duration = Duration::from_secs(1);

/// A pending progress line. Dropping it (or [`Delayed::finish`]) stops the
/// timer, and erases the line if it was shown, before returning: output
/// written afterwards never interleaves with it.
pub struct Delayed {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Delayed {
    /// Write `message` to `writer` if still running after `delay`, and erase
    /// it (carriage return, erase to end of line) when done.
    pub fn start(
        mut writer: impl Write + Send + 'static,
        message: String,
        delay: Duration,
    ) -> Self {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(delay) {
                let _ = write!(writer, "{message}");
                let _ = writer.flush();
                // Wait for the end: a message, or the sender dropped.
                let _ = stopped.recv();
                let _ = write!(writer, "\r\x1b[K");
                let _ = writer.flush();
            }
        });
        Delayed {
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// On standard error after [`DELAY`], when `enabled` and standard error
    /// is a terminal (not `TERM=dumb`); otherwise nothing.
    pub fn on_terminal(message: &str, enabled: bool) -> Option<Self> {
        let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
        (enabled && !dumb && std::io::stderr().is_terminal())
            .then(|| Delayed::start(std::io::stderr(), message.to_string(), DELAY))
    }

    /// Stop the timer and erase the line if it was shown.
    pub fn finish(self) {
        drop(self);
    }
}

impl Drop for Delayed {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A writer the test can read after the thread wrote to it.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().expect("not poisoned")).into_owned()
        }
    }

    #[test]
    fn quick_work_prints_nothing() {
        let out = Shared::default();
        let progress = Delayed::start(out.clone(), "busy".into(), Duration::from_secs(5));
        progress.finish();
        assert_eq!(out.text(), "");
    }

    #[test]
    fn slow_work_prints_the_line_then_erases_it() {
        let out = Shared::default();
        let progress = Delayed::start(out.clone(), "busy…".into(), Duration::from_millis(10));
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(out.text(), "busy…");
        drop(progress);
        assert_eq!(out.text(), "busy…\r\x1b[K");
    }
}
