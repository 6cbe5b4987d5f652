//! The parser: a port of Go's `text/template/parse/parse.go`, building the tree of [`node`].

mod literal;
mod node;

use super::TemplateError;
use super::funcs::Func;
use super::lex::{Item, ItemType, lex};
use literal::{new_number, unquote};
pub(super) use node::{Arg, Branch, Command, List, Node, Number, Pipe, TreeSet};

/// Deepest nesting of parentheses and control structures accepted. Go allows 10000
/// parenthesised levels; recursion that deep could overflow a Rust thread's stack, so the limit
/// is lower here (with Go's message).
const MAX_DEPTH: usize = 100;

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

    fn errorf(&self, msg: impl std::fmt::Display) -> TemplateError {
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
