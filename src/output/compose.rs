//! `compose config`: the normalised project printed as Docker Compose v2 prints it, in YAML
//! (Go's yaml.v3 encoder: block style, two-space indent, its quoting and key order) or JSON
//! (Go's `encoding/json`, indented), every `$` doubled so the output reads back the same.
//! And `up`'s log lines: [`LogStyle`], Compose's prefixes and status lines.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::compose::gojson::{self, Json};
use crate::compose::model::{Project, Service, ServiceVolume, Volume};
use crate::compose::value::{Map, Value};
use crate::compose::yaml::resolves_to_non_string;

/// A node to write, with mapping keys already in output order.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

impl Node {
    fn str(s: impl Into<String>) -> Node {
        Node::Str(s.into())
    }

    /// A Go map: keys in yaml.v3's order.
    fn go_map(mut entries: Vec<(String, Node)>) -> Node {
        entries.sort_by(|a, b| yaml_key_cmp(&a.0, &b.0));
        Node::Map(entries)
    }
}

/// yaml.v3's order of map keys: digits runs compare as numbers, letters before other
/// characters after a digit and after other characters otherwise.
pub fn yaml_key_cmp(a: &str, b: &str) -> Ordering {
    if yaml_key_less(a, b) {
        Ordering::Less
    } else if yaml_key_less(b, a) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

fn yaml_key_less(a: &str, b: &str) -> bool {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let mut digits = false;
    let n = ar.len().min(br.len());
    for i in 0..n {
        if ar[i] == br[i] {
            digits = ar[i].is_numeric();
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return if digits { al } else { bl };
        }
        let (mut an, mut bn) = (0i64, 0i64);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && ar[j - 1].is_numeric() {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an.wrapping_mul(10).wrapping_add(ar[ai] as i64 - '0' as i64);
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn.wrapping_mul(10).wrapping_add(br[bi] as i64 - '0' as i64);
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ar[i] < br[i];
    }
    ar.len() < br.len()
}

// ---------------------------------------------------------------------------------------------
// The YAML writer.

const INDENT: usize = 2;

/// Write a document as yaml.v3's encoder does (`SetIndent(2)`).
pub fn to_yaml(root: &Node) -> String {
    let mut w = Writer { out: String::new() };
    match root {
        Node::Map(entries) if !entries.is_empty() => w.map_body(entries, 0),
        Node::Seq(items) if !items.is_empty() => w.seq_body(items, 0),
        other => {
            w.scalar_or_flow(other, 0, false);
            w.out.push('\n');
        }
    }
    w.out
}

struct Writer {
    out: String,
}

fn spaces(n: usize) -> String {
    " ".repeat(n)
}

impl Writer {
    /// The entries of a block mapping at `indent`, each ending with a newline. The first line
    /// is written from the current position (the caller wrote its indentation).
    fn map_body(&mut self, entries: &[(String, Node)], indent: usize) {
        for (i, (k, v)) in entries.iter().enumerate() {
            if i > 0 {
                self.out.push_str(&spaces(indent));
            }
            if is_simple_key(k) {
                self.key(k);
            } else {
                // yaml.v3 writes a long or multi-line key as an explicit `? KEY` / `: VALUE`.
                self.out.push_str("? ");
                let style = choose_style(k, false);
                self.write_scalar(k, style, indent + INDENT);
                self.out.push('\n');
                self.out.push_str(&spaces(indent));
            }
            self.out.push(':');
            self.value_after_key(v, indent);
        }
    }

    fn value_after_key(&mut self, v: &Node, indent: usize) {
        match v {
            Node::Map(e) if !e.is_empty() => {
                self.out.push('\n');
                self.out.push_str(&spaces(indent + INDENT));
                self.map_body(e, indent + INDENT);
            }
            Node::Seq(items) if !items.is_empty() => {
                self.out.push('\n');
                self.out.push_str(&spaces(indent + INDENT));
                self.seq_body(items, indent + INDENT);
            }
            other => {
                self.out.push(' ');
                self.scalar_or_flow(other, indent + INDENT, true);
                self.out.push('\n');
            }
        }
    }

    /// The items of a block sequence whose dashes are at `indent`.
    fn seq_body(&mut self, items: &[Node], indent: usize) {
        for (i, it) in items.iter().enumerate() {
            if i > 0 {
                self.out.push_str(&spaces(indent));
            }
            self.out.push_str("- ");
            match it {
                Node::Map(e) if !e.is_empty() => self.map_body(e, indent + INDENT),
                Node::Seq(inner) if !inner.is_empty() => self.seq_body(inner, indent + INDENT),
                other => {
                    self.scalar_or_flow(other, indent + INDENT, true);
                    self.out.push('\n');
                }
            }
        }
    }

    fn key(&mut self, k: &str) {
        let style = choose_style(k, true);
        self.write_scalar(k, style, 0);
    }

    /// A scalar, or an empty collection in flow style. `indent` is where continuation lines
    /// of a block scalar go.
    fn scalar_or_flow(&mut self, v: &Node, indent: usize, _in_block: bool) {
        match v {
            Node::Null => self.out.push_str("null"),
            Node::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Node::Int(i) => self.out.push_str(&i.to_string()),
            Node::Float(f) => self.out.push_str(&yaml_float(*f)),
            Node::Str(s) => {
                let style = choose_style(s, false);
                self.write_scalar(s, style, indent);
            }
            Node::Map(_) => self.out.push_str("{}"),
            Node::Seq(_) => self.out.push_str("[]"),
        }
    }

    fn write_scalar(&mut self, s: &str, style: Style, indent: usize) {
        match style {
            Style::Plain => self.out.push_str(s),
            Style::Single => self.single_quoted(s, indent),
            Style::Double => self.double_quoted(s),
            Style::Literal => self.literal(s, indent),
        }
    }

    fn single_quoted(&mut self, s: &str, indent: usize) {
        self.out.push('\'');
        let mut after_break = false;
        for c in s.chars() {
            if is_break(c) {
                self.out.push(c);
                after_break = true;
                continue;
            }
            if after_break {
                self.out.push_str(&spaces(indent));
                after_break = false;
            }
            if c == '\'' {
                self.out.push_str("''");
            } else {
                self.out.push(c);
            }
        }
        self.out.push('\'');
    }

    fn double_quoted(&mut self, s: &str) {
        self.out.push('"');
        for c in s.chars() {
            let escape = !is_printable(c) || c == '\u{FEFF}' || is_break(c) || c == '"' || c == '\\';
            if !escape {
                self.out.push(c);
                continue;
            }
            match c {
                '\0' => self.out.push_str("\\0"),
                '\u{07}' => self.out.push_str("\\a"),
                '\u{08}' => self.out.push_str("\\b"),
                '\t' => self.out.push_str("\\t"),
                '\n' => self.out.push_str("\\n"),
                '\u{0B}' => self.out.push_str("\\v"),
                '\u{0C}' => self.out.push_str("\\f"),
                '\r' => self.out.push_str("\\r"),
                '\u{1B}' => self.out.push_str("\\e"),
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                '\u{85}' => self.out.push_str("\\N"),
                '\u{A0}' => self.out.push_str("\\_"),
                '\u{2028}' => self.out.push_str("\\L"),
                '\u{2029}' => self.out.push_str("\\P"),
                c if (c as u32) <= 0xFF => self.out.push_str(&format!("\\x{:02X}", c as u32)),
                c if (c as u32) <= 0xFFFF => self.out.push_str(&format!("\\u{:04X}", c as u32)),
                c => self.out.push_str(&format!("\\U{:08X}", c as u32)),
            }
        }
        self.out.push('"');
    }

    fn literal(&mut self, s: &str, indent: usize) {
        self.out.push('|');
        let first = s.chars().next();
        if first.is_some_and(|c| c == ' ' || is_break(c)) {
            self.out.push_str(&INDENT.to_string());
        }
        let chars: Vec<char> = s.chars().collect();
        let chomp = match chars.last() {
            None => "-",
            Some(c) if !is_break(*c) => "-",
            Some(_) if chars.len() == 1 => "+",
            Some(_) if is_break(chars[chars.len() - 2]) => "+",
            Some(_) => "",
        };
        self.out.push_str(chomp);
        self.out.push('\n');
        let mut at_line_start = true;
        for &c in &chars {
            if is_break(c) {
                self.out.push(if c == '\n' { '\n' } else { c });
                at_line_start = true;
                continue;
            }
            if at_line_start {
                self.out.push_str(&spaces(indent));
                at_line_start = false;
            }
            self.out.push(c);
        }
        // The caller ends the line; a value ending in a break has ended it already.
        if chars.last().is_some_and(|c| is_break(*c)) {
            self.out.pop();
        }
    }
}

/// libyaml's simple keys: at most 128 bytes, on one line.
fn is_simple_key(k: &str) -> bool {
    k.len() <= 128 && !k.chars().any(is_break)
}

fn yaml_float(f: f64) -> String {
    if f.is_nan() {
        ".nan".to_owned()
    } else if f.is_infinite() {
        if f > 0.0 { ".inf".to_owned() } else { "-.inf".to_owned() }
    } else {
        crate::compose::value::go_format_float(f)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// yaml.v3's `is_printable` (which, unlike libyaml's, leaves out U+0085 and every character
/// beyond the Basic Multilingual Plane).
fn is_printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0A
        || (0x20..=0x7E).contains(&u)
        || (0xA0..=0xD7FF).contains(&u)
        || ((0xE000..=0xFFFD).contains(&u) && u != 0xFEFF)
}

/// The style yaml.v3 writes a string in.
fn choose_style(s: &str, simple_key: bool) -> Style {
    let requested_double = resolves_to_non_string(s) || is_old_bool(s) || is_base60_float(s);
    let requested_literal = !requested_double && s.contains('\n');
    let a = analyze(s);
    if simple_key && a.multiline {
        return Style::Double;
    }
    if requested_double {
        return Style::Double;
    }
    if requested_literal {
        if !a.block_allowed || simple_key {
            return Style::Double;
        }
        return Style::Literal;
    }
    // Plain requested.
    let mut style = Style::Plain;
    if !a.block_plain_allowed || (s.is_empty() && simple_key) {
        style = Style::Single;
    }
    if style == Style::Single && !a.single_quoted_allowed {
        style = Style::Double;
    }
    style
}

fn is_old_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF"
    )
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    if i >= b.len() || !b[i].is_ascii_digit() {
        return false;
    }
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while i < b.len() && b[i] == b':' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 2 {
            i += 1;
        }
        let g = &s[start..i];
        let ok = match g.len() {
            1 => true,
            2 => g.as_bytes()[0] <= b'5',
            _ => false,
        };
        if !ok {
            return false;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

/// libyaml's scalar analysis, as yaml.v3 carries it.
fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let chars: Vec<char> = s.chars().collect();
    let mut block_indicators = s.starts_with("---") || s.starts_with("...");
    let mut line_breaks = false;
    let mut special = false;
    let mut tabs = false;
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) = (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let mut preceded_by_ws = true;
    let blank = |c: char| c == ' ' || c == '\t';
    let blankz = |c: char| blank(c) || is_break(c) || c == '\0';
    let n = chars.len();
    for i in 0..n {
        let c = chars[i];
        let followed_by_ws = i + 1 >= n || blank(chars[i + 1]);
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"' | '%' | '@' | '`' => {
                    block_indicators = true
                }
                '?' | ':' if followed_by_ws => block_indicators = true,
                '-' if followed_by_ws => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_ws => block_indicators = true,
                '#' if preceded_by_ws => block_indicators = true,
                _ => {}
            }
        }
        if c == '\t' {
            tabs = true;
        } else if !is_printable(c) {
            special = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if i + 1 == n {
                trailing_space = true;
            }
            if previous_break {
                break_space = true;
            }
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            line_breaks = true;
            if i == 0 {
                leading_break = true;
            }
            if i + 1 == n {
                trailing_break = true;
            }
            if previous_space {
                space_break = true;
            }
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_ws = blankz(c);
    }
    let mut a = Analysis {
        multiline: line_breaks,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || tabs || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

// ---------------------------------------------------------------------------------------------
// The project as Compose's types encode it.

fn ext_entries(ext: &Map) -> Vec<(String, Node)> {
    let mut v: Vec<(String, Node)> = ext.iter().map(|(k, v)| (k.clone(), value_node(v))).collect();
    v.sort_by(|a, b| yaml_key_cmp(&a.0, &b.0));
    v
}

fn value_node(v: &Value) -> Node {
    match v {
        Value::Null => Node::Null,
        Value::Bool(b) => Node::Bool(*b),
        Value::Int(i) => Node::Int(*i),
        Value::Float(f) => Node::Float(*f),
        Value::Str(s) => Node::str(s.clone()),
        Value::Seq(items) => Node::Seq(items.iter().map(value_node).collect()),
        Value::Map(m) => Node::go_map(m.iter().map(|(k, v)| (k.clone(), value_node(v))).collect()),
    }
}

fn string_map(m: &BTreeMap<String, String>) -> Node {
    Node::go_map(m.iter().map(|(k, v)| (k.clone(), Node::str(v.clone()))).collect())
}

fn strings(v: &[String]) -> Node {
    Node::Seq(v.iter().map(|s| Node::str(s.clone())).collect())
}

fn push_str(e: &mut Vec<(String, Node)>, k: &str, v: &str) {
    if !v.is_empty() {
        e.push((k.to_owned(), Node::str(v)));
    }
}

fn service_volume_node(v: &ServiceVolume) -> Node {
    let mut e = vec![("type".to_owned(), Node::str(v.kind.as_str()))];
    push_str(&mut e, "source", &v.source);
    push_str(&mut e, "target", &v.target);
    if v.read_only {
        e.push(("read_only".into(), Node::Bool(true)));
    }
    push_str(&mut e, "consistency", &v.consistency);
    if let Some(b) = &v.bind {
        let mut be = Vec::new();
        push_str(&mut be, "selinux", &b.selinux);
        push_str(&mut be, "propagation", &b.propagation);
        if b.create_host_path {
            be.push(("create_host_path".into(), Node::Bool(true)));
        }
        push_str(&mut be, "recursive", &b.recursive);
        be.extend(ext_entries(&b.extensions));
        e.push(("bind".into(), Node::Map(be)));
    }
    if let Some(o) = &v.volume {
        let mut oe = Vec::new();
        if !o.labels.is_empty() {
            oe.push(("labels".into(), string_map(&o.labels)));
        }
        if o.nocopy {
            oe.push(("nocopy".into(), Node::Bool(true)));
        }
        push_str(&mut oe, "subpath", &o.subpath);
        oe.extend(ext_entries(&o.extensions));
        e.push(("volume".into(), Node::Map(oe)));
    }
    if let Some(t) = &v.tmpfs {
        let mut te = Vec::new();
        if let Some(size) = t.size {
            te.push(("size".into(), Node::str(size.to_string())));
        }
        if t.mode != 0 {
            te.push(("mode".into(), Node::Int(i64::from(t.mode))));
        }
        te.extend(ext_entries(&t.extensions));
        e.push(("tmpfs".into(), Node::Map(te)));
    }
    if let Some(i) = &v.image {
        let mut ie = Vec::new();
        push_str(&mut ie, "subpath", &i.subpath);
        ie.extend(ext_entries(&i.extensions));
        e.push(("image".into(), Node::Map(ie)));
    }
    e.extend(ext_entries(&v.extensions));
    Node::Map(e)
}

fn service_node(s: &Service) -> Node {
    let mut e: Vec<(String, Node)> = Vec::new();
    if !s.profiles.is_empty() {
        e.push(("profiles".into(), strings(&s.profiles)));
    }
    if let Some(c) = &s.command {
        e.push(("command".into(), strings(c)));
    }
    if !s.depends_on.is_empty() {
        let deps = s
            .depends_on
            .iter()
            .map(|(k, d)| {
                let mut de = Vec::new();
                push_str(&mut de, "condition", &d.condition);
                if d.restart {
                    de.push(("restart".into(), Node::Bool(true)));
                }
                de.extend(ext_entries(&d.extensions));
                de.push(("required".into(), Node::Bool(d.required)));
                (k.clone(), Node::Map(de))
            })
            .collect();
        e.push(("depends_on".into(), Node::go_map(deps)));
    }
    if let Some(c) = &s.entrypoint {
        e.push(("entrypoint".into(), strings(c)));
    }
    if !s.environment.is_empty() {
        let env = s
            .environment
            .iter()
            .map(|(k, v)| (k.clone(), v.as_ref().map_or(Node::Null, |v| Node::str(v.clone()))))
            .collect();
        e.push(("environment".into(), Node::go_map(env)));
    }
    push_str(&mut e, "hostname", &s.hostname);
    push_str(&mut e, "image", &s.image);
    if !s.labels.is_empty() {
        e.push(("labels".into(), string_map(&s.labels)));
    }
    push_str(&mut e, "network_mode", &s.network_mode);
    if !s.networks.is_empty() {
        e.push(("networks".into(), Node::go_map(s.networks.iter().map(|n| (n.clone(), Node::Null)).collect())));
    }
    if s.read_only {
        e.push(("read_only".into(), Node::Bool(true)));
    }
    if !s.tmpfs.is_empty() {
        e.push(("tmpfs".into(), strings(&s.tmpfs)));
    }
    push_str(&mut e, "user", &s.user);
    if !s.volumes.is_empty() {
        e.push(("volumes".into(), Node::Seq(s.volumes.iter().map(service_volume_node).collect())));
    }
    if !s.volumes_from.is_empty() {
        e.push(("volumes_from".into(), strings(&s.volumes_from)));
    }
    push_str(&mut e, "working_dir", &s.working_dir);
    let ext: Map =
        s.extensions.iter().filter(|(k, _)| !k.starts_with("x-myvol-")).map(|(k, v)| (k.clone(), v.clone())).collect();
    e.extend(ext_entries(&ext));
    Node::Map(e)
}

fn volume_node(v: &Volume) -> Node {
    let mut e = Vec::new();
    push_str(&mut e, "name", &v.name);
    push_str(&mut e, "driver", &v.driver);
    if !v.driver_opts.is_empty() {
        e.push(("driver_opts".into(), string_map(&v.driver_opts)));
    }
    if v.external {
        e.push(("external".into(), Node::Bool(true)));
    }
    if !v.labels.is_empty() {
        e.push(("labels".into(), string_map(&v.labels)));
    }
    e.extend(ext_entries(&v.extensions));
    Node::Map(e)
}

/// The project as `compose config` writes it in YAML.
pub fn project_node(p: &Project) -> Node {
    let mut e: Vec<(String, Node)> = Vec::new();
    push_str(&mut e, "name", &p.name);
    e.push(("services".into(), Node::go_map(p.services.iter().map(|(k, s)| (k.clone(), service_node(s))).collect())));
    if !p.networks.is_empty() {
        let nets = p
            .networks
            .iter()
            .map(|(k, n)| {
                let mut ne = Vec::new();
                push_str(&mut ne, "name", &n.name);
                (k.clone(), Node::Map(ne))
            })
            .collect();
        e.push(("networks".into(), Node::go_map(nets)));
    }
    if !p.volumes.is_empty() {
        e.push(("volumes".into(), Node::go_map(p.volumes.iter().map(|(k, v)| (k.clone(), volume_node(v))).collect())));
    }
    e.extend(ext_entries(&p.extensions));
    Node::Map(e)
}

/// `compose config` in YAML.
pub fn config_yaml(p: &Project) -> String {
    escape_dollars(&to_yaml(&project_node(p)))
}

fn value_json(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::Int(*i),
        Value::Float(f) => Json::Float(*f),
        Value::Str(s) => Json::str(s.clone()),
        Value::Seq(items) => Json::Array(items.iter().map(value_json).collect()),
        Value::Map(m) => Json::Object(m.iter().map(|(k, v)| (k.clone(), value_json(v))).collect()),
    }
}

/// Go's JSON of a node tree built for YAML, with maps sorted bytewise (Go's JSON order).
fn node_json(n: &Node, sort: bool) -> Json {
    match n {
        Node::Null => Json::Null,
        Node::Bool(b) => Json::Bool(*b),
        Node::Int(i) => Json::Int(*i),
        Node::Float(f) => Json::Float(*f),
        Node::Str(s) => Json::str(s.clone()),
        Node::Seq(items) => Json::Array(items.iter().map(|i| node_json(i, sort)).collect()),
        Node::Map(e) => {
            let mut fields: Vec<(String, Json)> = e.iter().map(|(k, v)| (k.clone(), node_json(v, sort))).collect();
            if sort {
                fields.sort_by(|a, b| a.0.cmp(&b.0));
            }
            Json::Object(fields)
        }
    }
}

fn sorted_map(m: &BTreeMap<String, String>) -> Json {
    Json::string_map(m)
}

fn service_volume_json(v: &ServiceVolume) -> Json {
    // The YAML node has the same fields in the same order; extensions are not in JSON.
    let mut n = service_volume_node(&ServiceVolume { extensions: Map::new(), ..v.clone() });
    strip_extensions(&mut n);
    node_json_struct(&n)
}

/// A struct-ordered node where nested Go maps (labels) are sorted bytewise.
fn node_json_struct(n: &Node) -> Json {
    match n {
        Node::Map(e) => Json::Object(
            e.iter()
                .map(|(k, v)| {
                    let j = if k == "labels" { node_json(v, true) } else { node_json_struct(v) };
                    (k.clone(), j)
                })
                .collect(),
        ),
        other => node_json(other, false),
    }
}

fn strip_extensions(n: &mut Node) {
    if let Node::Map(e) = n {
        e.retain(|(k, _)| !k.starts_with("x-"));
        for (_, v) in e.iter_mut() {
            strip_extensions(v);
        }
    }
}

fn service_json(s: &Service) -> Json {
    let mut f: Vec<(String, Json)> = Vec::new();
    if !s.profiles.is_empty() {
        f.push(("profiles".into(), Json::Array(s.profiles.iter().map(Json::str).collect())));
    }
    let cmd = |c: &Option<Vec<String>>| match c {
        None => Json::Null,
        Some(c) => Json::Array(c.iter().map(Json::str).collect()),
    };
    f.push(("command".into(), cmd(&s.command)));
    if !s.depends_on.is_empty() {
        let deps: BTreeMap<String, Json> = s
            .depends_on
            .iter()
            .map(|(k, d)| {
                let mut de = Vec::new();
                if !d.condition.is_empty() {
                    de.push(("condition".to_owned(), Json::str(&d.condition)));
                }
                if d.restart {
                    de.push(("restart".to_owned(), Json::Bool(true)));
                }
                de.push(("required".to_owned(), Json::Bool(d.required)));
                (k.clone(), Json::Object(de))
            })
            .collect();
        f.push(("depends_on".into(), Json::map(deps)));
    }
    f.push(("entrypoint".into(), cmd(&s.entrypoint)));
    if !s.environment.is_empty() {
        let env: BTreeMap<String, Json> =
            s.environment.iter().map(|(k, v)| (k.clone(), v.as_ref().map_or(Json::Null, Json::str))).collect();
        f.push(("environment".into(), Json::map(env)));
    }
    let push = |f: &mut Vec<(String, Json)>, k: &str, v: &str| {
        if !v.is_empty() {
            f.push((k.to_owned(), Json::str(v)));
        }
    };
    push(&mut f, "hostname", &s.hostname);
    push(&mut f, "image", &s.image);
    if !s.labels.is_empty() {
        f.push(("labels".into(), sorted_map(&s.labels)));
    }
    push(&mut f, "network_mode", &s.network_mode);
    if !s.networks.is_empty() {
        f.push(("networks".into(), Json::map(s.networks.iter().map(|n| (n.clone(), Json::Null)).collect())));
    }
    if s.read_only {
        f.push(("read_only".into(), Json::Bool(true)));
    }
    if !s.tmpfs.is_empty() {
        f.push(("tmpfs".into(), Json::Array(s.tmpfs.iter().map(Json::str).collect())));
    }
    push(&mut f, "user", &s.user);
    if !s.volumes.is_empty() {
        f.push(("volumes".into(), Json::Array(s.volumes.iter().map(service_volume_json).collect())));
    }
    if !s.volumes_from.is_empty() {
        f.push(("volumes_from".into(), Json::Array(s.volumes_from.iter().map(Json::str).collect())));
    }
    push(&mut f, "working_dir", &s.working_dir);
    Json::Object(f)
}

fn volume_json(v: &Volume) -> Json {
    let mut f = Vec::new();
    if !v.name.is_empty() {
        f.push(("name".to_owned(), Json::str(&v.name)));
    }
    if !v.driver.is_empty() {
        f.push(("driver".to_owned(), Json::str(&v.driver)));
    }
    if !v.driver_opts.is_empty() {
        f.push(("driver_opts".to_owned(), sorted_map(&v.driver_opts)));
    }
    if v.external {
        f.push(("external".to_owned(), Json::Bool(true)));
    }
    if !v.labels.is_empty() {
        f.push(("labels".to_owned(), sorted_map(&v.labels)));
    }
    Json::Object(f)
}

/// `compose config --format json`.
pub fn config_json(p: &Project) -> String {
    let mut top: BTreeMap<String, Json> = BTreeMap::new();
    top.insert("name".into(), Json::str(&p.name));
    top.insert("services".into(), Json::map(p.services.iter().map(|(k, s)| (k.clone(), service_json(s))).collect()));
    if !p.networks.is_empty() {
        let nets = p
            .networks
            .iter()
            .map(|(k, n)| {
                let mut f = Vec::new();
                if !n.name.is_empty() {
                    f.push(("name".to_owned(), Json::str(&n.name)));
                }
                f.push(("ipam".to_owned(), Json::Object(Vec::new())));
                (k.clone(), Json::Object(f))
            })
            .collect();
        top.insert("networks".into(), Json::map(nets));
    }
    if !p.volumes.is_empty() {
        top.insert("volumes".into(), Json::map(p.volumes.iter().map(|(k, v)| (k.clone(), volume_json(v))).collect()));
    }
    for (k, v) in &p.extensions {
        top.insert(k.clone(), value_json(v));
    }
    escape_dollars(&gojson::marshal_indent(&Json::map(top)))
}

/// Compose doubles every `$` of the output so that it reads back unchanged.
pub fn escape_dollars(s: &str) -> String {
    s.replace('$', "$$")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_order_as_yaml_v3() {
        let mut keys = vec![
            "web", "Web2", "_w", "123", "a10", "a9", "a09", "a010", "ab", "aB", "a_b", "a-b", "a.b", "A", "_", "1",
            "01", "2", "b1a", "b1", "x y", "é",
        ];
        keys.sort_by(|a, b| yaml_key_cmp(a, b));
        assert_eq!(
            keys,
            [
                "_", "_w", "1", "01", "2", "123", "A", "Web2", "a-b", "a.b", "a_b", "a9", "a09", "a10", "a010", "aB",
                "ab", "b1", "b1a", "web", "x y", "é"
            ]
        );
    }

    #[test]
    fn scalar_styles_as_yaml_v3() {
        let cases: &[(&str, &str)] = &[
            ("", "\"\""),
            ("true", "\"true\""),
            ("1.5", "\"1.5\""),
            ("-", "'-'"),
            ("a: b", "'a: b'"),
            (" lead", "' lead'"),
            ("trail ", "'trail '"),
            ("tab\there", "\"tab\\there\""),
            ("#hash", "'#hash'"),
            ("a #b", "'a #b'"),
            ("~", "\"~\""),
            ("0x1F", "\"0x1F\""),
            ("{x}", "'{x}'"),
            ("'q'", "'''q'''"),
            ("\"dq\"", "'\"dq\"'"),
            ("é ü", "é ü"),
            ("- x", "'- x'"),
            (":x", ":x"),
            ("x:", "'x:'"),
            ("1_000", "\"1_000\""),
            ("on", "\"on\""),
            ("y", "\"y\""),
            ("  ", "'  '"),
            ("2001-12-14", "\"2001-12-14\""),
            ("12:30", "\"12:30\""),
            ("---", "'---'"),
            ("x,y", "x,y"),
            ("a\u{85}b", "\"a\\Nb\""),
            ("ctrl\u{1}", "\"ctrl\\x01\""),
            ("1:2:3", "\"1:2:3\""),
            ("=x", "=x"),
            ("a\\b", "a\\b"),
            ("${X}", "${X}"),
            ("/host/logs", "/host/logs"),
            ("1000:1000", "1000:1000"),
        ];
        for (s, want) in cases {
            let got = to_yaml(&Node::Map(vec![("k".into(), Node::str(*s))]));
            assert_eq!(got, format!("k: {want}\n"), "{s:?}");
        }
    }

    #[test]
    fn block_scalars_as_yaml_v3() {
        let doc = Node::Map(vec![(
            "env".into(),
            Node::Map(vec![
                ("a".into(), Node::str("multi\nline\n")),
                ("b".into(), Node::str("multi\nline")),
                ("c".into(), Node::str("\n lead")),
                ("d".into(), Node::str("last\n\n")),
                ("e".into(), Node::str("after")),
            ]),
        )]);
        assert_eq!(
            to_yaml(&doc),
            "env:\n  a: |\n    multi\n    line\n  b: |-\n    multi\n    line\n  c: |2-\n\n     lead\n  d: |+\n    last\n\n  e: after\n"
        );
    }

    #[test]
    fn layout_as_yaml_v3() {
        let doc = Node::Map(vec![
            ("name".into(), Node::str("p")),
            (
                "services".into(),
                Node::Map(vec![(
                    "w".into(),
                    Node::Map(vec![
                        ("command".into(), Node::Seq(vec![])),
                        ("networks".into(), Node::Map(vec![("default".into(), Node::Null)])),
                        (
                            "volumes".into(),
                            Node::Seq(vec![Node::Map(vec![
                                ("type".into(), Node::str("volume")),
                                ("volume".into(), Node::Map(vec![])),
                            ])]),
                        ),
                    ]),
                )]),
            ),
        ]);
        assert_eq!(
            to_yaml(&doc),
            "name: p\nservices:\n  w:\n    command: []\n    networks:\n      default: null\n    volumes:\n      - type: volume\n        volume: {}\n"
        );
    }
}

/// Compose's log colours, in the order it hands them to the services (sorted by name):
/// cyan, yellow, green, magenta, blue, then the same intense.
const RAINBOW: [&str; 10] = ["36", "33", "32", "35", "34", "36;1", "33;1", "32;1", "35;1", "34;1"];

/// Go's `goterm.RESET_LINE`, which Compose writes before each status line.
pub const RESET_LINE: &str = "\r\x1b[K";

/// How `up` prints a service's lines: Compose's `<name><padding> | ` prefix (the names
/// padded to the longest plus one), coloured when stdout is a terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogStyle {
    /// The ANSI colour, when colouring.
    pub color: Option<&'static str>,
    /// The prefix of each log line (empty with `--no-log-prefix`).
    pub prefix: String,
}

impl LogStyle {
    /// The style of the `index`-th of `names` (sorted), as Compose's log consumer makes it.
    pub fn new(names: &[String], index: usize, color: bool, prefix: bool) -> LogStyle {
        let width = names.iter().map(String::len).max().unwrap_or(0) + 1;
        let color = color.then(|| RAINBOW[index % RAINBOW.len()]);
        let prefix = if prefix { paint(color, &format!("{:<width$} | ", names[index])) } else { String::new() };
        LogStyle { color, prefix }
    }

    /// One line of the service's output (without its newline), as printed.
    pub fn line(&self, text: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.prefix.len() + text.len() + 1);
        out.extend_from_slice(self.prefix.as_bytes());
        out.extend_from_slice(text);
        out.push(b'\n');
        out
    }

    /// A status line (`web-1 exited with code 0`), as Compose prints it.
    pub fn status(&self, name: &str, message: &str) -> String {
        paint(self.color, &format!("{RESET_LINE}{name} {message}\n"))
    }
}

fn paint(color: Option<&str>, s: &str) -> String {
    match color {
        Some(c) => format!("\x1b[{c}m{s}\x1b[0m"),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod log_tests {
    use super::*;

    #[test]
    fn prefixes_are_padded_to_the_longest_name_plus_one() {
        let names = vec!["app-1".to_owned(), "backend-1".to_owned()];
        let s = LogStyle::new(&names, 0, false, true);
        assert_eq!(s.line(b"hi"), b"app-1      | hi\n");
        assert_eq!(LogStyle::new(&names, 1, false, true).line(b"x"), b"backend-1  | x\n");
        assert_eq!(s.status("app-1", "exited with code 3"), "\r\x1b[Kapp-1 exited with code 3\n");
        assert_eq!(LogStyle::new(&names, 0, false, false).line(b"raw"), b"raw\n");
    }

    #[test]
    fn colours_follow_compose_s_rainbow() {
        let names: Vec<String> = (0..11).map(|i| format!("s{i}-1")).collect();
        assert_eq!(LogStyle::new(&names, 0, true, true).prefix, "\x1b[36ms0-1   | \x1b[0m");
        assert_eq!(LogStyle::new(&names, 5, true, true).color, Some("36;1"));
        assert_eq!(LogStyle::new(&names, 10, true, true).color, Some("36"));
        assert_eq!(
            LogStyle::new(&names, 1, true, true).status("s1-1", "exited with code 0"),
            "\x1b[33m\r\x1b[Ks1-1 exited with code 0\n\x1b[0m"
        );
    }
}
