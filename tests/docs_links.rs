//! Every relative link and `#anchor` in README.md and docs/*.md resolves: the
//! file (or directory) exists, and the anchor names a heading of the target
//! file under GitHub's slug rules. Plain std, no daemon: the docs are text.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// The Markdown files checked: README.md and every docs/*.md of `root`.
fn doc_files(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![root.join("README.md")];
    if let Ok(entries) = std::fs::read_dir(root.join("docs")) {
        let mut docs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "md"))
            .collect();
        docs.sort();
        files.extend(docs);
    }
    files
}

/// GitHub's anchor for a heading's rendered text: lowercased, every character
/// that is not a letter, a digit, `-`, `_` or a space dropped, spaces turned
/// into `-` (runs of them are not collapsed, as on GitHub).
fn slug(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.trim().chars().flat_map(char::to_lowercase) {
        if c == ' ' {
            out.push('-');
        } else if c.is_alphanumeric() || c == '-' || c == '_' {
            out.push(c);
        }
    }
    out
}

/// The text a heading renders to: code spans keep their content literally,
/// elsewhere links become their text and HTML tags go.
fn heading_text(raw: &str) -> String {
    let mut out = String::new();
    let mut rest = raw;
    while !rest.is_empty() {
        if rest.starts_with('`') {
            let ticks = rest.len() - rest.trim_start_matches('`').len();
            let fence = &rest[..ticks];
            if let Some(end) = rest[ticks..].find(fence) {
                out.push_str(rest[ticks..ticks + end].trim());
                rest = &rest[ticks + end + ticks..];
                continue;
            }
            out.push_str(fence);
            rest = &rest[ticks..];
            continue;
        }
        let next = rest.find('`').unwrap_or(rest.len());
        out.push_str(&strip_markup(&rest[..next]));
        rest = &rest[next..];
    }
    out
}

/// Links (`[text](url)` -> `text`, images too) and HTML tags out of plain text.
fn strip_markup(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '!' if s[i + 1..].starts_with('[') => {}
            '[' | ']' => {
                if c == ']' && s[i + 1..].starts_with('(') {
                    // Skip the destination.
                    for (_, d) in chars.by_ref() {
                        if d == ')' {
                            break;
                        }
                    }
                }
            }
            // An HTML tag (`<br>`, `<a id="x">`, `</a>`), not a lone `<`.
            '<' if s[i + 1..].find('>').is_some_and(|end| {
                s[i + 1..i + 1 + end].starts_with(|c: char| c == '/' || c.is_ascii_alphabetic())
            }) =>
            {
                for (_, d) in chars.by_ref() {
                    if d == '>' {
                        break;
                    }
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// A fence line (```` ``` ```` or `~~~`, up to 3 spaces in): its character and length.
fn fence(line: &str) -> Option<(char, usize)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let t = &line[indent..];
    let c = t.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let n = t.len() - t.trim_start_matches(c).len();
    (n >= 3).then_some((c, n))
}

/// One Markdown file, read for links: its anchors, and its links with their line numbers.
struct Doc {
    anchors: Vec<String>,
    links: Vec<(usize, String)>,
}

fn parse(text: &str) -> Doc {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut anchors = Vec::new();
    let mut add_heading = |raw: &str| {
        let base = slug(&heading_text(raw));
        // github-slugger: a repeated slug gets -1, -2, ... (skipping taken ones).
        let mut s = base.clone();
        if let Some(n) = seen.get(&base).copied() {
            let mut n = n;
            loop {
                n += 1;
                s = format!("{base}-{n}");
                if !seen.contains_key(&s) {
                    break;
                }
            }
            seen.insert(base, n);
        }
        seen.insert(s.clone(), 0);
        anchors.push(s);
    };
    let mut links = Vec::new();
    let mut open: Option<(char, usize)> = None;
    let mut previous: Option<&str> = None;
    for (n, line) in text.lines().enumerate() {
        if let Some((c, len)) = open {
            if fence(line).is_some_and(|(c2, len2)| c2 == c && len2 >= len)
                && line.trim().trim_start_matches(c).is_empty()
            {
                open = None;
            }
            previous = None;
            continue;
        }
        if let Some(f) = fence(line) {
            open = Some(f);
            previous = None;
            continue;
        }
        let t = line.trim_start_matches(' ');
        let indent = line.len() - t.len();
        if indent <= 3 && t.starts_with('#') {
            let level = t.len() - t.trim_start_matches('#').len();
            let rest = &t[level..];
            if level <= 6 && (rest.is_empty() || rest.starts_with(' ')) {
                // A closing run of #s (after a space) is not part of the text.
                let mut raw = rest.trim();
                let stripped = raw.trim_end_matches('#');
                if stripped.is_empty() || stripped.ends_with(' ') {
                    raw = stripped.trim_end();
                }
                add_heading(raw);
                previous = None;
                continue;
            }
        }
        // Setext headings: a paragraph line underlined with === or ---.
        let under = line.trim();
        if let Some(p) = previous
            && !under.is_empty()
            && (under.chars().all(|c| c == '=') || under.chars().all(|c| c == '-'))
        {
            add_heading(p.trim());
            previous = None;
            continue;
        }
        previous = (!line.trim().is_empty()
            && !line.contains('|')
            && !t.starts_with(['-', '*', '>', '+']))
        .then_some(line);
        for target in line_links(line) {
            links.push((n + 1, target));
        }
    }
    Doc { anchors, links }
}

/// A line with its code spans blanked out (their text is not Markdown).
fn without_code(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let ticks = after.len() - after.trim_start_matches('`').len();
        let fence = &after[..ticks];
        match after[ticks..].find(fence) {
            Some(end) => {
                out.push('x');
                rest = &after[ticks + end + ticks..];
            }
            None => {
                out.push_str(fence);
                rest = &after[ticks..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Link destinations on one line: inline links and images `](dest)`, and
/// reference definitions `[label]: dest`.
fn line_links(line: &str) -> Vec<String> {
    let text = without_code(line);
    let mut out = Vec::new();
    let t = text.trim_start();
    if t.starts_with('[')
        && let Some(close) = t.find(']')
        && t[close + 1..].starts_with(':')
    {
        if let Some(dest) = t[close + 2..].split_whitespace().next() {
            out.push(dest.trim_matches(['<', '>']).to_string());
        }
        return out;
    }
    let mut rest = text.as_str();
    while let Some(i) = rest.find("](") {
        let after = &rest[i + 2..];
        let end = after.find(')').unwrap_or(after.len());
        let dest = after[..end].split_whitespace().next().unwrap_or("");
        out.push(dest.trim_matches(['<', '>']).to_string());
        rest = &after[end..];
    }
    out
}

/// `%20` and the like, as a browser would read them.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn is_external(dest: &str) -> bool {
    let scheme = dest.split(':').next().unwrap_or("");
    dest.contains(':')
        && !scheme.is_empty()
        && !scheme.contains(['/', '#', '.'])
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-".contains(c))
}

/// What is broken among the links of `files` (paths under `root`), one line each.
/// Also returns how many relative links were checked.
fn check(root: &Path, files: &[PathBuf]) -> (Vec<String>, usize) {
    let mut docs: BTreeMap<PathBuf, Doc> = BTreeMap::new();
    let mut errors = Vec::new();
    for f in files {
        match std::fs::read_to_string(f) {
            Ok(text) => {
                docs.insert(f.clone(), parse(&text));
            }
            Err(e) => errors.push(format!("{}: cannot read: {e}", f.display())),
        }
    }
    // Anchors of Markdown files linked to but not in `files` (read on demand).
    let mut others: HashMap<PathBuf, Option<Vec<String>>> = HashMap::new();
    let mut checked = 0;
    for (file, doc) in &docs {
        let shown = file.strip_prefix(root).unwrap_or(file).display();
        let dir = file.parent().unwrap_or(root);
        for (line, dest) in &doc.links {
            if dest.is_empty() {
                errors.push(format!("{shown}:{line}: empty link"));
                continue;
            }
            if is_external(dest) {
                continue;
            }
            checked += 1;
            let (path, anchor) = match dest.split_once('#') {
                Some((p, a)) => (p, Some(percent_decode(a))),
                None => (dest.as_str(), None),
            };
            let path = percent_decode(path.split('?').next().unwrap_or(""));
            let target = if path.is_empty() {
                file.clone()
            } else if let Some(abs) = path.strip_prefix('/') {
                root.join(abs)
            } else {
                dir.join(&path)
            };
            let target = normalize(&target);
            if !target.exists() {
                errors.push(format!("{shown}:{line}: {dest}: no such file {path:?}"));
                continue;
            }
            let Some(anchor) = anchor else { continue };
            if target.extension().is_none_or(|x| x != "md") {
                errors.push(format!(
                    "{shown}:{line}: {dest}: an anchor into a file that is not Markdown"
                ));
                continue;
            }
            let anchors = match docs.get(&target) {
                Some(d) => Some(d.anchors.clone()),
                None => others
                    .entry(target.clone())
                    .or_insert_with(|| {
                        std::fs::read_to_string(&target)
                            .ok()
                            .map(|t| parse(&t).anchors)
                    })
                    .clone(),
            };
            match anchors {
                Some(a) if a.contains(&anchor) => {}
                Some(_) => errors.push(format!(
                    "{shown}:{line}: {dest}: no heading with anchor #{anchor} in {}",
                    target.strip_prefix(root).unwrap_or(&target).display()
                )),
                None => errors.push(format!("{shown}:{line}: {dest}: cannot read the target")),
            }
        }
    }
    (errors, checked)
}

/// `a/./b/../c` -> `a/c`, without touching the filesystem.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

#[test]
fn readme_and_docs_links_resolve() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = doc_files(root);
    assert!(
        files.len() > 1,
        "expected README.md and docs/*.md, found {files:?}"
    );
    let (errors, checked) = check(root, &files);
    assert!(
        errors.is_empty(),
        "{} broken link(s):\n{}",
        errors.len(),
        errors.join("\n")
    );
    // The README is a front door: it must lead into docs/.
    let readme = parse(&std::fs::read_to_string(root.join("README.md")).expect("README.md"));
    assert!(
        readme.links.iter().any(|(_, d)| d.starts_with("docs/")),
        "README.md links to nothing under docs/"
    );
    assert!(checked >= 20, "only {checked} relative links were checked");
}

#[test]
fn slugs_follow_github_rules() {
    let cases = [
        ("Exit codes", "exit-codes"),
        (
            "Queue control: dependencies, priorities, labels, pause, live settings",
            "queue-control-dependencies-priorities-labels-pause-live-settings",
        ),
        (
            "`queue logs [--follow] [--tail N] [--stdout|--stderr]`",
            "queue-logs---follow---tail-n---stdout--stderr",
        ),
        ("`queue show ID...`", "queue-show-id"),
        (
            "`daemon --detach`, `daemon`, `serve`",
            "daemon---detach-daemon-serve",
        ),
        (
            "Server-Sent Events `/api/v1/runs/:id/stream`",
            "server-sent-events-apiv1runsidstream",
        ),
        ("On-disk layout", "on-disk-layout"),
        ("snake_case and `<root>/runs`", "snake_case-and-rootruns"),
        ("A [link](other.md#x) here", "a-link-here"),
        ("Ünïcode Straße", "ünïcode-straße"),
        ("Closing hashes ##", "closing-hashes"),
    ];
    for (heading, want) in cases {
        let doc = parse(&format!("## {heading}\n"));
        assert_eq!(doc.anchors, vec![want.to_string()], "heading {heading:?}");
    }
    let doc = parse("# A\n## A\n### A\n## A-1\n\nSetext\n======\n\n```\n# not a heading\n```\n");
    assert_eq!(doc.anchors, ["a", "a-1", "a-2", "a-1-1", "setext"]);
}

/// A temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("agentgate-docs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("docs")).expect("create temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn broken_links_are_reported() {
    let tmp = TempDir::new("broken");
    let root = &tmp.0;
    std::fs::write(
        root.join("README.md"),
        "# Sample\n\n## Exit codes\n\n\
         Good: [codes](#exit-codes), [cli](docs/cli.md#queue-config), [dir](docs/), \
         [web](https://example.com/#nowhere), [twice](docs/cli.md#examples-1).\n\
         Broken: [gone](docs/missing.md), [no anchor](#exit-code),\n\
         [other file](docs/cli.md#queue-pause), [dup](docs/cli.md#examples-2).\n\n\
         ```sh\n[ignored](nowhere.md) in a code block\n```\n\
         Also ignored: `[x](nowhere.md)` in a code span.\n\n\
         [ref]: docs/also-missing.md\n",
    )
    .expect("write README");
    std::fs::write(
        root.join("docs/cli.md"),
        "# CLI\n\n## `queue config [--max-concurrent N]`\n\n## Examples\n\n## Examples\n\n\
         Back: [readme](../README.md#sample), [broken back](../README.md#nope).\n",
    )
    .expect("write docs/cli.md");
    // `queue config [--max-concurrent N]` slugs to queue-config---max-concurrent-n,
    // so the README's #queue-config is broken too.
    let (errors, checked) = check(root, &doc_files(root));
    let want = [
        "README.md:5: docs/cli.md#queue-config",
        "README.md:6: docs/missing.md",
        "README.md:6: #exit-code",
        "README.md:7: docs/cli.md#queue-pause",
        "README.md:7: docs/cli.md#examples-2",
        "README.md:14: docs/also-missing.md",
        "docs/cli.md:9: ../README.md#nope",
    ];
    assert_eq!(errors.len(), want.len(), "errors: {errors:#?}");
    for (e, w) in errors.iter().zip(&want) {
        let (place, dest) = w.split_once(": ").expect("sample");
        assert!(
            e.starts_with(&format!("{place}: {dest}:")),
            "expected {w:?}, got {e:?} (all: {errors:#?})"
        );
    }
    assert_eq!(checked, 11, "relative links checked: {errors:#?}");
}
