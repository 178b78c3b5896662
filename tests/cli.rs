//! The `wirecluster` binary: outputs, errors and exit codes.

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wirecluster"))
}

/// Runs a command that must succeed, showing its stderr if it does not.
fn ok(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs a command that must fail with exit status 1 and a message
/// containing `needle` on stderr.
fn fails(cmd: &mut Command, needle: &str) {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(needle), "wanted {needle:?} in: {stderr}");
}

mod common;
use common::data;

#[test]
fn cluster_writes_one_line_per_document() {
    let out = ok(bin().args(["cluster", &data("syria-2016.jsonl")]));
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[1]["id"], "syr-001");
    assert_eq!(lines[1]["duplicate_group"], "syr-000");
    assert_eq!(lines[1]["canonical"], false);
    assert_eq!(lines[0]["canonical"], true);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("docs/s"), "{stderr}");
}

/// `-o -` is standard output, for `cluster` and `stream` alike: no file
/// named `-` appears.
#[test]
fn a_dash_output_is_standard_output() {
    let dir = scratch("dash-output");
    for cmd in ["cluster", "stream"] {
        let out = ok(bin().current_dir(&dir).args([
            cmd,
            &data("syria-2016.jsonl"),
            "-o",
            "-",
            "--quiet",
        ]));
        let ids: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].to_string())
            .collect();
        assert_eq!(ids.len(), 5, "{cmd}");
        assert!(!dir.join("-").exists(), "{cmd} wrote a file named '-'");
    }
}

#[test]
fn eval_scores_and_enforces_floors() {
    let out = ok(bin().args([
        "eval",
        &data("news-sample.jsonl"),
        "--min-pairwise-f1",
        "0.97",
        "--json",
    ]));
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["duplicate_groups"]["documents"], 399);
    assert!(s["stories"]["bcubed"]["f1"].as_f64().unwrap() > 0.5);
    // An impossible floor fails with exit status 1.
    let out = bin()
        .args(["eval", &data("news-sample.jsonl"), "--min-ari", "1.01"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

/// `eval` scores threads against `--thread-field` (default: the story
/// field); with the level off each story is its own thread, so the two
/// levels score alike, and `--thread-level` changes the thread level only.
#[test]
fn eval_scores_threads_and_the_summary_shows_them() {
    let scores = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["eval", "--json", "--story-field", "event"];
        args.extend_from_slice(extra);
        let sample = data("news-sample.jsonl");
        args.insert(1, &sample);
        serde_json::from_slice(&ok(bin().args(&args)).stdout).unwrap()
    };
    // Scores are sums over hash maps: equal up to rounding.
    let f1 = |v: &serde_json::Value| v["bcubed"]["f1"].as_f64().unwrap();
    let clusters = |v: &serde_json::Value| v["predicted_clusters"].as_u64().unwrap();
    let off = scores(&[]);
    assert_eq!(clusters(&off["threads"]), clusters(&off["stories"]));
    assert!((f1(&off["threads"]) - f1(&off["stories"])).abs() < 1e-9);
    let on = scores(&["--thread-level"]);
    assert_eq!(clusters(&on["stories"]), clusters(&off["stories"]));
    assert!((f1(&on["stories"]) - f1(&off["stories"])).abs() < 1e-9);
    assert_eq!(on["threads"]["documents"], 399);
    assert!(clusters(&on["threads"]) < clusters(&on["stories"]));
    let out = ok(bin().args([
        "--thread-level",
        "cluster",
        &data("news-sample.jsonl"),
        "--summary",
        "-o",
        "-",
        "--quiet",
    ]));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(" threads ("), "{text}");
}

#[test]
fn bad_lines_name_file_and_line_or_are_skipped_and_counted() {
    let dir = std::env::temp_dir().join(format!("wirecluster-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.jsonl");
    std::fs::write(
        &path,
        "{\"id\":\"a\",\"text\":\"fine text\"}\n{\"id\":\"b\"\n",
    )
    .unwrap();
    let out = bin()
        .args(["cluster", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.jsonl: line 2: malformed JSON"),
        "{stderr}"
    );

    let out = ok(bin().args(["cluster", "--skip-invalid", path.to_str().unwrap()]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1 lines skipped (malformed_json=1)"),
        "{stderr}"
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}

#[test]
fn eval_requires_labels() {
    let out = bin()
        .args(["eval", &data("syria-2016.jsonl")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no `cluster` label"));
}

#[test]
fn explain_tells_why_pairs_are_together_or_apart() {
    let run = |a: &str, b: &str| {
        let out = ok(bin().args(["explain", &data("syria-2016.jsonl"), a, b, "--json"]));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let dup = run("syr-000", "syr-001");
    assert_eq!(dup["same_duplicate_group"], true);
    assert_eq!(dup["duplicate"]["edge"], "rewrite");
    let same_story = run("syr-000", "syr-002");
    assert_eq!(same_story["same_duplicate_group"], false);
    assert_eq!(same_story["same_story"], true);
    let apart = run("syr-000", "syr-003");
    assert_eq!(apart["same_story"], false);
    // Four days apart: the time factor is below 1.
    assert!(apart["story"]["groups"]["time_factor"].as_f64().unwrap() < 1.0);
    assert!(
        apart["summary"]
            .as_str()
            .unwrap()
            .contains("Different stories")
    );

    let out = bin()
        .args(["explain", &data("syria-2016.jsonl"), "syr-000", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no document has id \"nope\""));
}

#[test]
fn saved_idf_is_reused() {
    let dir = std::env::temp_dir().join(format!("wirecluster-idf-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let idf = dir.join("idf.json");
    ok(bin()
        .args(["cluster", &data("news-sample.jsonl"), "-o"])
        .arg(dir.join("a.jsonl"))
        .arg("--save-idf")
        .arg(&idf));
    let model = wirecluster::IdfModel::load(&idf).unwrap();
    assert_eq!(model.documents, 399);
    let out = ok(bin()
        .args(["cluster", &data("syria-2016.jsonl"), "--idf"])
        .arg(&idf));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 5);
    // A damaged model file is a clear error.
    std::fs::write(&idf, b"{\"version\": 1, \"documents\": 3, \"df\": ").unwrap();
    let out = bin()
        .args(["cluster", &data("syria-2016.jsonl"), "--idf"])
        .arg(&idf)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("idf.json"));
}

#[test]
fn output_formats_quiet_and_usage_exit_code() {
    let input = data("syria-2016.jsonl");
    let csv = ok(bin().args(["cluster", &input, "--format", "csv", "--quiet"]));
    assert!(csv.stderr.is_empty(), "--quiet prints nothing on stderr");
    let text = String::from_utf8(csv.stdout).unwrap();
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("id,duplicate_group,canonical,")
    );
    assert_eq!(lines.count(), 5);

    let clusters = ok(bin().args(["cluster", &input, "--format", "clusters", "-q"]));
    let stories: Vec<serde_json::Value> = String::from_utf8(clusters.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(stories.len(), 3);
    assert_eq!(stories[0]["story"], "syr-000");
    assert_eq!(stories[0]["size"], 3);
    assert_eq!(stories[0]["groups"][0]["members"][1]["id"], "syr-001");

    let summary = ok(bin().args(["cluster", &input]));
    let stderr = String::from_utf8_lossy(&summary.stderr);
    assert!(
        stderr.contains("read 5 documents (none skipped)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("largest story syr-000 with 3 articles"),
        "{stderr}"
    );

    let usage = bin()
        .args(["cluster", &input, "--format", "nope"])
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn report_is_one_self_contained_html_file() {
    let dir = std::env::temp_dir().join(format!("wirecluster-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("report.html");
    ok(bin()
        .args(["report", &data("news-sample.jsonl"), "-q", "-o"])
        .arg(&out));
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("Evaluation against the <code>cluster</code> labels"));
    assert!(html.contains("Stories, largest first"));
    assert!(html.contains("<details>"));
    // Self-contained: no scripts, no external resources (links to the
    // articles' own pages are the only URLs a report holds; the sample has
    // none).
    assert!(!html.contains("<script") && !html.contains(" src=") && !html.contains("<link"));
    assert!(!html.contains("http://") && !html.contains("https://"));
    // Unlabelled input: no evaluation section.
    ok(bin()
        .args(["report", &data("syria-2016.jsonl"), "-q", "-o"])
        .arg(&out));
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(!html.contains("Evaluation against"));
    assert!(html.contains("3 articles in 2 duplicate groups"));
}

/// With the thread level on, the report opens with the threads: a
/// timeline of each one's stories, who published first, and links to the
/// articles.
#[test]
fn report_leads_with_threads_and_their_timelines() {
    let records: Vec<serde_json::Value> = [
        ("a1", "eBay rejects Icahn slate of directors", "ebay-rejects-icahn-slate", "2014-03-10T10:00:00Z", "Reuters"),
        ("a2", "Icahn slate rejected by eBay board", "icahn-slate-rejected-ebay-board", "2014-03-10T11:00:00Z", "AP"),
        ("a3", "Why eBay spinning off PayPal makes sense", "ebay-spinning-off-paypal", "2014-03-11T09:00:00Z", "Forbes"),
        ("a4", "Icahn pushes eBay to spin off PayPal", "icahn-ebay-paypal-spin-off", "2014-03-11T12:00:00Z", "CNBC"),
        ("a5", "eBay and Icahn trade barbs over PayPal", "ebay-icahn-barbs-paypal", "2014-03-12T08:00:00Z", "WSJ"),
    ]
    .iter()
    .map(|(id, title, slug, date, source)| {
        serde_json::json!({"id": id, "title": title, "url": format!("https://news.example/{slug}"), "date": date, "source": source})
    })
    .collect();
    let input = jsonl_input("report-threads", &records);
    let out = input.with_extension("html");
    ok(bin()
        .args(["--thread-level", "report", "-q", "-o"])
        .arg(&out)
        .arg(&input));
    let html = std::fs::read_to_string(&out).unwrap();
    let threads_at = html
        .find("Threads, largest first")
        .expect("a threads section");
    assert!(threads_at < html.find("Stories, largest first").unwrap());
    assert!(
        html.contains("<svg") && html.contains("<circle"),
        "no timeline"
    );
    assert!(html.contains("first published: Reuters (a1)"), "{html}");
    assert!(html.contains("<a href=\"https://news.example/ebay-rejects-icahn-slate\">"));
    assert!(html.contains("★ "));
}

#[test]
fn config_from_toml_and_flags_with_clear_errors() {
    let dir = std::env::temp_dir().join(format!("wirecluster-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let toml = dir.join("c.toml");
    // syr-000 and syr-001 share 14% of shingles and 53% of syr-001 is in
    // syr-000: a containment threshold of 0.6 keeps them apart.
    std::fs::write(
        &toml,
        "containment_threshold = 0.6\n[story]\nenabled = false\n",
    )
    .unwrap();
    let out = ok(bin()
        .args(["cluster", &data("syria-2016.jsonl"), "-q", "--config"])
        .arg(&toml));
    let first: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(first[1]["duplicate_group"], "syr-001");
    assert_eq!(first[2]["story"], "syr-002");
    // A flag overrides the file.
    let out = ok(bin()
        .args([
            "cluster",
            &data("syria-2016.jsonl"),
            "-q",
            "--containment-threshold",
            "0.4",
            "--config",
        ])
        .arg(&toml));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .nth(1)
            .unwrap()
            .contains("\"duplicate_group\":\"syr-000\"")
    );
    // Out-of-range values and broken files are errors that say where.
    let out = bin()
        .args([
            "--story-threshold",
            "1.5",
            "cluster",
            &data("syria-2016.jsonl"),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("story.threshold = 1.5: must be in (0, 1]")
    );
    std::fs::write(&toml, "jaccard_threshold = \"x\"\n").unwrap();
    let out = bin()
        .args(["cluster", &data("syria-2016.jsonl"), "--config"])
        .arg(&toml)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("c.toml") && stderr.contains("line 1"),
        "{stderr}"
    );
}

#[test]
fn empty_file_and_a_100_mb_document() {
    let dir = std::env::temp_dir().join(format!("wirecluster-big-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let empty = dir.join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let out = ok(bin().args(["cluster", empty.to_str().unwrap()]));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("read 0 documents"));

    // One 100 MB article plus a short one.
    let big = dir.join("big.jsonl");
    let mut text = String::with_capacity(100 << 20);
    let mut i = 0u64;
    while text.len() < 100 << 20 {
        text.push_str(&format!("word{} ", i % 9973));
        i += 1;
    }
    std::fs::write(
        &big,
        format!("{{\"id\":\"big\",\"text\":\"{text}\"}}\n{{\"id\":\"small\",\"text\":\"a short note\"}}\n"),
    )
    .unwrap();
    let out = ok(bin().args(["cluster", big.to_str().unwrap(), "-q"]));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
    std::fs::remove_file(&big).unwrap();
}

#[test]
fn stream_resumes_from_a_saved_index_with_the_same_output() {
    let input = std::fs::read_to_string(data("news-sample.jsonl")).unwrap();
    let lines: Vec<&str> = input.lines().collect();
    let dir = std::env::temp_dir().join(format!("wirecluster-stream-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (first, second) = (dir.join("first.jsonl"), dir.join("second.jsonl"));
    std::fs::write(&first, lines[..150].join("\n")).unwrap();
    std::fs::write(&second, lines[150..].join("\n")).unwrap();
    let index = dir.join("live.wcf");
    let _ = std::fs::remove_file(&index);

    let whole = ok(bin().args(["-q", "stream", &data("news-sample.jsonl")])).stdout;
    let idx = index.to_str().unwrap();
    let a = ok(bin().args(["-q", "stream", first.to_str().unwrap(), "--index", idx])).stdout;
    let out = ok(bin().args(["stream", second.to_str().unwrap(), "--index", idx]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("resumed from"), "{stderr}");
    assert!(stderr.contains("articles/s"), "{stderr}");
    let mut resumed = a;
    resumed.extend_from_slice(&out.stdout);
    assert_eq!(
        String::from_utf8(resumed).unwrap(),
        String::from_utf8(whole).unwrap()
    );
}

#[test]
fn stream_reports_bad_lines_by_number_or_skips_and_counts_them() {
    let dir = std::env::temp_dir().join(format!("wirecluster-stream-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("feed.jsonl");
    std::fs::write(
        &input,
        "{\"id\": \"a\", \"text\": \"First article text.\"}\n\n{\"id\": \"b\"}\n{\"id\": \"a\", \"text\": \"again\"}\nnot json\n{\"id\": \"c\", \"text\": \"Third.\"}\n",
    )
    .unwrap();
    let out = bin()
        .args(["stream", input.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("feed.jsonl: line 3: missing `text`"),
        "{stderr}"
    );

    let out = ok(bin().args(["stream", "--skip-invalid", input.to_str().unwrap()]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 4: skipped: id \"a\" is already in the live index"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 5: skipped: malformed JSON"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "placed 2 articles (3 lines skipped: already_indexed=1, malformed_json=1, missing_text=1)"
        ),
        "{stderr}"
    );
    let ids: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].to_string())
        .collect();
    assert_eq!(ids, ["\"a\"", "\"c\""]);
}

#[test]
fn stream_reads_gzip_and_names_a_truncated_one() {
    let dir = std::env::temp_dir().join(format!("wirecluster-stream-gz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let gz = dir.join("feed.jsonl.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut enc, &std::fs::read(data("syria-2016.jsonl")).unwrap()).unwrap();
    let bytes = enc.finish().unwrap();
    std::fs::write(&gz, &bytes).unwrap();
    let out = ok(bin().args(["-q", "stream", gz.to_str().unwrap()]));
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 5);
    std::fs::write(&gz, &bytes[..bytes.len() / 2]).unwrap();
    let out = bin()
        .args(["stream", gz.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("feed.jsonl.gz: "), "{stderr}");
}

#[test]
fn stream_refuses_a_corrupt_index_naming_it() {
    let dir = std::env::temp_dir().join(format!("wirecluster-stream-idx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let index = dir.join("broken.wcf");
    std::fs::write(&index, b"WCFEED\0\0garbage").unwrap();
    let syria = data("syria-2016.jsonl");
    fails(
        bin().args(["stream", &syria, "--index", index.to_str().unwrap()]),
        "broken.wcf",
    );
}

#[test]
fn stream_killed_after_a_checkpoint_resumes_with_the_same_output() {
    use std::io::{BufRead, Write};
    use std::process::Stdio;
    let input = std::fs::read_to_string(data("syria-2016.jsonl")).unwrap();
    let lines: Vec<&str> = input.lines().collect();
    let dir = std::env::temp_dir().join(format!("wirecluster-stream-kill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let index = dir.join("live.wcf");
    let _ = std::fs::remove_file(&index);
    let idx = index.to_str().unwrap();
    let whole =
        String::from_utf8(ok(bin().args(["-q", "stream", &data("syria-2016.jsonl")])).stdout)
            .unwrap();

    // Three articles through standard input, a checkpoint after each; then
    // the process is killed (SIGKILL: no chance to save at exit).
    let mut child = bin()
        .args(["-q", "stream", "--index", idx, "--checkpoint", "1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    for l in &lines[..3] {
        writeln!(stdin, "{l}").unwrap();
        stdin.flush().unwrap();
        stdout.read_line(&mut first).unwrap();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while wirecluster::FeedIndex::load(&index).map_or(true, |ix| ix.stats().inserted < 3) {
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpoint written"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    // A new process resumes from the checkpoint with the rest.
    let rest = dir.join("rest.jsonl");
    std::fs::write(&rest, lines[3..].join("\n")).unwrap();
    let second = ok(bin().args(["-q", "stream", rest.to_str().unwrap(), "--index", idx])).stdout;
    assert_eq!(first + &String::from_utf8(second).unwrap(), whole);
}

#[test]
fn directory_without_permission_is_an_error_naming_it() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("wirecluster-perm-{}", std::process::id()));
    let locked = dir.join("locked");
    std::fs::create_dir_all(&locked).unwrap();
    std::fs::write(locked.join("a.txt"), "Title\nSome body text.").unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    // Root ignores permission bits: run the binary as `nobody` then.
    let uid = Command::new("id").arg("-u").output().unwrap().stdout;
    let is_root = String::from_utf8_lossy(&uid).trim() == "0";
    let mut cmd = if is_root {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_wirecluster"));
        c
    } else {
        bin()
    };
    let out = cmd
        .args(["cluster", locked.to_str().unwrap()])
        .output()
        .expect("as root, setpriv (util-linux) runs the check as nobody");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{}: Permission denied", locked.display())),
        "{stderr}"
    );
}

/// A fresh, empty folder for one test.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("wirecluster-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A JSONL input made of `records`, written in a scratch folder.
fn jsonl_input(name: &str, records: &[serde_json::Value]) -> std::path::PathBuf {
    let path = scratch(name).join("in.jsonl");
    let lines: Vec<String> = records.iter().map(|r| r.to_string()).collect();
    std::fs::write(&path, lines.join("\n")).unwrap();
    path
}

/// A sentence long enough to make a duplicate group of its copies.
const DISPATCH: &str = "Rebels shelled the northern city overnight as government forces pressed their advance on the last districts.";

fn is_link(path: &std::path::Path) -> bool {
    std::fs::symlink_metadata(path)
        .unwrap()
        .file_type()
        .is_symlink()
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn an_output_that_is_the_input_is_refused_and_the_input_kept() {
    let dir = scratch("same-io");
    let input = dir.join("in.jsonl");
    std::fs::copy(data("syria-2016.jsonl"), &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    for args in [
        vec![
            "cluster",
            input.to_str().unwrap(),
            "-o",
            input.to_str().unwrap(),
        ],
        vec![
            "stream",
            input.to_str().unwrap(),
            "-o",
            input.to_str().unwrap(),
        ],
        vec![
            "report",
            input.to_str().unwrap(),
            "-o",
            input.to_str().unwrap(),
        ],
    ] {
        let out = bin().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr_of(&out).contains("the output is the input"),
            "{}",
            stderr_of(&out)
        );
        assert_eq!(
            std::fs::read(&input).unwrap(),
            before,
            "{args:?} changed the input"
        );
    }
}

#[test]
fn outputs_create_their_folder_and_a_failed_write_keeps_the_old_file() {
    let dir = scratch("atomic");
    let nested = dir.join("a/b/report.html");
    ok(bin().args([
        "report",
        &data("syria-2016.jsonl"),
        "-o",
        nested.to_str().unwrap(),
        "-q",
    ]));
    assert!(std::fs::read_to_string(&nested).unwrap().contains("<html"));
    // A file-size limit of 1 KiB stops the write of the sample's output
    // midway: the previous output must stay whole.
    let out_path = dir.join("out.jsonl");
    std::fs::write(&out_path, "previous output\n").unwrap();
    let status = Command::new("bash")
        .args([
            "-c",
            &format!(
                "ulimit -f 1; exec {} cluster {} -o {} -q",
                env!("CARGO_BIN_EXE_wirecluster"),
                data("news-sample.jsonl"),
                out_path.display()
            ),
        ])
        .status()
        .unwrap();
    assert!(!status.success());
    assert_eq!(
        std::fs::read_to_string(&out_path).unwrap(),
        "previous output\n"
    );
}

#[test]
fn standard_input_as_dash_and_a_closed_pipe_end_quietly() {
    let mut child = bin()
        .args(["cluster", "-", "-q"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        &std::fs::read(data("syria-2016.jsonl")).unwrap(),
    )
    .unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 5);
    // `| head -n 1` closes the pipe after one line.
    let out = Command::new("bash")
        .args([
            "-c",
            &format!(
                "{} cluster {} --format csv -q | head -n 1 > /dev/null; exit ${{PIPESTATUS[0]}}",
                env!("CARGO_BIN_EXE_wirecluster"),
                data("news-sample.jsonl")
            ),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(stderr_of(&out), "");
}

#[test]
fn csv_cells_that_spreadsheets_would_run_are_neutralised() {
    use serde_json::json;
    let input = jsonl_input(
        "csv-formula",
        &[
            json!({"id": "=HYPERLINK(\"http://x\")", "text": DISPATCH}),
            json!({"id": "@SUM(A1)", "text": DISPATCH}),
            json!({"id": "-2+3", "text": "Other words entirely about a storm that closed the airport."}),
        ],
    );
    let out = ok(bin().args(["cluster", input.to_str().unwrap(), "--format", "csv", "-q"]));
    let csv = String::from_utf8(out.stdout).unwrap();
    for line in csv.lines().skip(1) {
        let first = line.trim_start_matches('"');
        assert!(!first.starts_with(['=', '+', '-', '@']), "{line}");
    }
    assert!(csv.contains("'@SUM(A1)"), "{csv}");
    assert!(csv.contains("'-2+3"), "{csv}");
}

#[test]
fn terminal_output_escapes_control_characters() {
    use serde_json::json;
    let evil = "evil \u{1b}[2J title";
    let input = jsonl_input(
        "control",
        &[
            json!({"id": "a", "title": evil, "text": DISPATCH}),
            json!({"id": "b", "title": evil, "text": DISPATCH}),
        ],
    );
    let out = ok(bin().args(["cluster", input.to_str().unwrap(), "--summary", "-q"]));
    let shown = String::from_utf8(out.stdout).unwrap();
    assert!(!shown.contains('\u{1b}'), "{shown:?}");
    assert!(shown.contains("\\u{1b}[2J"), "{shown}");
}

#[test]
fn config_typos_and_out_of_range_values_are_refused_by_name() {
    let dir = scratch("cfg-bounds");
    for (body, want) in [
        (r#"{"num_prem": 64}"#, "num_prem"),
        (r#"{"story": {"treshold": 0.2}}"#, "treshold"),
        (r#"{"num_perm": 1000000000}"#, "num_perm"),
        (
            r#"{"lsh_bands_rows": [9223372036854775808, 2]}"#,
            "lsh_bands_rows",
        ),
    ] {
        let cfg = dir.join("c.json");
        std::fs::write(&cfg, body).unwrap();
        let out = bin()
            .args([
                "cluster",
                &data("syria-2016.jsonl"),
                "--config",
                cfg.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{body}");
        assert!(
            stderr_of(&out).contains(want),
            "{body}: {}",
            stderr_of(&out)
        );
    }
    let out = bin()
        .args(["--threads", "100000", "cluster", &data("syria-2016.jsonl")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out).contains("--threads 100000"),
        "{}",
        stderr_of(&out)
    );
}

/// A `stream` on standard input with a live index, with one article placed
/// (its assignment read back) and the input left open.
fn streaming_child(index: &std::path::Path) -> (std::process::Child, std::process::ChildStdin) {
    use std::io::{BufRead, Write};
    use std::process::Stdio;
    let input = std::fs::read_to_string(data("syria-2016.jsonl")).unwrap();
    let mut child = bin()
        .args(["-q", "stream", "--index", index.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{}", input.lines().next().unwrap()).unwrap();
    stdin.flush().unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("syr-000"), "{first}");
    (child, stdin)
}

#[test]
fn sigterm_while_waiting_for_input_saves_the_index_and_exits_0() {
    let dir = scratch("sigterm");
    let index = dir.join("live.wcf");
    let (child, stdin) = streaming_child(&index);
    // No checkpoint was asked for: only the end of the run saves.
    assert!(!index.exists());
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    assert!(out.status.success(), "{:?} {}", out.status, stderr_of(&out));
    let ix = wirecluster::FeedIndex::load(&index).unwrap();
    assert!(ix.get("syr-000").is_some());
}

#[test]
fn a_second_writer_on_one_index_is_refused_while_the_first_runs() {
    let dir = scratch("two-writers");
    let index = dir.join("live.wcf");
    let (child, stdin) = streaming_child(&index);
    let syria = data("syria-2016.jsonl");
    let idx = index.to_str().unwrap();
    fails(
        bin().args(["-q", "stream", &syria, "--index", idx]),
        "in use by another process",
    );
    drop(stdin);
    let first = child.wait_with_output().unwrap();
    assert!(first.status.success(), "{}", stderr_of(&first));
    // Once the first has ended, the index is free again.
    let rest = dir.join("rest.jsonl");
    let text = std::fs::read_to_string(data("syria-2016.jsonl")).unwrap();
    std::fs::write(&rest, text.lines().skip(1).collect::<Vec<_>>().join("\n")).unwrap();
    ok(bin().args([
        "-q",
        "stream",
        rest.to_str().unwrap(),
        "--index",
        index.to_str().unwrap(),
    ]));
    assert_eq!(wirecluster::FeedIndex::load(&index).unwrap().len(), 5);
}

#[test]
fn a_symlinked_index_stays_a_link_to_the_saved_file() {
    let dir = scratch("symlink");
    let real = dir.join("real.wcf");
    let link = dir.join("link.wcf");
    ok(bin().args([
        "-q",
        "stream",
        &data("syria-2016.jsonl"),
        "--index",
        real.to_str().unwrap(),
    ]));
    std::os::unix::fs::symlink("real.wcf", &link).unwrap();
    let more = dir.join("more.jsonl");
    std::fs::write(
        &more,
        "{\"id\":\"extra\",\"text\":\"A storm closed schools and roads across the northern region on Monday, officials said.\"}\n",
    )
    .unwrap();
    ok(bin().args([
        "-q",
        "stream",
        more.to_str().unwrap(),
        "--index",
        link.to_str().unwrap(),
    ]));
    assert!(is_link(&link));
    assert!(
        wirecluster::FeedIndex::load(&real)
            .unwrap()
            .get("extra")
            .is_some()
    );
    // No temporary file is left behind.
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_save_cut_short_keeps_the_previous_index() {
    let dir = scratch("save-cut");
    let index = dir.join("live.wcf");
    let text = std::fs::read_to_string(data("news-sample.jsonl")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let first = dir.join("first.jsonl");
    std::fs::write(&first, lines[..2].join("\n")).unwrap();
    ok(bin().args([
        "-q",
        "stream",
        first.to_str().unwrap(),
        "--index",
        index.to_str().unwrap(),
    ]));
    // The rest, with files limited to 64 KiB: the index no longer fits,
    // and its save is cut short (the process is killed by SIGXFSZ).
    let rest = dir.join("rest.jsonl");
    std::fs::write(&rest, lines[2..].join("\n")).unwrap();
    let status = Command::new("bash")
        .args([
            "-c",
            &format!(
                "ulimit -f 64; exec {} -q stream {} --index {} > /dev/null",
                env!("CARGO_BIN_EXE_wirecluster"),
                rest.display(),
                index.display()
            ),
        ])
        .status()
        .unwrap();
    assert!(!status.success());
    assert_eq!(wirecluster::FeedIndex::load(&index).unwrap().len(), 2);
}

#[test]
fn help_keeps_examples_on_their_own_lines_and_groups_settings() {
    for (sub, example) in [
        (
            "cluster",
            "\n  wirecluster cluster articles.jsonl -o assignments.jsonl\n",
        ),
        (
            "stream",
            "\n  tail -f feed.jsonl | wirecluster stream --index live.wcf\n",
        ),
    ] {
        let help = String::from_utf8(ok(bin().args([sub, "--help"])).stdout).unwrap();
        assert!(help.contains(example), "{sub}: {help}");
        assert!(help.contains("Live index settings"), "{sub}: {help}");
    }
}

/// `-o /dev/null`, a pipe or a link: an output that is not a regular file
/// is written into, never replaced by a renamed file.
#[test]
fn outputs_that_are_not_regular_files_stay_what_they_are() {
    use std::os::unix::fs::FileTypeExt;
    let dir = scratch("special-out");
    let fifo = dir.join("pipe");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    ok(bin().args([
        "cluster",
        &data("syria-2016.jsonl"),
        "-q",
        "-o",
        fifo.to_str().unwrap(),
    ]));
    assert_eq!(reader.join().unwrap().lines().count(), 5);
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
    // A link to a file: the file is replaced, the link stays.
    let real = dir.join("real.jsonl");
    let link = dir.join("link.jsonl");
    std::fs::write(&real, "old\n").unwrap();
    std::os::unix::fs::symlink("real.jsonl", &link).unwrap();
    ok(bin().args([
        "cluster",
        &data("syria-2016.jsonl"),
        "-q",
        "-o",
        link.to_str().unwrap(),
    ]));
    assert!(is_link(&link));
    assert_eq!(std::fs::read_to_string(&real).unwrap().lines().count(), 5);
    // And /dev/null is still the device.
    ok(bin().args([
        "cluster",
        &data("syria-2016.jsonl"),
        "-q",
        "-o",
        "/dev/null",
    ]));
    assert!(
        std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );
}

/// Runs the binary with `stdin` as its standard input.
fn with_stdin(args: &[&str], stdin: &[u8]) -> std::process::Output {
    let mut child = bin()
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), stdin).unwrap();
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

#[test]
fn gzip_on_standard_input_is_read_by_both_commands() {
    let plain = std::fs::read(data("syria-2016.jsonl")).unwrap();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut enc, &plain).unwrap();
    let gz = enc.finish().unwrap();
    for args in [["-q", "cluster", "-"], ["-q", "stream", "-"]] {
        let from_gz = with_stdin(&args, &gz);
        assert!(from_gz.status.success(), "{}", stderr_of(&from_gz));
        let from_plain = with_stdin(&args, &plain);
        assert_eq!(from_gz.stdout, from_plain.stdout, "{args:?}");
        assert_eq!(
            String::from_utf8(from_gz.stdout).unwrap().lines().count(),
            5
        );
    }
    let cut = with_stdin(&["stream", "-"], &gz[..gz.len() / 2]);
    assert_eq!(cut.status.code(), Some(1));
    assert!(
        stderr_of(&cut).contains("<stdin>: gzip"),
        "{}",
        stderr_of(&cut)
    );
}

#[test]
fn canonical_policy_by_name_including_source_priority() {
    use serde_json::json;
    let text = "The central bank raised its key interest rate by half a point on Tuesday, \
        citing inflation that has run above its target for a year. Economists had expected \
        a smaller move after weak retail figures.";
    let input = jsonl_input(
        "policy",
        &[
            json!({"id": "a", "text": text, "source": "Daily Bugle"}),
            json!({"id": "b", "text": text, "source": "Reuters"}),
        ],
    );
    let group_of_a = |policy: &str| {
        let out = ok(bin().args([
            "-q",
            "cluster",
            input.to_str().unwrap(),
            "--canonical",
            policy,
        ]));
        let first: serde_json::Value = serde_json::from_str(
            String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .next()
                .unwrap(),
        )
        .unwrap();
        first["duplicate_group"].as_str().unwrap().to_string()
    };
    assert_eq!(group_of_a("source-priority:reuters"), "b");
    assert_eq!(group_of_a("source-priority:bugle,reuters"), "a");
    assert_eq!(group_of_a("earliest"), "a", "undated: smallest id");
    let out = bin()
        .args(["cluster", input.to_str().unwrap(), "--canonical", "newest"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a wrong value is wrong usage");
    assert!(
        stderr_of(&out).contains("most-complete, earliest, longest"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn an_idf_file_that_is_no_model_is_named_as_such() {
    let dir = scratch("idf-bad");
    let idf = dir.join("idf.json");
    std::fs::write(&idf, "{\"documents\": \"many\"}").unwrap();
    fails(
        bin().args([
            "cluster",
            &data("syria-2016.jsonl"),
            "--idf",
            idf.to_str().unwrap(),
        ]),
        "idf.json: not an IDF model",
    );
    match wirecluster::IdfModel::load(&idf) {
        Err(wirecluster::Error::IdfFile { path, .. }) => assert_eq!(path, idf),
        other => panic!("wanted an IdfFile error, got {other:?}"),
    }
}

#[test]
fn eval_scores_each_level_against_its_own_field() {
    let out = ok(bin().args([
        "eval",
        &data("news-sample.jsonl"),
        "--story-field",
        "event",
        "--json",
    ]));
    let by_event: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let out = ok(bin().args(["eval", &data("news-sample.jsonl"), "--json"]));
    let by_cluster: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Groups are scored against `cluster` either way; stories against the
    // events they are about score far higher than against groups.
    assert_eq!(by_event["duplicate_groups"], by_cluster["duplicate_groups"]);
    let f1 = |v: &serde_json::Value| v["stories"]["bcubed"]["f1"].as_f64().unwrap();
    assert!(f1(&by_event) > 0.9, "{}", f1(&by_event));
    assert!(f1(&by_event) > f1(&by_cluster) + 0.1);
    assert!(
        by_event["stories"]["gold_clusters"].as_u64()
            < by_event["duplicate_groups"]["gold_clusters"].as_u64()
    );
    fails(
        bin().args(["eval", &data("news-sample.jsonl"), "--story-field", "topic"]),
        "has no `topic` label",
    );
}
