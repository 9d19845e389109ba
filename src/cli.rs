//! Command-line interface: one `Command` enum, shared options.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "guard",
    version,
    about = "Protect the security-critical zones of a git repository",
    long_about = "Protect the security-critical zones of a git repository.\n\n\
        Exit codes: 0 passed, 1 blocked (at least one violation), 2 could not evaluate."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone, Default)]
pub struct ManifestArg {
    /// Manifest path, relative to the current directory [env: GUARD_MANIFEST] [default: guard.toml at the repository root]
    #[arg(long, global = false)]
    pub manifest: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    #[default]
    Human,
    Json,
    Sarif,
    Github,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ListFormat {
    #[default]
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Color {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the staged change, one commit, or every commit of a range
    Check {
        /// A revision (checked against its first parent) or a range A..B
        rev: Option<String>,
        /// Check the staged change (the default when no revision is given)
        #[arg(long, conflicts_with = "rev")]
        staged: bool,
        /// Commit message whose trailers carry the sign-offs of the staged change
        #[arg(long, value_name = "F")]
        message_file: Option<PathBuf>,
        /// Check merge-base(REF, HEAD)..HEAD [env: GUARD_BASE]
        #[arg(long, value_name = "REF", conflicts_with = "rev")]
        base: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        #[arg(long, value_enum, default_value_t = Color::Auto)]
        color: Color,
        #[command(flatten)]
        manifest: ManifestArg,
    },
    /// List the zones of the manifest
    Zones {
        /// Read the manifest and files from this revision instead of the working tree
        #[arg(long)]
        rev: Option<String>,
        /// Exit 2 unless every zone resolves to existing lines
        #[arg(long)]
        verify: bool,
        #[arg(long, value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
        #[command(flatten)]
        manifest: ManifestArg,
    },
    /// Rewrite zone ranges in guard.toml to follow the staged change
    Fix {
        #[command(flatten)]
        manifest: ManifestArg,
    },
    /// Write a commented starter guard.toml (never overwrites)
    Init {
        #[command(flatten)]
        manifest: ManifestArg,
    },
    /// Install the pre-commit and commit-msg hooks
    Install {
        /// Replace existing hooks that cannot be chained (they are kept for uninstall)
        #[arg(long)]
        force: bool,
        /// Install the server hook (pre-receive) in a bare repository
        #[arg(long)]
        server: bool,
    },
    /// Remove the hooks and restore what was there before install
    Uninstall,
    /// Hook entry points, run by git
    Hook {
        #[command(subcommand)]
        hook: HookCommand,
    },
    /// Print the Guard-Signature trailer line for a change
    Sign {
        rev: Option<String>,
        #[arg(long)]
        instance: String,
        #[arg(long)]
        key: PathBuf,
        #[command(flatten)]
        manifest: ManifestArg,
    },
    /// Write the bytes a signed sign-off signs
    Digest {
        rev: Option<String>,
        #[command(flatten)]
        manifest: ManifestArg,
    },
    /// List every commit of a range that touched a zone, with its sign-offs
    Audit {
        range: Option<String>,
        #[arg(long)]
        zone: Option<String>,
        #[arg(long, value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
        #[command(flatten)]
        manifest: ManifestArg,
    },
    /// Claim zones for an instance while it works on them (.guard/claims.toml)
    Claim {
        #[arg(required = true)]
        zones: Vec<String>,
        #[arg(long)]
        instance: String,
        /// Last day of the claim (YYYY-MM-DD, UTC)
        #[arg(long, value_name = "DATE")]
        until: Option<String>,
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        manifest: ManifestArg,
    },
    /// List the claims, with whether each is active, expired or superseded
    Claims {
        #[arg(long, value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
        #[command(flatten)]
        manifest: ManifestArg,
    },
    /// Release claims
    Release {
        #[arg(required = true)]
        zones: Vec<String>,
        /// Only this instance's claims
        #[arg(long)]
        instance: Option<String>,
        #[command(flatten)]
        manifest: ManifestArg,
    },
    /// Set a security freeze in the manifest: no zone change passes until it is lifted
    Freeze {
        #[arg(long)]
        reason: String,
        /// Freeze only these zones (default: every zone)
        #[arg(long = "zone", value_name = "ID")]
        zones: Vec<String>,
        #[command(flatten)]
        manifest: ManifestArg,
    },
    /// Lift the security freeze (a weakening: its commit needs the sign-offs)
    Thaw {
        #[command(flatten)]
        manifest: ManifestArg,
    },
    /// One screen for starting work: zones, claims, a freeze, each zone's last change
    Status {
        #[arg(long, value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
        #[command(flatten)]
        manifest: ManifestArg,
    },
    /// Play guard's story in a throwaway repository
    Demo {
        /// Keep the demo repository in DIR
        #[arg(long, value_name = "DIR")]
        keep: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Validate, fix drift, enforce invariants, announce needed sign-offs
    PreCommit {
        #[command(flatten)]
        manifest: ManifestArg,
    },
    /// Block the commit unless its message carries the needed sign-offs
    CommitMsg {
        file: PathBuf,
        #[command(flatten)]
        manifest: ManifestArg,
    },
    /// Refuse a push that adds a blocked commit (ref updates on stdin)
    PreReceive {
        #[command(flatten)]
        manifest: ManifestArg,
    },
    /// Refuse one ref's update that adds a blocked commit
    Update {
        refname: String,
        old: String,
        new: String,
        #[command(flatten)]
        manifest: ManifestArg,
    },
}
