//! `mqtt-loadgen`: see the README and `--help`.

use std::process::ExitCode;

use mqtt_loadgen::options::{Options, Scenario, USAGE};
use mqtt_loadgen::report::write_files;

fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(Some(o)) => o,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("mqtt-loadgen: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if matches!(options.scenario, Scenario::Peak | Scenario::Stability) {
        print!(
            "{}",
            mqtt_loadgen::profile::describe(u64::from(options.agents))
        );
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mqtt-loadgen: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let out = options.out.clone();
    let outcome = match runtime.block_on(mqtt_loadgen::run(options)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("mqtt-loadgen: {e}");
            return ExitCode::FAILURE;
        }
    };
    print!("{}", outcome.report.table());
    if let Some(dir) = out {
        if let Err(e) = write_files(&dir, &outcome.report, &outcome.histogram) {
            eprintln!("mqtt-loadgen: {e}");
            return ExitCode::FAILURE;
        }
        println!(
            "wrote {0}/results.json, {0}/latency.hgrm, {0}/latency.svg, {0}/errors.svg",
            dir.display()
        );
    }
    // Runs stop by themselves; leftover connections close with the runtime.
    runtime.shutdown_background();
    ExitCode::SUCCESS
}
