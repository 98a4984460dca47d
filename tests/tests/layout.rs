//! The workspace's shape, checked: within every crate, modules import one way
//! only. Two modules that import each other (directly or round a loop) are one
//! concept cut in the wrong place, and a reader can no longer follow a call from
//! the front door down to the store without going round in circles.
//!
//! A module is a source file (`foo.rs` or `foo/mod.rs`); it imports another when
//! its code names a path into it (`use crate::a::b`, `crate::a::b::f()`,
//! `super::x`, `use crate::{a, b}`). A module's own `#[cfg(test)] mod tests`
//! block is left out: tests may reach anywhere. Declaring a child (`mod child;`)
//! is not an import.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

/// Every crate's `src/` folder in the workspace.
fn crate_sources(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() && !name.starts_with('.') && name != "target" && name != "node_modules" {
                if name == "src" && path.parent().is_some_and(|p| p.join("Cargo.toml").is_file()) {
                    found.push(path.clone());
                }
                folders.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The module a file holds, as a path from the crate root.
fn module_of(src: &Path, file: &Path) -> Module {
    let relative = file.strip_prefix(src).unwrap_or(file).with_extension("");
    let mut segments: Module = relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    if matches!(segments.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        segments.pop();
    }
    segments
}

fn rust_files(folder: &Path, into: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(folder) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

/// The code of a file without comments and without its unit-test module.
fn code_of(text: &str) -> String {
    let mut code = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            let item = lines.peek().map(|l| l.trim()).unwrap_or_default();
            if item.starts_with("mod ") && item.ends_with('{') {
                // An inline unit-test module: the last thing in every file here.
                break;
            }
            // A test-only item on one line (`mod tests;`): left out.
            lines.next();
            continue;
        }
        let line = match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        };
        code.push_str(line);
        code.push('\n');
    }
    code
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The deepest module of `known` that `path` (segments after its start) names.
fn resolve(start: Module, path: &[&str], known: &BTreeSet<Module>) -> Module {
    let mut module = start;
    for segment in path {
        let mut deeper = module.clone();
        deeper.push((*segment).to_owned());
        if known.contains(&deeper) {
            module = deeper;
        } else {
            break;
        }
    }
    module
}

/// The modules `code` (in module `own`) names paths into.
fn imports(own: &Module, code: &str, known: &BTreeSet<Module>) -> BTreeSet<Module> {
    let mut found = BTreeSet::new();
    let chars: Vec<char> = code.chars().collect();
    let mut at = 0;
    while at < chars.len() {
        let before_ok = at == 0 || !is_ident(chars[at - 1]) && chars[at - 1] != ':';
        let rest: String = chars[at..chars.len().min(at + 8)].iter().collect();
        let head = ["crate::", "super::", "self::"].into_iter().find(|h| rest.starts_with(h));
        let Some(head) = head.filter(|_| before_ok) else {
            at += 1;
            continue;
        };
        at += head.len();
        let mut base: Module = match head {
            "crate::" => Vec::new(),
            "self::" => own.clone(),
            _ => own[..own.len().saturating_sub(1)].to_vec(),
        };
        // The path: identifiers joined by `::`, or a `{ ... }` group after the last `::`.
        let mut segments: Vec<String> = Vec::new();
        let mut grouped = false;
        loop {
            if chars.get(at) == Some(&'{') {
                let close = chars[at..].iter().position(|c| *c == '}').map_or(chars.len(), |p| at + p);
                let group: String = chars[at + 1..close].iter().collect();
                while segments.first().is_some_and(|s| s == "super") {
                    segments.remove(0);
                    base.pop();
                }
                let prefix: Vec<&str> = segments.iter().map(String::as_str).collect();
                for item in group.split(',') {
                    let mut path = prefix.clone();
                    path.extend(item.split("::").map(|s| s.trim()).filter(|s| !s.is_empty() && *s != "self"));
                    found.insert(resolve(base.clone(), &path, known));
                }
                at = close;
                grouped = true;
                break;
            }
            let start = at;
            while at < chars.len() && is_ident(chars[at]) {
                at += 1;
            }
            if at == start {
                break;
            }
            segments.push(chars[start..at].iter().collect());
            if chars.get(at) == Some(&':') && chars.get(at + 1) == Some(&':') {
                at += 2;
                continue;
            }
            break;
        }
        while segments.first().is_some_and(|s| s == "super") {
            segments.remove(0);
            base.pop();
        }
        if !grouped && (!segments.is_empty() || head != "crate::") {
            let path: Vec<&str> = segments.iter().map(String::as_str).collect();
            found.insert(resolve(base, &path, known));
        }
    }
    found.remove(own);
    found
}

/// The groups of modules that import each other round a loop (Tarjan's strongly
/// connected components with more than one member).
fn cycles(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    struct Search<'a> {
        edges: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<Module, usize>,
        low: BTreeMap<Module, usize>,
        stack: Vec<Module>,
        found: Vec<Vec<Module>>,
    }
    impl Search<'_> {
        fn visit(&mut self, v: &Module) {
            let n = self.index.len();
            self.index.insert(v.clone(), n);
            self.low.insert(v.clone(), n);
            self.stack.push(v.clone());
            for w in self.edges.get(v).into_iter().flatten() {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v.clone(), low);
                } else if self.stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v.clone(), low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut group = Vec::new();
                while let Some(w) = self.stack.pop() {
                    let done = &w == v;
                    group.push(w);
                    if done {
                        break;
                    }
                }
                if group.len() > 1 {
                    group.sort();
                    self.found.push(group);
                }
            }
        }
    }
    let mut search =
        Search { edges, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), found: Vec::new() };
    for v in edges.keys() {
        if !search.index.contains_key(v) {
            search.visit(v);
        }
    }
    search.found
}

fn import_graph(src: &Path) -> BTreeMap<Module, BTreeSet<Module>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let known: BTreeSet<Module> = files.iter().map(|f| module_of(src, f)).collect();
    let mut edges = BTreeMap::new();
    for file in &files {
        let own = module_of(src, file);
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let mut targets = imports(&own, &code_of(&text), &known);
        targets.retain(|t| known.contains(t));
        edges.insert(own, targets);
    }
    edges
}

#[test]
fn modules_in_every_crate_import_one_way_only() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let sources = crate_sources(&root);
    assert!(sources.len() >= 9, "found only {} crates under {}", sources.len(), root.display());
    let mut problems = Vec::new();
    for src in sources {
        for group in cycles(&import_graph(&src)) {
            let names: Vec<String> =
                group.iter().map(|m| if m.is_empty() { "(root)".to_owned() } else { m.join("::") }).collect();
            problems.push(format!("{}: {}", src.display(), names.join(" <-> ")));
        }
    }
    assert!(problems.is_empty(), "modules that import each other:\n{}", problems.join("\n"));
}

#[test]
fn the_check_sees_a_loop_through_super_and_a_use_group() {
    let known: BTreeSet<Module> = [vec![], vec!["a".to_owned()], vec!["a".to_owned(), "b".to_owned()]].into();
    let a = vec!["a".to_owned()];
    let b = vec!["a".to_owned(), "b".to_owned()];
    let mut edges = BTreeMap::new();
    edges.insert(a.clone(), imports(&a, "use crate::{a::b::Thing, other};", &known));
    edges.insert(b.clone(), imports(&b, "fn f() { super::helper() }", &known));
    assert_eq!(edges[&a], [b.clone(), vec![]].into());
    assert_eq!(edges[&b], [a.clone()].into());
    assert_eq!(cycles(&edges), vec![vec![a.clone(), b.clone()]]);
    edges.insert(b.clone(), imports(&b, &code_of("// super::helper()\nfn f() {}"), &known));
    assert!(cycles(&edges).is_empty(), "a comment is not an import");
}
