//! The YAML writer: a [`Node`] tree written as Go's yaml.v3 encoder writes it (block style,
//! two-space indent, its order of map keys); `style` chooses how each string is quoted.

mod style;
#[cfg(test)]
mod tests;

use std::cmp::Ordering;

use style::{Style, choose_style, is_break, is_printable};

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
    pub(super) fn str(s: impl Into<String>) -> Node {
        Node::Str(s.into())
    }

    /// A Go map: keys in yaml.v3's order.
    pub(super) fn go_map(mut entries: Vec<(String, Node)>) -> Node {
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
