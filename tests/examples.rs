//! The programs in `examples/` run and print what they promise.

use std::process::Command;

/// Runs an example in release mode and returns its standard output; fails
/// the test, showing stderr, if it does not succeed.
fn run_example(name: &str) -> String {
    let out = Command::new(env!("CARGO"))
        .args(["run", "--release", "--quiet", "--example", name])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn cluster_sample_example_runs() {
    let stdout = run_example("cluster_sample");
    assert!(stdout.contains("399 documents"), "{stdout}");
    assert!(stdout.contains("most complete"), "{stdout}");
}

#[test]
fn feed_sample_example_runs() {
    let stdout = run_example("feed_sample");
    assert!(stdout.contains("399 articles placed"), "{stdout}");
    assert!(stdout.contains("left the window"), "{stdout}");
}
