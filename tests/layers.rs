//! The layers of `docs/architecture.md`, read from the code's own paths:
//! what each layer may name of the crate, handlers that never name
//! another handler, and no circle between the crate's modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `src/`, with its text stripped of comments.
fn sources() -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        for entry in std::fs::read_dir(dir).expect("src/ is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("a source file");
                let code: Vec<&str> = text
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("//"))
                    .collect();
                out.push((path, code.join("\n")));
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
    assert!(out.len() > 20, "found the sources");
    out
}

/// The path of `file` under `src/` as module segments
/// (`src/store/routing/take.rs` → `["store", "routing", "take"]`).
fn module_of(file: &Path) -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let relative = file.strip_prefix(&src).expect("under src/");
    let mut segments: Vec<String> = relative
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if segments.last().is_some_and(|s| s == "mod") {
        segments.pop();
    }
    segments
}

/// The crate paths `code` names: `crate::a::b` in code, and every leaf of
/// a `use crate::{a::b, c::{d, e}}` tree, as segment lists.
fn crate_paths(code: &str) -> Vec<Vec<String>> {
    paths_after(code, "crate::")
}

/// The paths `code` names after `prefix` (`crate::`, `super::`), as
/// segment lists, every leaf of a use tree included.
fn paths_after(code: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(prefix) {
        // `crate::` inside `$crate::` or another word is not ours.
        let word_before = rest[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$');
        let after = &rest[at + prefix.len()..];
        if word_before {
            rest = after;
            continue;
        }
        let end = after
            .find(|c: char| {
                c == ';' || c == '(' || c == ')' || c == '=' || c == '<' || c == '>' || c == '!'
            })
            .unwrap_or(after.len());
        let tokens = tokenize(&after[..end]);
        let mut position = 0;
        use_tree(&tokens, &mut position, Vec::new(), &mut out);
        rest = after;
    }
    out
}

fn tokenize(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || c == '_' {
            let mut word = c.to_string();
            while let Some(&n) = chars.peek() {
                if n.is_alphanumeric() || n == '_' {
                    word.push(n);
                    chars.next();
                } else {
                    break;
                }
            }
            tokens.push(word);
        } else if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            tokens.push("::".into());
        } else if matches!(c, '{' | '}' | ',') {
            tokens.push(c.to_string());
        } else if !c.is_whitespace() {
            // Anything else ends the path.
            break;
        }
    }
    tokens
}

/// Reads one use tree at `tokens[*at..]` under `prefix`.
fn use_tree(tokens: &[String], at: &mut usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let mut path = prefix;
    loop {
        match tokens.get(*at).map(String::as_str) {
            Some("{") => {
                *at += 1;
                loop {
                    use_tree(tokens, at, path.clone(), out);
                    match tokens.get(*at).map(String::as_str) {
                        Some(",") => *at += 1,
                        Some("}") => {
                            *at += 1;
                            return;
                        }
                        _ => return,
                    }
                    if tokens.get(*at).map(String::as_str) == Some("}") {
                        *at += 1;
                        return;
                    }
                }
            }
            Some(word) if word != "::" && word != "," && word != "}" => {
                path.push(word.to_string());
                *at += 1;
                if tokens.get(*at).map(String::as_str) == Some("::") {
                    *at += 1;
                    continue;
                }
                // `as`-renames end the path.
                if tokens.get(*at).map(String::as_str) == Some("as") {
                    *at += 2;
                }
                out.push(path);
                return;
            }
            _ => {
                if !path.is_empty() {
                    out.push(path);
                }
                return;
            }
        }
    }
}

fn named_layers(code: &str) -> BTreeSet<String> {
    crate_paths(code)
        .into_iter()
        .map(|p| p[0].clone())
        .collect()
}

#[test]
fn the_domain_names_nothing_of_the_crate_but_the_domain() {
    for (file, code) in sources() {
        if module_of(&file)[0] == "domain" {
            let named = named_layers(&code);
            let foreign: Vec<_> = named.iter().filter(|l| *l != "domain").collect();
            assert!(foreign.is_empty(), "{} names {foreign:?}", file.display());
        }
    }
}

#[test]
fn the_store_names_only_the_domain_and_the_error() {
    for (file, code) in sources() {
        if module_of(&file)[0] == "store" {
            let named = named_layers(&code);
            let foreign: Vec<_> = named
                .iter()
                .filter(|l| !["domain", "error", "store"].contains(&l.as_str()))
                .collect();
            assert!(foreign.is_empty(), "{} names {foreign:?}", file.display());
        }
    }
}

#[test]
fn no_handler_names_another_handler() {
    let sources = sources();
    // A handler module is a file under routes/ that declares an operation.
    let handlers: BTreeSet<Vec<String>> = sources
        .iter()
        .filter(|(f, code)| module_of(f)[0] == "routes" && code.contains("#[utoipa::path"))
        .map(|(f, _)| module_of(f))
        .collect();
    assert!(handlers.len() > 5, "found the handlers: {handlers:?}");
    for (file, code) in &sources {
        let module = module_of(file);
        if !handlers.contains(&module) {
            continue;
        }
        let parent = &module[..module.len() - 1];
        let mut named: Vec<Vec<String>> = crate_paths(code);
        for line in code.lines() {
            if let Some(rest) = line.trim().strip_prefix("use super::") {
                for item in rest.trim_start_matches('{').split(',') {
                    let name: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    let mut path = parent.to_vec();
                    path.push(name);
                    named.push(path);
                }
            }
        }
        for path in named {
            for other in &handlers {
                if other != &module && path.starts_with(other) {
                    panic!("{} names the handler {}", file.display(), other.join("::"));
                }
            }
        }
    }
}

#[test]
fn the_crate_modules_form_no_circle() {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, code) in sources() {
        let from = module_of(&file)[0].clone();
        if from == "lib" || from == "main" {
            continue;
        }
        let to = edges.entry(from.clone()).or_default();
        for layer in named_layers(&code) {
            if layer != from {
                to.insert(layer);
            }
        }
    }
    // Depth-first search for a back edge, reporting the circle found.
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if let Some(at) = path.iter().position(|n| n == node) {
            panic!(
                "modules form a circle: {}",
                path[at..].join(" → ") + " → " + node
            );
        }
        if done.contains(node) {
            return;
        }
        path.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            visit(next, edges, path, done);
        }
        path.pop();
        done.insert(node.to_string());
    }
    let mut done = BTreeSet::new();
    for node in edges.keys() {
        visit(node, &edges, &mut Vec::new(), &mut done);
    }
    assert!(done.contains("store") && done.contains("routes"));
}

#[test]
fn the_path_reader_sees_grouped_and_nested_paths() {
    let paths = crate_paths(
        "use crate::{error::Error, domain::{user::{User, Email}, id}};\nlet x = crate::store::now();",
    );
    let expected: Vec<Vec<String>> = [
        vec!["error", "Error"],
        vec!["domain", "user", "User"],
        vec!["domain", "user", "Email"],
        vec!["domain", "id"],
        vec!["store", "now"],
    ]
    .iter()
    .map(|p| p.iter().map(|s| s.to_string()).collect())
    .collect();
    assert_eq!(paths, expected);
}

/// The rows under the Markdown table header `header` in
/// `docs/architecture.md`, as trimmed cells.
fn doc_table(header: &str) -> Vec<Vec<String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/architecture.md");
    let doc = std::fs::read_to_string(path).expect("docs/architecture.md");
    let mut lines = doc.lines().skip_while(|l| l.trim() != header);
    assert!(lines.next().is_some(), "the table {header} is in the page");
    lines
        .skip(1)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

/// The names a cell puts in backticks.
fn backticked(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The crate module a layer cell names (`store/` → `store`, `error.rs` →
/// `error`).
fn module_named(cell: &str) -> String {
    let name = backticked(cell)
        .into_iter()
        .next()
        .expect("a layer in backticks");
    name.trim_end_matches('/')
        .trim_end_matches(".rs")
        .to_string()
}

/// Each layer of the page's table with what it may name (`None`:
/// everything), `… and below` read as the names and all they may name.
fn allowed_by_the_page() -> BTreeMap<String, Option<BTreeSet<String>>> {
    let rows = doc_table("| layer | holds | may name |");
    assert!(rows.len() > 10, "read the layers table: {rows:?}");
    let mut allowed: BTreeMap<String, Option<BTreeSet<String>>> = BTreeMap::new();
    let mut below: Vec<String> = Vec::new();
    for row in &rows {
        let (layer, may) = (module_named(&row[0]), &row[2]);
        let names: BTreeSet<String> = backticked(may).into_iter().collect();
        if may.trim() == "everything" {
            allowed.insert(layer, None);
            continue;
        }
        if may.contains("and below") {
            below.push(layer.clone());
        }
        allowed.insert(layer, Some(names));
    }
    // Close `and below` over the rows it names, until nothing is added.
    loop {
        let mut grew = false;
        for layer in &below {
            let mut reach = allowed[layer].clone().unwrap_or_default();
            for n in reach.clone() {
                if let Some(Some(more)) = allowed.get(&n) {
                    reach.extend(more.iter().cloned());
                }
            }
            if Some(&reach) != allowed[layer].as_ref() {
                allowed.insert(layer.clone(), Some(reach));
                grew = true;
            }
        }
        if !grew {
            break;
        }
    }
    allowed
}

#[test]
fn every_module_names_only_what_its_row_in_docs_architecture_lets_it() {
    let allowed = allowed_by_the_page();
    for (file, code) in sources() {
        let layer = module_of(&file)[0].clone();
        if layer == "lib" || layer == "main" {
            continue;
        }
        let Some(may) = allowed.get(&layer) else {
            panic!("{} is in no row of docs/architecture.md", file.display());
        };
        let Some(may) = may else { continue };
        let foreign: Vec<String> = named_layers(&code)
            .into_iter()
            .filter(|n| *n != layer && !may.contains(n))
            .collect();
        assert!(
            foreign.is_empty(),
            "{} names {foreign:?}, which its row in docs/architecture.md does not let it name",
            file.display()
        );
    }
}

/// Each file of `distribution/` (by module name) with its floor, 0 the
/// highest, from the page's floors table.
fn engine_floors() -> BTreeMap<String, usize> {
    let rows = doc_table("| floor | files |");
    assert!(rows.len() >= 4, "read the floors table: {rows:?}");
    let mut floors = BTreeMap::new();
    for (floor, row) in rows.iter().enumerate() {
        for file in backticked(&row[1]) {
            floors.insert(file.trim_end_matches(".rs").to_string(), floor);
        }
    }
    floors
}

/// The files of `distribution/` that the file `module` names.
fn engine_files_named(
    module: &str,
    code: &str,
    files: &BTreeMap<String, usize>,
) -> BTreeSet<String> {
    let mut named = BTreeSet::new();
    let mut paths: Vec<Vec<String>> = crate_paths(code)
        .into_iter()
        .filter(|p| p[0] == "distribution")
        .map(|p| p[1..].to_vec())
        .collect();
    if module == "mod" {
        // The engine's root names its files as `use queue::…`.
        for line in code.lines() {
            let line = line.trim().trim_start_matches("pub ");
            if let Some(rest) = line.strip_prefix("use ") {
                paths.push(rest.split("::").map(str::to_string).collect());
            }
        }
    } else {
        paths.extend(paths_after(code, "super::"));
    }
    for path in paths {
        if let Some(first) = path.first()
            && files.contains_key(first)
            && first != module
        {
            named.insert(first.clone());
        }
    }
    named
}

#[test]
fn no_file_of_the_engine_names_one_on_a_floor_above_it() {
    let floors = engine_floors();
    let mut names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, code) in sources() {
        let module = module_of(&file);
        if module[0] != "distribution" {
            continue;
        }
        let name = module.get(1).cloned().unwrap_or_else(|| "mod".into());
        let Some(&floor) = floors.get(&name) else {
            panic!("{} is on no floor of docs/architecture.md", file.display());
        };
        let named = engine_files_named(&name, &code, &floors);
        for other in &named {
            assert!(
                floors[other] >= floor,
                "{} names {other}.rs, a floor above it",
                file.display()
            );
        }
        names.insert(name, named);
    }
    assert!(names.len() >= 10, "read the engine's files: {names:?}");
    for (a, named) in &names {
        for b in named {
            assert!(
                !names.get(b).is_some_and(|n| n.contains(a)),
                "distribution/{a}.rs and distribution/{b}.rs name each other"
            );
        }
    }
}

#[test]
fn the_page_s_tables_are_read_as_written() {
    let allowed = allowed_by_the_page();
    assert_eq!(
        allowed["store"],
        Some(["domain", "error"].iter().map(|s| s.to_string()).collect())
    );
    assert_eq!(allowed["domain"], Some(["domain".to_string()].into()));
    assert_eq!(allowed["startup"], None);
    // `routes/` may name `state` and everything `state` may name.
    let routes = allowed["routes"].clone().unwrap();
    assert!(routes.contains("distribution") && routes.contains("store"));
    let floors = engine_floors();
    assert!(floors["decide"] < floors["choose"] && floors["choose"] < floors["take"]);
}
