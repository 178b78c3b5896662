//! The programs in `examples/` run and print what they promise.

use std::process::Command;

#[test]
fn cluster_sample_example_runs() {
    let out = Command::new(env!("CARGO"))
        .args(["run", "--release", "--quiet", "--example", "cluster_sample"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("399 documents"), "{stdout}");
    assert!(stdout.contains("most complete"), "{stdout}");
}

#[test]
fn feed_sample_example_runs() {
    let out = Command::new(env!("CARGO"))
        .args(["run", "--release", "--quiet", "--example", "feed_sample"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("399 articles placed"), "{stdout}");
    assert!(stdout.contains("left the window"), "{stdout}");
}
