use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use guard::report::{paint, visible};

fn main() -> ExitCode {
    // A panic is "could not evaluate", never a pass and never an unknown status.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("guard: internal error: {info}");
        std::process::exit(2);
    }));
    guard::memory_tuning();
    let cli = guard::cli::Cli::parse();
    // Progress through long ranges, only for a person watching a terminal.
    let tty = std::io::stderr().is_terminal();
    let progress = move |done: usize, total: usize| {
        if tty && total >= 1000 {
            let end = if done == total { "\n" } else { "" };
            let _ = write!(
                std::io::stderr(),
                "\rguard: {done}/{total} commits checked{end}"
            );
        }
    };
    let result = guard::run_with_progress(cli, &progress);
    if let Some(line) = guard::work::trace() {
        let _ = std::io::stderr().write_all(line.as_bytes());
    }
    match result {
        Ok(outcome) => {
            // Untrusted text is made visible first; colour comes only from guard.
            let mut stdout = visible(&outcome.stdout).into_owned();
            if outcome.paint {
                stdout = paint(&stdout);
            }
            // A closed pipe (`guard check | head`) must not change the verdict's code.
            let _ = std::io::stdout().write_all(stdout.as_bytes());
            let _ = std::io::stdout().flush();
            let _ = std::io::stderr().write_all(visible(&outcome.stderr).as_bytes());
            ExitCode::from(outcome.code)
        }
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "guard: error: {}",
                visible(&e.to_string())
            );
            ExitCode::from(2)
        }
    }
}
