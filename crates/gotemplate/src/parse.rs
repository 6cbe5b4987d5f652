//! The parser and parse tree: a port of Go's `text/template/parse/parse.go` and `node.go`.

use std::collections::HashMap;
use std::fmt;

use super::TemplateError;
use super::funcs::Func;
use super::lex::{Item, ItemType, lex};

/// Deepest nesting of parentheses and control structures accepted. Go allows 10000
/// parenthesised levels; recursion that deep could overflow a Rust thread's stack, so the limit
/// is lower here (with Go's message).
const MAX_DEPTH: usize = 100;

/// A list of nodes (the body of a template or of a control structure).
#[derive(Debug, Default)]
pub(super) struct List {
    pub nodes: Vec<Node>,
}

impl List {
    /// Go's `IsEmptyTree`: only blank text (comments are dropped by the lexer).
    fn is_empty_tree(&self) -> bool {
        self.nodes.iter().all(|n| match n {
            Node::Text(t) => t.trim_matches(|c: char| c.is_whitespace()).is_empty(),
            _ => false,
        })
    }
}

/// The templates one text defines, by name: the text's own body is named `""`.
#[derive(Debug, Default)]
pub(super) struct TreeSet {
    pub trees: HashMap<String, List>,
}

/// A node that produces output or controls execution.
#[derive(Debug)]
pub(super) enum Node {
    Text(String),
    Action {
        pipe: Pipe,
    },
    If(Box<Branch>),
    With(Box<Branch>),
    Range(Box<Branch>),
    Break,
    Continue,
    /// `{{template "name" pipe}}` (also what `{{block}}` leaves in place).
    Template {
        pos: usize,
        name: String,
        pipe: Option<Box<Pipe>>,
    },
}

/// The common shape of `if`, `with` and `range`.
#[derive(Debug)]
pub(super) struct Branch {
    pub pipe: Pipe,
    pub list: List,
    pub else_list: Option<List>,
}

/// A pipeline with optional variable declarations: `$x := a | b c`.
#[derive(Debug)]
pub(super) struct Pipe {
    pub pos: usize,
    pub is_assign: bool,
    pub decl: Vec<String>,
    pub cmds: Vec<Command>,
}

/// One stage of a pipeline: an operand followed by arguments.
#[derive(Debug)]
pub(super) struct Command {
    pub pos: usize,
    pub args: Vec<Arg>,
}

/// A parsed number literal with the interpretations Go's `NumberNode` records.
#[derive(Debug, Clone)]
pub(super) struct Number {
    pub text: String,
    pub is_int: bool,
    pub is_uint: bool,
    pub is_float: bool,
    pub int: i64,
    pub float: f64,
}

/// An operand of a command.
#[derive(Debug)]
pub(super) enum Arg {
    /// `.A.B`: the identifiers without dots.
    Field {
        pos: usize,
        idents: Vec<String>,
    },
    /// `(pipe).A.B` or `fn.A`.
    Chain {
        pos: usize,
        node: Box<Arg>,
        fields: Vec<String>,
    },
    Identifier {
        pos: usize,
        name: String,
        func: Func,
    },
    Dot {
        pos: usize,
    },
    Nil {
        pos: usize,
    },
    /// `$x.A.B`: `["$x", "A", "B"]`.
    Variable {
        pos: usize,
        idents: Vec<String>,
    },
    Bool {
        pos: usize,
        val: bool,
    },
    Number {
        pos: usize,
        num: Number,
    },
    String {
        pos: usize,
        quoted: String,
        text: String,
    },
    Pipe(Box<Pipe>),
}

impl Arg {
    pub fn pos(&self) -> usize {
        match self {
            Arg::Field { pos, .. }
            | Arg::Chain { pos, .. }
            | Arg::Identifier { pos, .. }
            | Arg::Dot { pos }
            | Arg::Nil { pos }
            | Arg::Variable { pos, .. }
            | Arg::Bool { pos, .. }
            | Arg::Number { pos, .. }
            | Arg::String { pos, .. } => *pos,
            Arg::Pipe(p) => p.pos,
        }
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Field { idents, .. } => {
                for i in idents {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Chain { node, fields, .. } => {
                if let Arg::Pipe(p) = &**node {
                    write!(f, "({p})")?;
                } else {
                    write!(f, "{node}")?;
                }
                for field in fields {
                    write!(f, ".{field}")?;
                }
                Ok(())
            }
            Arg::Identifier { name, .. } => f.write_str(name),
            Arg::Dot { .. } => f.write_str("."),
            Arg::Nil { .. } => f.write_str("nil"),
            Arg::Variable { idents, .. } => f.write_str(&idents.join(".")),
            Arg::Bool { val, .. } => write!(f, "{val}"),
            Arg::Number { num, .. } => f.write_str(&num.text),
            Arg::String { quoted, .. } => f.write_str(quoted),
            Arg::Pipe(p) => write!(f, "{p}"),
        }
    }
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            f.write_str(&self.decl.join(", "))?;
            f.write_str(if self.is_assign { " = " } else { " := " })?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            if let Arg::Pipe(p) = a {
                write!(f, "({p})")?;
            } else {
                write!(f, "{a}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for List {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for n in &self.nodes {
            write!(f, "{n}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let branch = |f: &mut fmt::Formatter<'_>, name: &str, b: &Branch| {
            write!(f, "{{{{{name} {}}}}}{}", b.pipe, b.list)?;
            if let Some(e) = &b.else_list {
                write!(f, "{{{{else}}}}{e}")?;
            }
            f.write_str("{{end}}")
        };
        match self {
            Node::Text(t) => f.write_str(t),
            Node::Action { pipe } => write!(f, "{{{{{pipe}}}}}"),
            Node::If(b) => branch(f, "if", b),
            Node::With(b) => branch(f, "with", b),
            Node::Range(b) => branch(f, "range", b),
            Node::Break => f.write_str("{{break}}"),
            Node::Continue => f.write_str("{{continue}}"),
            Node::Template { name, pipe, .. } => {
                write!(f, "{{{{template {}", crate::quote::go_quote(name))?;
                if let Some(p) = pipe {
                    write!(f, " {p}")?;
                }
                f.write_str("}}")
            }
        }
    }
}

/// What `action()` returns: a real node or one of the delimiters of a control structure.
enum Parsed {
    Node(Node),
    End,
    Else,
}

impl Parsed {
    fn describe(&self) -> &'static str {
        match self {
            Parsed::End => "{{end}}",
            _ => "{{else}}",
        }
    }
}

type PResult<T> = Result<T, TemplateError>;

struct Parser {
    items: Vec<Item>,
    cursor: usize,
    token: [usize; 3],
    peek_count: usize,
    vars: Vec<String>,
    action_line: usize,
    range_depth: usize,
    depth: usize,
    set: TreeSet,
}

/// Parse `text` into its templates: its body (named `""`) and those it defines.
pub(super) fn parse(text: &str) -> PResult<TreeSet> {
    let mut p = Parser {
        items: lex(text),
        cursor: 0,
        token: [0; 3],
        peek_count: 0,
        vars: vec!["$".to_string()],
        action_line: 0,
        range_depth: 0,
        depth: 0,
        set: TreeSet::default(),
    };
    let root = p.parse()?;
    p.add(String::new(), root)?;
    Ok(p.set)
}

impl Parser {
    fn item(&self, i: usize) -> &Item {
        &self.items[i]
    }

    fn lex_next(&mut self) -> usize {
        let i = self.cursor.min(self.items.len() - 1);
        self.cursor += 1;
        i
    }

    fn next(&mut self) -> usize {
        if self.peek_count > 0 {
            self.peek_count -= 1;
        } else {
            self.token[0] = self.lex_next();
        }
        self.token[self.peek_count]
    }

    fn backup(&mut self) {
        self.peek_count += 1;
    }

    fn backup2(&mut self, t1: usize) {
        self.token[1] = t1;
        self.peek_count = 2;
    }

    fn backup3(&mut self, t2: usize, t1: usize) {
        self.token[1] = t1;
        self.token[2] = t2;
        self.peek_count = 3;
    }

    fn peek(&mut self) -> usize {
        if self.peek_count > 0 {
            return self.token[self.peek_count - 1];
        }
        self.peek_count = 1;
        self.token[0] = self.lex_next();
        self.token[0]
    }

    fn next_non_space(&mut self) -> usize {
        loop {
            let t = self.next();
            if self.item(t).typ != ItemType::Space {
                return t;
            }
        }
    }

    fn peek_non_space(&mut self) -> usize {
        let t = self.next_non_space();
        self.backup();
        t
    }

    fn typ(&self, i: usize) -> ItemType {
        self.items[i].typ
    }

    fn errorf(&self, msg: impl fmt::Display) -> TemplateError {
        let line = self.item(self.token[0]).line;
        TemplateError::Parse(format!("template: :{line}: {msg}"))
    }

    fn unexpected(&self, t: usize, context: &str) -> TemplateError {
        let token = self.item(t);
        if token.typ == ItemType::Error {
            let mut extra = String::new();
            if self.action_line != 0 && self.action_line != token.line {
                extra = format!(" in action started at :{}", self.action_line);
                if token.val.ends_with(" action") {
                    extra = extra[" in action".len()..].to_string();
                }
            }
            return self.errorf(format_args!("{token}{extra}"));
        }
        self.errorf(format_args!("unexpected {token} in {context}"))
    }

    fn expect(&mut self, expected: ItemType, context: &str) -> PResult<usize> {
        let t = self.next_non_space();
        if self.typ(t) != expected {
            return Err(self.unexpected(t, context));
        }
        Ok(t)
    }

    /// Go's `Tree.add`: a template replaces an empty one of the same name; two non-empty
    /// definitions are an error.
    fn add(&mut self, name: String, list: List) -> PResult<()> {
        match self.set.trees.get(&name) {
            Some(old) if !old.is_empty_tree() => {
                if !list.is_empty_tree() {
                    let q = crate::quote::go_quote(&name);
                    return Err(self.errorf(format_args!("template: multiple definition of template {q}")));
                }
            }
            _ => {
                self.set.trees.insert(name, list);
            }
        }
        Ok(())
    }

    /// Parse the body of a `define` or `block` as a template of its own: no variables but `$`,
    /// outside any `range`.
    fn parse_body(&mut self, name: String, context: &str) -> PResult<()> {
        let vars = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let range_depth = std::mem::take(&mut self.range_depth);
        let (list, end) = self.item_list()?;
        if !matches!(end, Parsed::End) {
            return Err(self.errorf(format_args!("unexpected {} in {context}", end.describe())));
        }
        self.vars = vars;
        self.range_depth = range_depth;
        self.add(name, list)
    }

    /// The quoted name after `define`, `template` or `block`.
    fn template_name(&mut self, t: usize, context: &str) -> PResult<String> {
        match self.typ(t) {
            ItemType::String | ItemType::RawString => {
                unquote(&self.item(t).val).ok_or_else(|| self.errorf("invalid syntax"))
            }
            _ => Err(self.unexpected(t, context)),
        }
    }

    fn parse(&mut self) -> PResult<List> {
        let mut root = List::default();
        loop {
            let t = self.peek();
            if self.typ(t) == ItemType::Eof {
                return Ok(root);
            }
            if self.typ(t) == ItemType::LeftDelim {
                let delim = self.next();
                let t = self.next_non_space();
                if self.typ(t) == ItemType::Define {
                    const CONTEXT: &str = "define clause";
                    let t = self.next_non_space();
                    let name = self.template_name(t, CONTEXT)?;
                    self.expect(ItemType::RightDelim, CONTEXT)?;
                    self.parse_body(name, CONTEXT)?;
                    continue;
                }
                self.backup2(delim);
            }
            match self.text_or_action()? {
                Parsed::Node(n) => root.nodes.push(n),
                other => return Err(self.errorf(format_args!("unexpected {}", other.describe()))),
            }
        }
    }

    fn item_list(&mut self) -> PResult<(List, Parsed)> {
        let mut list = List::default();
        loop {
            let t = self.peek_non_space();
            if self.typ(t) == ItemType::Eof {
                return Err(self.errorf("unexpected EOF"));
            }
            match self.text_or_action()? {
                Parsed::Node(n) => list.nodes.push(n),
                other => return Ok((list, other)),
            }
        }
    }

    fn text_or_action(&mut self) -> PResult<Parsed> {
        let t = self.next_non_space();
        match self.typ(t) {
            ItemType::Text => Ok(Parsed::Node(Node::Text(self.item(t).val.clone()))),
            ItemType::LeftDelim => {
                self.action_line = self.item(t).line;
                let r = self.action();
                self.action_line = 0;
                r
            }
            _ => Err(self.unexpected(t, "input")),
        }
    }

    fn action(&mut self) -> PResult<Parsed> {
        let t = self.next_non_space();
        match self.typ(t) {
            ItemType::Block => {
                const CONTEXT: &str = "block clause";
                let t = self.next_non_space();
                let name = self.template_name(t, CONTEXT)?;
                let pipe = self.pipeline(CONTEXT, ItemType::RightDelim)?;
                self.parse_body(name.clone(), CONTEXT)?;
                return Ok(Parsed::Node(Node::Template { pos: self.item(t).pos, name, pipe: Some(Box::new(pipe)) }));
            }
            ItemType::Template => {
                const CONTEXT: &str = "template clause";
                let t = self.next_non_space();
                let name = self.template_name(t, CONTEXT)?;
                let mut pipe = None;
                let next = self.next_non_space();
                if self.typ(next) != ItemType::RightDelim {
                    self.backup();
                    pipe = Some(Box::new(self.pipeline(CONTEXT, ItemType::RightDelim)?));
                }
                return Ok(Parsed::Node(Node::Template { pos: self.item(t).pos, name, pipe }));
            }
            ItemType::Break | ItemType::Continue => {
                let brk = self.typ(t) == ItemType::Break;
                let name = if brk { "{{break}}" } else { "{{continue}}" };
                let t2 = self.next_non_space();
                if self.typ(t2) != ItemType::RightDelim {
                    return Err(self.unexpected(t2, name));
                }
                if self.range_depth == 0 {
                    return Err(self.errorf(format_args!("{name} outside {{{{range}}}}")));
                }
                return Ok(Parsed::Node(if brk { Node::Break } else { Node::Continue }));
            }
            ItemType::Else => {
                let p = self.peek_non_space();
                if matches!(self.typ(p), ItemType::If | ItemType::With) {
                    return Ok(Parsed::Else);
                }
                self.expect(ItemType::RightDelim, "else")?;
                return Ok(Parsed::Else);
            }
            ItemType::End => {
                self.expect(ItemType::RightDelim, "end")?;
                return Ok(Parsed::End);
            }
            ItemType::If => return Ok(Parsed::Node(Node::If(self.parse_control("if")?))),
            ItemType::Range => return Ok(Parsed::Node(Node::Range(self.parse_control("range")?))),
            ItemType::With => return Ok(Parsed::Node(Node::With(self.parse_control("with")?))),
            _ => {}
        }
        self.backup();
        let pipe = self.pipeline("command", ItemType::RightDelim)?;
        Ok(Parsed::Node(Node::Action { pipe }))
    }

    fn enter(&mut self) -> PResult<()> {
        if self.depth >= MAX_DEPTH {
            return Err(self.errorf("max expression depth exceeded"));
        }
        self.depth += 1;
        Ok(())
    }

    fn parse_control(&mut self, context: &str) -> PResult<Box<Branch>> {
        self.enter()?;
        let mark = self.vars.len();
        let pipe = self.pipeline(context, ItemType::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let (list, next) = self.item_list()?;
        if context == "range" {
            self.range_depth -= 1;
        }
        let mut else_list = None;
        if let Parsed::Else = next {
            let p = self.peek();
            if context == "if" && self.typ(p) == ItemType::If {
                self.next();
                let inner = self.parse_control("if")?;
                else_list = Some(List { nodes: vec![Node::If(inner)] });
            } else if context == "with" && self.typ(p) == ItemType::With {
                self.next();
                let inner = self.parse_control("with")?;
                else_list = Some(List { nodes: vec![Node::With(inner)] });
            } else {
                let (l, next) = self.item_list()?;
                if !matches!(next, Parsed::End) {
                    return Err(self.errorf(format_args!("expected end; found {}", next.describe())));
                }
                else_list = Some(l);
            }
        }
        self.vars.truncate(mark);
        self.depth -= 1;
        Ok(Box::new(Branch { pipe, list, else_list }))
    }

    fn pipeline(&mut self, context: &str, end: ItemType) -> PResult<Pipe> {
        let t = self.peek_non_space();
        let mut pipe = Pipe { pos: self.item(t).pos, is_assign: false, decl: Vec::new(), cmds: Vec::new() };
        loop {
            let v = self.peek_non_space();
            if self.typ(v) != ItemType::Variable {
                break;
            }
            self.next();
            let after = self.peek();
            let next = self.peek_non_space();
            let name = self.item(v).val.clone();
            match self.typ(next) {
                ItemType::Assign | ItemType::Declare => {
                    pipe.is_assign = self.typ(next) == ItemType::Assign;
                    self.next_non_space();
                    pipe.decl.push(name.clone());
                    self.vars.push(name);
                }
                ItemType::Char if self.item(next).val == "," => {
                    self.next_non_space();
                    pipe.decl.push(name.clone());
                    self.vars.push(name);
                    if context == "range" && pipe.decl.len() < 2 {
                        let p = self.peek_non_space();
                        match self.typ(p) {
                            ItemType::Variable | ItemType::RightDelim | ItemType::RightParen => {
                                continue;
                            }
                            _ => return Err(self.errorf("range can only initialize variables")),
                        }
                    }
                    return Err(self.errorf(format_args!("too many declarations in {context}")));
                }
                _ if self.typ(after) == ItemType::Space => self.backup3(v, after),
                _ => self.backup2(v),
            }
            break;
        }
        loop {
            let t = self.next_non_space();
            let typ = self.typ(t);
            if typ == end {
                self.check_pipeline(&pipe, context)?;
                return Ok(pipe);
            }
            use ItemType::*;
            match typ {
                Bool | CharConstant | Complex | Dot | Field | Identifier | Number | Nil | RawString | String
                | Variable | LeftParen => {
                    self.backup();
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                }
                _ => return Err(self.unexpected(t, context)),
            }
        }
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str) -> PResult<()> {
        if pipe.cmds.is_empty() {
            return Err(self.errorf(format_args!("missing value for {context}")));
        }
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                c.args[0],
                Arg::Bool { .. } | Arg::Dot { .. } | Arg::Nil { .. } | Arg::Number { .. } | Arg::String { .. }
            ) {
                return Err(self.errorf(format_args!("non executable command in pipeline stage {}", i + 1)));
            }
        }
        Ok(())
    }

    fn command(&mut self) -> PResult<Command> {
        let t = self.peek_non_space();
        let mut cmd = Command { pos: self.item(t).pos, args: Vec::new() };
        loop {
            self.peek_non_space();
            if let Some(op) = self.operand()? {
                cmd.args.push(op);
            }
            let t = self.next();
            match self.typ(t) {
                ItemType::Space => continue,
                ItemType::RightDelim | ItemType::RightParen => self.backup(),
                ItemType::Pipe => {}
                _ => return Err(self.unexpected(t, "operand")),
            }
            break;
        }
        if cmd.args.is_empty() {
            return Err(self.errorf("empty command"));
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        let p = self.peek();
        if self.typ(p) != ItemType::Field {
            return Ok(Some(node));
        }
        let pos = self.item(p).pos;
        let mut fields = Vec::new();
        loop {
            let p = self.peek();
            if self.typ(p) != ItemType::Field {
                break;
            }
            let t = self.next();
            fields.push(self.item(t).val[1..].to_string());
        }
        Ok(Some(match node {
            Arg::Field { mut idents, .. } => {
                idents.extend(fields);
                Arg::Field { pos, idents }
            }
            Arg::Variable { mut idents, .. } => {
                idents.extend(fields);
                Arg::Variable { pos, idents }
            }
            Arg::Bool { .. } | Arg::String { .. } | Arg::Number { .. } | Arg::Nil { .. } | Arg::Dot { .. } => {
                let s = crate::quote::go_quote(&node.to_string());
                return Err(self.errorf(format_args!("unexpected . after term {s}")));
            }
            node => Arg::Chain { pos, node: Box::new(node), fields },
        }))
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let t = self.next_non_space();
        let Item { typ, pos, val, .. } = self.item(t).clone();
        Ok(Some(match typ {
            ItemType::Identifier => match Func::lookup(&val) {
                Some(func) => Arg::Identifier { pos, name: val, func },
                None => {
                    let q = crate::quote::go_quote(&val);
                    return Err(self.errorf(format_args!("function {q} not defined")));
                }
            },
            ItemType::Dot => Arg::Dot { pos },
            ItemType::Nil => Arg::Nil { pos },
            ItemType::Variable => {
                let idents: Vec<String> = val.split('.').map(str::to_string).collect();
                if !self.vars.iter().any(|v| *v == idents[0]) {
                    let q = crate::quote::go_quote(&idents[0]);
                    return Err(self.errorf(format_args!("undefined variable {q}")));
                }
                Arg::Variable { pos, idents }
            }
            ItemType::Field => Arg::Field { pos, idents: val[1..].split('.').map(str::to_string).collect() },
            ItemType::Bool => Arg::Bool { pos, val: val == "true" },
            ItemType::CharConstant | ItemType::Complex | ItemType::Number => match new_number(&val, typ) {
                Ok(num) => Arg::Number { pos, num },
                Err(e) => return Err(self.errorf(e)),
            },
            ItemType::LeftParen => {
                self.enter()?;
                let p = self.pipeline("parenthesized pipeline", ItemType::RightParen)?;
                self.depth -= 1;
                Arg::Pipe(Box::new(p))
            }
            ItemType::String | ItemType::RawString => match unquote(&val) {
                Some(text) => Arg::String { pos, quoted: val, text },
                None => return Err(self.errorf("invalid syntax")),
            },
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }
}

// ---- literals -------------------------------------------------------------------------------

/// One decoded element of a quoted literal: a rune, or a raw byte from `\x` or octal escapes.
enum Unit {
    Rune(char),
    Byte(u8),
}

/// Go's `strconv.UnquoteChar`: decode one (possibly escaped) character at the start of `s`.
fn unquote_char(s: &str, quote: char) -> Option<(Unit, &str)> {
    let mut chars = s.chars();
    let c = chars.next()?;
    if c == quote && (quote == '\'' || quote == '"') {
        return None;
    }
    if c != '\\' {
        return Some((Unit::Rune(c), chars.as_str()));
    }
    let e = chars.next()?;
    let rest = chars.as_str();
    let simple = |c: char, rest| Some((Unit::Rune(c), rest));
    match e {
        'a' => simple('\x07', rest),
        'b' => simple('\x08', rest),
        'f' => simple('\x0c', rest),
        'n' => simple('\n', rest),
        'r' => simple('\r', rest),
        't' => simple('\t', rest),
        'v' => simple('\x0b', rest),
        'x' | 'u' | 'U' => {
            let n = match e {
                'x' => 2,
                'u' => 4,
                _ => 8,
            };
            let digits = rest.get(..n)?;
            if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            let v = u32::from_str_radix(digits, 16).ok()?;
            if e == 'x' {
                return Some((Unit::Byte(v as u8), &rest[n..]));
            }
            Some((Unit::Rune(char::from_u32(v)?), &rest[n..]))
        }
        '0'..='7' => {
            let digits = rest.get(..2)?;
            let mut v = e as u32 - '0' as u32;
            for b in digits.bytes() {
                if !(b'0'..=b'7').contains(&b) {
                    return None;
                }
                v = v * 8 + (b - b'0') as u32;
            }
            if v > 255 {
                return None;
            }
            Some((Unit::Byte(v as u8), &rest[2..]))
        }
        '\\' => simple('\\', rest),
        '\'' | '"' if e == quote => simple(e, rest),
        _ => None,
    }
}

/// Go's `strconv.Unquote` for `"..."` and `` `...` `` literals. `None` is Go's "invalid syntax".
/// Byte escapes that do not form valid UTF-8 become U+FFFD (Rust strings are UTF-8).
fn unquote(s: &str) -> Option<String> {
    if let Some(inner) = s.strip_prefix('`').and_then(|s| s.strip_suffix('`')) {
        if s.len() < 2 || inner.contains('`') {
            return None;
        }
        return Some(inner.replace('\r', ""));
    }
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    if s.len() < 2 || inner.contains('\n') {
        return None;
    }
    let mut buf = Vec::with_capacity(inner.len());
    let mut rest = inner;
    while !rest.is_empty() {
        let (u, r) = unquote_char(rest, '"')?;
        match u {
            Unit::Rune(c) => {
                let mut b = [0; 4];
                buf.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
            Unit::Byte(b) => buf.push(b),
        }
        rest = r;
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

/// Go's `underscoreOK`: underscores only between digits, or between a base prefix and a digit.
fn underscore_ok(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let b = s.as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = b[1].eq_ignore_ascii_case(&b'x');
    }
    for &c in &b[i..] {
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
    }
    saw != b'_'
}

/// Go's `strconv.ParseUint(s, 0, 64)` and `ParseInt(s, 0, 64)`: base prefixes, underscores.
fn parse_int_base0(s: &str) -> (Option<u64>, Option<i64>) {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let signed = s.starts_with(['+', '-']);
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || (s.contains('_') && !underscore_ok(s)) {
        return (None, None);
    }
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    if clean.is_empty() || clean.starts_with(['+', '-']) {
        return (None, None);
    }
    let Ok(mag) = u128::from_str_radix(&clean, radix) else {
        return (None, None);
    };
    let uint = if signed || mag > u64::MAX as u128 { None } else { Some(mag as u64) };
    let int =
        if neg { (mag <= i64::MAX as u128 + 1).then(|| (-(mag as i128)) as i64) } else { i64::try_from(mag).ok() };
    (uint, int)
}

/// Go's `strconv.ParseFloat(s, 64)` for decimal syntax (hex floats are not supported).
fn parse_float(s: &str) -> Option<f64> {
    let body = s.trim_start_matches(['+', '-']);
    if s.len() - body.len() > 1 || (s.contains('_') && !underscore_ok(s)) {
        return None;
    }
    let neg = s.starts_with('-');
    let clean: String = body.chars().filter(|&c| c != '_').collect();
    let v = if let Some(hex) = clean.strip_prefix("0x").or_else(|| clean.strip_prefix("0X")) {
        parse_hex_float(hex)?
    } else {
        if clean.is_empty()
            || !clean.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        {
            return None;
        }
        clean.parse::<f64>().ok()?
    };
    // Out of range is strconv's error, not infinity.
    v.is_finite().then_some(if neg { -v } else { v })
}

/// The digits of a Go hexadecimal floating-point literal after `0x`: `1.8p+3`. The `p`
/// exponent is required.
fn parse_hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = s.split_once(['p', 'P'])?;
    let exp: i32 = exp.parse().ok()?;
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int.chars().chain(frac.chars()) {
        v = v * 16.0 + f64::from(c.to_digit(16)?);
    }
    Some(v * 2f64.powi(exp - 4 * frac.len() as i32))
}

/// Go's `newNumber`: interpret a number or character literal.
fn new_number(text: &str, typ: ItemType) -> Result<Number, String> {
    let mut n = Number { text: text.to_string(), is_int: false, is_uint: false, is_float: false, int: 0, float: 0.0 };
    let illegal = || format!("illegal number syntax: {}", crate::quote::go_quote(text));
    match typ {
        ItemType::CharConstant => {
            let (u, tail) = unquote_char(&text[1..], '\'').ok_or("invalid syntax")?;
            if tail != "'" {
                return Err(format!("malformed character constant: {text}"));
            }
            let v = match u {
                Unit::Rune(c) => c as i64,
                Unit::Byte(b) => b as i64,
            };
            n.is_int = true;
            n.is_uint = true;
            n.is_float = true;
            n.int = v;
            n.float = v as f64;
            return Ok(n);
        }
        // Complex numbers have no counterpart in this engine's values.
        ItemType::Complex => return Err(illegal()),
        _ => {}
    }
    if text.ends_with('i') {
        return Err(illegal());
    }
    let (u, i) = parse_int_base0(text);
    if let Some(u) = u {
        n.is_uint = true;
        n.float = u as f64;
    }
    if let Some(i) = i {
        n.is_int = true;
        n.int = i;
        if i == 0 {
            n.is_uint = true;
        }
    }
    if n.is_int {
        n.is_float = true;
        n.float = n.int as f64;
    } else if n.is_uint {
        n.is_float = true;
    } else if let Some(f) = parse_float(text) {
        if !text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Err(format!("integer overflow: {}", crate::quote::go_quote(text)));
        }
        n.is_float = true;
        n.float = f;
        if f.fract() == 0.0 && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) {
            n.is_int = true;
            n.int = f as i64;
        }
        if f.fract() == 0.0 && (0.0..1.844_674_407_370_955_2e19).contains(&f) {
            n.is_uint = true;
        }
    }
    if !n.is_int && !n.is_uint && !n.is_float {
        return Err(illegal());
    }
    Ok(n)
}
