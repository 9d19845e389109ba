//! guard: protect the security-critical zones of a git repository.
//!
//! The library decides and renders; it never prints. [`run`] returns what to
//! write and the exit code, and `main` writes it.

#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod amend;
pub mod ancestry;
pub mod change;
pub mod claims;
pub mod cli;
pub mod commands;
pub mod demo;
pub mod digest;
pub mod error;
pub mod fuzzing;
pub mod git;
pub mod line_counts;
pub mod manifest;
pub mod merge;
pub mod policy;
pub mod report;
pub mod session;
pub mod signature;
pub mod signoff;
pub mod trailers;
pub mod verdict;
pub mod work;
pub mod zones;

pub use error::{Error, Result};

/// Threads guard may use for long ranges: two when the machine has two cores
/// (more gain little: the work is a sequential walk plus one helper), one when
/// `GUARD_THREADS=1` asks for it.
pub fn threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get().min(2));
    match std::env::var("GUARD_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
    {
        Some(n) => n.clamp(1, cores),
        None => cores,
    }
}

/// Tune the C allocator for a short process that reads files and objects of
/// a few hundred kilobytes: glibc serves each allocation over 128 KiB with a
/// fresh mapping, every page of which is a page fault when first written
/// (about 2 us each, as many as the rest of a hook's work), and raises that
/// limit only after the first such block is freed. From the heap, a freed
/// block is reused by the next one. Blocks of a mebibyte or more still get
/// their own mapping, given back to the system when freed.
pub fn memory_tuning() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: mallopt only sets allocator parameters; it is called before
    // any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 2 << 20);
    }
}

/// What a command produced: the text for stdout and stderr, and the exit code
/// (0 passed, 1 blocked, 2 could not evaluate).
#[derive(Debug, Default)]
pub struct Outcome {
    pub code: u8,
    pub stdout: String,
    pub stderr: String,
    /// Colour the human report (`main` does it, after making untrusted
    /// control characters visible, so that colour comes only from guard).
    pub paint: bool,
}

impl Outcome {
    pub fn code(&self) -> u8 {
        self.code
    }
}

pub fn run(cli: cli::Cli) -> Result<Outcome> {
    run_with_progress(cli, &|_, _| {})
}

/// [`run`], reporting progress through long ranges to `progress` (the binary
/// passes a stderr line when stderr is a terminal).
pub fn run_with_progress(cli: cli::Cli, progress: session::Progress<'_>) -> Result<Outcome> {
    use cli::Command;
    match cli.command {
        Command::Check {
            rev,
            staged,
            message_file,
            base,
            format,
            color,
            manifest,
        } => commands::check::run(
            commands::check::Request {
                color,
                rev,
                staged,
                message_file,
                base,
                format,
                manifest,
            },
            progress,
        ),
        Command::Zones {
            rev,
            verify,
            format,
            manifest,
        } => commands::zones(rev.as_deref(), verify, format, &manifest),
        Command::Init { manifest } => commands::init(&manifest),
        Command::Fix { manifest } => commands::fix(&manifest),
        Command::Install { force, server } => match server {
            true => commands::server::install(force),
            false => commands::hooks::install(force),
        },
        Command::Uninstall => commands::hooks::uninstall(),
        Command::Hook { hook } => match hook {
            cli::HookCommand::PreCommit { manifest } => commands::hooks::pre_commit(&manifest),
            cli::HookCommand::CommitMsg { file, manifest } => {
                commands::hooks::commit_msg(&file, &manifest)
            }
            cli::HookCommand::PreReceive { manifest } => commands::server::pre_receive(&manifest),
            cli::HookCommand::Update {
                refname,
                old,
                new,
                manifest,
            } => commands::server::update(&refname, &old, &new, &manifest),
        },
        Command::Sign {
            rev,
            instance,
            key,
            manifest,
        } => commands::sign::sign(rev.as_deref(), &instance, &key, &manifest),
        Command::Digest { rev, manifest } => commands::sign::digest(rev.as_deref(), &manifest),
        Command::Audit {
            range,
            zone,
            format,
            manifest,
        } => commands::audit::audit(range.as_deref(), zone.as_deref(), format, &manifest),
        Command::Claim {
            zones,
            instance,
            until,
            note,
            manifest,
        } => commands::coordinate::claim(
            &zones,
            &instance,
            until.as_deref(),
            note.as_deref(),
            &manifest,
        ),
        Command::Claims { format, manifest } => commands::coordinate::list(format, &manifest),
        Command::Release {
            zones,
            instance,
            manifest,
        } => commands::coordinate::release(&zones, instance.as_deref(), &manifest),
        Command::Freeze {
            reason,
            zones,
            manifest,
        } => commands::coordinate::freeze(&reason, &zones, &manifest),
        Command::Thaw { manifest } => commands::coordinate::thaw(&manifest),
        Command::Status { format, manifest } => commands::status::status(format, &manifest),
        Command::Demo { keep } => demo::run(keep.as_deref()),
    }
}
