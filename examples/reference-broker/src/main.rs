//! `reference-broker`: see the crate documentation and `--help`.

use std::process::ExitCode;

/// jemalloc, with its background threads purging pages unused for its decay time (10 s):
/// after a storm of connections the memory they held goes back to the system. glibc's
/// malloc kept it (its heap shrinks only from the top, under allocations made later), and
/// so held ~20 MiB after 3,000 connections had closed (`connection-storm.sh`).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use reference_broker::cli::{Cli, USAGE};
use reference_broker::setup::{banner, init_data_dir};

fn main() -> ExitCode {
    let cli = match Cli::parse(std::env::args().skip(1)) {
        Ok(cli) => cli,
        Err(e) => {
            eprintln!("reference-broker: {e}");
            return ExitCode::from(2);
        }
    };
    if cli.help {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if let Err(e) = reference_broker::logging::install(cli.log_format) {
        eprintln!("reference-broker: {e}");
        return ExitCode::from(2);
    }
    let (mut config, write_config) = match cli.resolve() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::from(2);
        }
    };
    let created = match init_data_dir(&mut config, write_config) {
        Ok(created) => created,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    if write_config {
        // Written on first start: later reloads re-read its rules.
        config.source = Some(config.data_dir.join(reference_broker::setup::CONFIG_FILE));
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let running = match reference_broker::start(config.clone()).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!("{e}");
                return ExitCode::FAILURE;
            }
        };
        print!(
            "{}",
            banner(
                &config,
                running.mqtt_addr,
                running.plain_addr,
                running.http_addr,
                created
            )
        );
        wait_for_signal(&running).await;
        match running.stop().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!("saving state failed: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Ctrl-C, or SIGTERM on Unix (what `kill` and service managers send); SIGHUP reloads the
/// registry and policies.
async fn wait_for_signal(running: &reference_broker::RunningBroker) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let (Ok(mut term), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) {
            loop {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => return,
                    _ = term.recv() => return,
                    _ = hup.recv() => {
                        // Logged by the broker either way.
                        let _ = running.reload();
                    }
                }
            }
        }
    }
    if tokio::signal::ctrl_c().await.is_err() {
        tracing::error!("cannot wait for Ctrl-C");
    }
}
