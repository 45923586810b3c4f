//! gowarden's own diagnostics (`tracing`), kept apart from go's output and the audit log.
//!
//! Off unless `GOWARDEN_LOG` is set (e.g. `GOWARDEN_LOG=debug`, or any `tracing` filter such as
//! `gowarden=trace`): the shim must print nothing of its own by default. Output goes to stderr;
//! `GOWARDEN_LOG_FILE=/path/gowarden.log` sends it to that file instead, through
//! tracing-appender's non-blocking writer, whose buffer [`flush`] empties before exec (exec
//! would discard it).

use std::sync::Mutex;

use tracing_appender::non_blocking::WorkerGuard;

pub const LOG_ENV: &str = crate::envvars::LOG;
pub const LOG_FILE_ENV: &str = crate::envvars::LOG_FILE;

static GUARD: Mutex<Option<WorkerGuard>> = Mutex::new(None);

/// Installs the subscriber if `GOWARDEN_LOG` asks for one. A bad filter or an unwritable log
/// file is reported on stderr once and diagnostics stay off; it never stops go from running.
pub fn init() {
    let Some(filter) = crate::environ::var_os(LOG_ENV).filter(|v| !v.is_empty()) else {
        return;
    };
    let filter = filter.to_string_lossy();
    let env_filter = match tracing_subscriber::EnvFilter::builder().parse(filter.as_ref()) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("gowarden: ${LOG_ENV}={filter:?} is not a log filter ({e}); use e.g. debug");
            return;
        }
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(env_filter)
        .with_target(false)
        .without_time();
    if let Some(path) = crate::environ::var_os(LOG_FILE_ENV).filter(|v| !v.is_empty()) {
        let path = std::path::PathBuf::from(path);
        let file = match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
        {
            Ok(f) => f,
            Err(e) => {
                eprintln!(
                    "gowarden: cannot open ${LOG_FILE_ENV} {}: {e}; diagnostics are off",
                    path.display()
                );
                return;
            }
        };
        let (writer, guard) = tracing_appender::non_blocking(file);
        if let Ok(mut g) = GUARD.lock() {
            *g = Some(guard);
        }
        let _ = builder.with_ansi(false).with_writer(writer).try_init();
    } else {
        let _ = builder.with_writer(std::io::stderr).try_init();
    }
}

/// Flushes buffered diagnostics; call before exec.
pub fn flush() {
    if let Ok(mut g) = GUARD.lock() {
        g.take();
    }
}
