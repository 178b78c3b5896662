//! The built-in boilerplate line rules ([`BoilerplateRule`]).

use super::*;

pub(super) fn starts_ci(s: &str, prefix: &str) -> bool {
    let (s, p) = (s.as_bytes(), prefix.as_bytes());
    // The first byte alone rules out nearly every line, without the
    // slice comparison's set-up.
    s.len() >= p.len()
        && p.first().is_none_or(|c| c.eq_ignore_ascii_case(&s[0]))
        && s[..p.len()].eq_ignore_ascii_case(p)
}

pub(super) fn contains_ci(s: &str, needle: &str) -> bool {
    let n = needle.as_bytes();
    let Some(first) = n.first() else {
        return true;
    };
    s.len() >= n.len()
        && s.as_bytes()
            .windows(n.len())
            .any(|w| w[0].eq_ignore_ascii_case(first) && w.eq_ignore_ascii_case(n))
}

/// The built-in rule matching a line, if any. `words` is the line's number of
/// normalized tokens.
pub(crate) fn rule_for_line(line: &str, words: usize) -> Option<BoilerplateRule> {
    use BoilerplateRule::*;
    let s = line.trim_matches(|c: char| c.is_whitespace() || c == '\u{a0}');
    if words == 0 {
        return None;
    }
    if words < 3 {
        return Some(ShortLine);
    }
    if (s.starts_with("http://") || s.starts_with("https://") || s.starts_with("www."))
        && !s.contains(' ')
    {
        return Some(Url);
    }
    if words > 30 {
        // Longer lines are article text.
        return None;
    }
    if starts_ci(s, "read more") || starts_ci(s, "read also") || starts_ci(s, "related:") {
        return Some(ReadMore);
    }
    if starts_ci(s, "the post ") && contains_ci(s, "appeared first on") {
        return Some(AppearedFirstOn);
    }
    if starts_ci(s, "copyright")
        || s.starts_with('\u{a9}')
        || (words <= 12 && contains_ci(s, "all rights reserved"))
    {
        return Some(Copyright);
    }
    const PROMPTS: [&str; 11] = [
        "subscribe",
        "share this",
        "share on",
        "follow us",
        "sign up",
        "click here",
        "listen to this",
        "advertisement",
        "comments ",
        "this article has been automatically",
        "download our app",
    ];
    if PROMPTS.iter().any(|p| starts_ci(s, p)) {
        return Some(Prompt);
    }
    const CREDITS: [&str; 5] = [
        "(reporting by",
        "reporting by",
        "(editing by",
        "editing by",
        "compiled by",
    ];
    if CREDITS.iter().any(|p| starts_ci(s, p))
        || (words <= 6 && (starts_ci(s, "by ") || starts_ci(s, "by:") || starts_ci(s, "source:")))
    {
        return Some(Credit);
    }
    if starts_ci(s, "published ") && contains_ci(s, "updated") {
        return Some(Dateline);
    }
    if is_caption(s, words) {
        return Some(Caption);
    }
    None
}

/// "PHOTO: …", "FILE PHOTO: …", "Image: …", "AFP photo".
pub(super) fn is_caption(s: &str, words: usize) -> bool {
    if starts_ci(s, "photo:") || starts_ci(s, "image:") || starts_ci(s, "picture:") {
        return true;
    }
    if words <= 3 && (s.to_ascii_lowercase().ends_with(" photo")) {
        return true;
    }
    // An upper-case label of one or two words followed by a colon.
    if let Some((label, _)) = s.split_once(':') {
        let label = label.trim();
        let n = label.split_whitespace().count();
        return (1..=2).contains(&n)
            && label.len() >= 4
            && label.chars().all(|c| c.is_ascii_uppercase() || c == ' ');
    }
    false
}
