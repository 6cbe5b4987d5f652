//! The executor: a port of Go's `text/template/exec.go` over [`Value`]s, writing to an
//! [`io::Write`] as it goes.

mod eval;

use std::fmt::{self, Write as _};
use std::io;

use super::funcs::truth;
use super::parse::{Arg, Branch, Command, List, Node, Pipe, TreeSet};
use super::printf::write_v_indirect;
use super::{Funcs, MAX_EXEC_DEPTH, MAX_VALUES_BYTES, TemplateError, Value};

/// A value during execution. `None` is Go's invalid `reflect.Value` ("no value"): what a
/// missing map key or a nil interface yields. It prints as `<no value>`.
pub(super) type Val = Option<Value>;

/// Go's `missingVal` marker: no value is piped into a command.
type Final = Option<Val>;

type EResult<T> = Result<T, TemplateError>;

/// Where execution is, for error messages (Go's `state.node`).
#[derive(Clone, Copy)]
enum At<'t> {
    None,
    Node(&'t Node, usize),
    Pipe(&'t Pipe),
    Cmd(&'t Command),
    Arg(&'t Arg),
}

/// How a list of nodes ended.
#[derive(PartialEq, Eq)]
enum Flow {
    Normal,
    Break,
    Continue,
}

/// The output: an `io::Write` seen as a `fmt::Write`, keeping the first error.
struct Out<'o> {
    w: &'o mut dyn io::Write,
    err: Option<io::Error>,
}

impl fmt::Write for Out<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.w.write_all(s.as_bytes()).map_err(|e| {
            self.err = Some(e);
            fmt::Error
        })
    }
}

/// A variable: its name, value, and the bytes its value is counted for.
struct Var<'t> {
    name: &'t str,
    val: Val,
    size: usize,
}

struct State<'t, 'o> {
    text: &'t str,
    set: &'t TreeSet,
    /// The name of the template being executed (for error messages).
    tmpl: &'t str,
    out: Out<'o>,
    at: At<'t>,
    vars: Vec<Var<'t>>,
    funcs: Funcs,
    depth: usize,
    /// Bytes of the values being computed for the node being executed.
    pending: usize,
    /// Bytes of the values variables hold.
    held: usize,
    /// The value a field chain has reached came out of a map of mixed values.
    iface: bool,
}

/// Run the template named `""` of `set` (parsed from `text`) with `dot` as data.
pub(super) fn execute(text: &str, set: &TreeSet, dot: &Value, out: &mut dyn io::Write, funcs: Funcs) -> EResult<()> {
    let dot: Val = match dot {
        Value::Nil => None,
        v => Some(v.clone()),
    };
    let mut s = State {
        text,
        set,
        tmpl: "",
        out: Out { w: out, err: None },
        at: At::None,
        vars: Vec::new(),
        funcs,
        depth: 0,
        pending: 0,
        held: 0,
        iface: false,
    };
    s.push_var("$", dot.clone())?;
    let Some(root) = set.trees.get("") else {
        return Err(s.errorf("\"\" is an incomplete or empty template"));
    };
    s.walk_list(&dot, root)?;
    Ok(())
}

/// What a value is counted for against [`MAX_VALUES_BYTES`]: strings by length, lists and maps
/// by their entries (one level down), other values nothing.
pub(super) fn value_size(v: &Val) -> usize {
    let shallow = |v: &Value| match v {
        Value::Str(s) => s.len(),
        _ => 0,
    };
    match v {
        Some(Value::Str(s)) => s.len(),
        Some(Value::List(l)) => l.iter().map(|e| 32 + shallow(e)).sum(),
        Some(Value::Map(Some(m))) => m.iter().map(|(k, e)| 64 + k.len() + shallow(e)).sum(),
        _ => 0,
    }
}

impl<'t> State<'t, '_> {
    fn at(&mut self, at: At<'t>) {
        self.at = at;
    }

    /// Write text to the output; a write error stops execution.
    fn write(&mut self, s: &str) -> EResult<()> {
        if self.out.write_str(s).is_err() {
            return Err(self.write_error());
        }
        Ok(())
    }

    fn write_error(&mut self) -> TemplateError {
        TemplateError::Write(self.out.err.take().unwrap_or_else(|| io::Error::other("formatting failed")))
    }

    /// Go's `%v` of a value, to the output (a pointer as what it points to).
    fn print_value(&mut self, v: &Value) -> EResult<()> {
        if write_v_indirect(&mut self.out, v).is_err() {
            return Err(self.write_error());
        }
        Ok(())
    }

    /// The bytes values may still take.
    fn room(&self) -> usize {
        MAX_VALUES_BYTES.saturating_sub(self.pending + self.held)
    }

    /// Count `bytes` of values against the limit.
    fn charge(&mut self, bytes: usize) -> EResult<()> {
        if bytes > self.room() {
            return Err(self.errorf(format_args!("template values exceed the {} MiB limit", MAX_VALUES_BYTES >> 20)));
        }
        self.pending += bytes;
        Ok(())
    }

    fn push_var(&mut self, name: &'t str, val: Val) -> EResult<()> {
        let size = value_size(&val);
        if size > self.room() {
            return Err(self.errorf(format_args!("template values exceed the {} MiB limit", MAX_VALUES_BYTES >> 20)));
        }
        self.held += size;
        self.vars.push(Var { name, val, size });
        Ok(())
    }

    fn truncate_vars(&mut self, mark: usize) {
        for v in self.vars.drain(mark.min(self.vars.len())..) {
            self.held -= v.size;
        }
    }

    fn enter(&mut self) -> EResult<()> {
        if self.depth >= MAX_EXEC_DEPTH {
            return Err(self.errorf(format_args!("exceeded maximum template depth ({MAX_EXEC_DEPTH})")));
        }
        self.depth += 1;
        Ok(())
    }

    /// Go's `state.errorf`: prefix the message with the location and context of the node.
    fn errorf(&self, msg: impl std::fmt::Display) -> TemplateError {
        let (pos, context) = match self.at {
            At::None => return TemplateError::Exec(format!("template: : {msg}")),
            At::Node(n, pos) => (pos, n.to_string()),
            At::Pipe(p) => (p.pos, p.to_string()),
            At::Cmd(c) => (c.pos, c.to_string()),
            At::Arg(a) => (a.pos(), a.to_string()),
        };
        let pos = pos.min(self.text.len());
        let before = &self.text.as_bytes()[..pos];
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let col = match before.iter().rposition(|&b| b == b'\n') {
            Some(nl) => pos - (nl + 1),
            None => pos,
        };
        let name = crate::quote::go_quote(self.tmpl);
        TemplateError::Exec(format!("template: :{line}:{col}: executing {name} at <{context}>: {msg}"))
    }

    fn walk_list(&mut self, dot: &Val, list: &'t List) -> EResult<Flow> {
        for n in &list.nodes {
            let flow = self.walk(dot, n)?;
            if flow != Flow::Normal {
                return Ok(flow);
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(&mut self, dot: &Val, node: &'t Node) -> EResult<Flow> {
        let mark = self.pending;
        let flow = self.walk_node(dot, node);
        self.pending = mark;
        flow
    }

    fn walk_node(&mut self, dot: &Val, node: &'t Node) -> EResult<Flow> {
        match node {
            Node::Text(t) => self.write(t)?,
            Node::Action { pipe } => {
                self.at(At::Node(node, pipe.pos));
                let val = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    self.at(At::Node(node, pipe.pos));
                    match &val {
                        None => self.write("<no value>")?,
                        Some(v) => self.print_value(v)?,
                    }
                }
            }
            Node::If(b) => return self.walk_if_or_with(false, dot, b, node),
            Node::With(b) => return self.walk_if_or_with(true, dot, b, node),
            Node::Range(b) => return self.walk_range(dot, b, node),
            Node::Break => return Ok(Flow::Break),
            Node::Continue => return Ok(Flow::Continue),
            Node::Template { pos, name, pipe } => self.walk_template(dot, node, *pos, name, pipe.as_deref())?,
        }
        Ok(Flow::Normal)
    }

    /// Go's `walkTemplate`: run a defined template with the pipeline's value as dot and no
    /// variables but `$`.
    fn walk_template(
        &mut self,
        dot: &Val,
        node: &'t Node,
        pos: usize,
        name: &'t str,
        pipe: Option<&'t Pipe>,
    ) -> EResult<()> {
        self.at(At::Node(node, pos));
        let Some(tree) = self.set.trees.get(name) else {
            return Err(self.errorf(format_args!("template {} not defined", crate::quote::go_quote(name))));
        };
        if self.depth >= MAX_EXEC_DEPTH {
            return Err(self.errorf(format_args!("exceeded maximum template depth ({MAX_EXEC_DEPTH})")));
        }
        let dot = match pipe {
            Some(p) => self.eval_pipeline(dot, p)?,
            None => None,
        };
        self.depth += 1;
        let caller = std::mem::replace(&mut self.tmpl, name);
        let outer = std::mem::take(&mut self.vars);
        let held = std::mem::take(&mut self.held);
        let result = match self.push_var("$", dot.clone()) {
            Ok(()) => self.walk_list(&dot, tree),
            Err(e) => Err(e),
        };
        self.vars = outer;
        self.held = held;
        self.tmpl = caller;
        self.depth -= 1;
        result.map(|_| ())
    }

    fn walk_if_or_with(&mut self, with: bool, dot: &Val, b: &'t Branch, node: &'t Node) -> EResult<Flow> {
        self.at(At::Node(node, b.pipe.pos));
        let mark = self.vars.len();
        let val = self.eval_pipeline(dot, &b.pipe)?;
        self.enter()?;
        let flow = if truth(&val) {
            if with { self.walk_list(&val, &b.list) } else { self.walk_list(dot, &b.list) }
        } else if let Some(e) = &b.else_list {
            self.walk_list(dot, e)
        } else {
            Ok(Flow::Normal)
        };
        self.depth -= 1;
        self.truncate_vars(mark);
        flow
    }

    fn set_var(&mut self, name: &str, value: Val) -> EResult<()> {
        let size = value_size(&value);
        let Some(i) = self.vars.iter().rposition(|v| v.name == name) else {
            return Err(self.errorf(format_args!("undefined variable: {name}")));
        };
        self.replace_var(i, value, size)
    }

    fn replace_var(&mut self, i: usize, value: Val, size: usize) -> EResult<()> {
        let old = self.vars[i].size;
        if size > self.room() + old {
            return Err(self.errorf(format_args!("template values exceed the {} MiB limit", MAX_VALUES_BYTES >> 20)));
        }
        self.held = self.held - old + size;
        self.vars[i].val = value;
        self.vars[i].size = size;
        Ok(())
    }

    fn set_top_var(&mut self, n: usize, value: Val) -> EResult<()> {
        match self.vars.len().checked_sub(n) {
            Some(i) => {
                let size = value_size(&value);
                self.replace_var(i, value, size)
            }
            None => Ok(()),
        }
    }

    fn one_iteration(&mut self, r: &'t Branch, mark: usize, index: Val, elem: Val) -> EResult<Flow> {
        let decl = &r.pipe.decl;
        if !decl.is_empty() {
            if r.pipe.is_assign {
                if decl.len() > 1 {
                    self.set_var(&decl[0], index.clone())?;
                } else {
                    self.set_var(&decl[0], elem.clone())?;
                }
            } else {
                self.set_top_var(1, elem.clone())?;
            }
        }
        if decl.len() > 1 {
            if r.pipe.is_assign {
                self.set_var(&decl[1], elem.clone())?;
            } else {
                self.set_top_var(2, index)?;
            }
        }
        let flow = self.walk_list(&elem, &r.list)?;
        self.truncate_vars(mark);
        Ok(flow)
    }

    fn walk_range(&mut self, dot: &Val, r: &'t Branch, node: &'t Node) -> EResult<Flow> {
        self.at(At::Node(node, r.pipe.pos));
        let outer = self.vars.len();
        let val = self.eval_pipeline(dot, &r.pipe)?;
        self.enter()?;
        let result = self.range_over(dot, r, &val);
        self.depth -= 1;
        result?;
        self.truncate_vars(outer);
        Ok(Flow::Normal)
    }

    fn range_over(&mut self, dot: &Val, r: &'t Branch, val: &Val) -> EResult<()> {
        let mark = self.vars.len();
        let mut ran = false;
        match &val {
            Some(Value::List(l)) => {
                for (i, e) in l.iter().enumerate() {
                    ran = true;
                    let elem = if let Value::Nil = e { None } else { Some(e.clone()) };
                    if self.one_iteration(r, mark, Some(Value::Int(i as i64)), elem)? == Flow::Break {
                        break;
                    }
                }
            }
            Some(Value::Map(Some(m))) => {
                for (k, e) in m.iter() {
                    ran = true;
                    let elem = if let Value::Nil = e { None } else { Some(e.clone()) };
                    if self.one_iteration(r, mark, Some(Value::Str(k.clone())), elem)? == Flow::Break {
                        break;
                    }
                }
            }
            Some(Value::Int(n)) => {
                if r.pipe.decl.len() > 1 {
                    return Err(self.errorf(format_args!("can't use {n} to iterate over more than one variable")));
                }
                for i in 0..*n {
                    ran = true;
                    if self.one_iteration(r, mark, None, Some(Value::Int(i)))? == Flow::Break {
                        break;
                    }
                }
            }
            None | Some(Value::Nil) | Some(Value::Map(None)) => {}
            Some(v) => {
                let mut s = String::new();
                let _ = write_v_indirect(&mut s, v);
                return Err(self.errorf(format_args!("range can't iterate over {s}")));
            }
        }
        if !ran && let Some(e) = &r.else_list {
            self.walk_list(dot, e)?;
        }
        Ok(())
    }
}
