//! The executor: a port of Go's `text/template/exec.go` over [`Value`]s, writing to an
//! [`io::Write`] as it goes.

use std::fmt::{self, Write as _};
use std::io;

use super::funcs::{Func, Param, truth};
use super::parse::{Arg, Branch, Command, List, Node, Pipe, TreeSet};
use super::printf::{type_name, write_v};
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

    /// Go's `%v` of a value, to the output.
    fn print_value(&mut self, v: &Value) -> EResult<()> {
        if write_v(&mut self.out, v).is_err() {
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
                let _ = write_v(&mut s, v);
                return Err(self.errorf(format_args!("range can't iterate over {s}")));
            }
        }
        if !ran && let Some(e) = &r.else_list {
            self.walk_list(dot, e)?;
        }
        Ok(())
    }

    fn eval_pipeline(&mut self, dot: &Val, pipe: &'t Pipe) -> EResult<Val> {
        self.at(At::Pipe(pipe));
        let mut value: Final = None;
        for cmd in &pipe.cmds {
            value = Some(self.eval_command(dot, cmd, value)?);
        }
        let value = value.flatten();
        for name in &pipe.decl {
            if pipe.is_assign {
                self.set_var(name, value.clone())?;
            } else {
                self.push_var(name.as_str(), value.clone())?;
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, args: &'t [Arg], fin: &Final) -> EResult<()> {
        if args.len() > 1 || fin.is_some() {
            return Err(self.errorf(format_args!("can't give argument to non-function {}", args[0])));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Val, cmd: &'t Command, fin: Final) -> EResult<Val> {
        let first = &cmd.args[0];
        match first {
            Arg::Field { idents, .. } => {
                self.at(At::Arg(first));
                return self.eval_field_chain(dot, dot.clone(), first, idents, &cmd.args, fin);
            }
            Arg::Chain { .. } => return self.eval_chain(dot, first, &cmd.args, fin),
            Arg::Identifier { name, func, .. } => {
                self.at(At::Arg(first));
                return self.eval_call(dot, *func, At::Cmd(cmd), name, &cmd.args, fin);
            }
            Arg::Pipe(p) => {
                self.not_a_function(&cmd.args, &fin)?;
                return self.eval_nested(dot, p);
            }
            Arg::Variable { .. } => return self.eval_variable(dot, first, &cmd.args, fin),
            _ => {}
        }
        self.at(At::Arg(first));
        self.not_a_function(&cmd.args, &fin)?;
        match first {
            Arg::Bool { val, .. } => Ok(Some(Value::Bool(*val))),
            Arg::Dot { .. } => Ok(dot.clone()),
            Arg::Nil { .. } => Err(self.errorf("nil is not a command")),
            Arg::Number { .. } => self.ideal_constant(first),
            Arg::String { text, .. } => Ok(Some(Value::Str(text.clone()))),
            _ => Err(self.errorf(format_args!("can't evaluate command {first}"))),
        }
    }

    /// A parenthesized pipeline.
    fn eval_nested(&mut self, dot: &Val, p: &'t Pipe) -> EResult<Val> {
        self.enter()?;
        let v = self.eval_pipeline(dot, p);
        self.depth -= 1;
        v
    }

    fn ideal_constant(&mut self, n: &'t Arg) -> EResult<Val> {
        self.at(At::Arg(n));
        let Arg::Number { num, .. } = n else {
            return Ok(None);
        };
        let t = &num.text;
        let hex_int =
            t.len() > 2 && t.starts_with('0') && matches!(t.as_bytes()[1], b'x' | b'X') && !t.contains(['p', 'P']);
        if num.is_float && !hex_int && !t.starts_with('\'') && t.contains(['.', 'e', 'E', 'p', 'P']) {
            return Ok(Some(Value::Float(num.float)));
        }
        if num.is_int {
            return Ok(Some(Value::Int(num.int)));
        }
        if num.is_uint {
            return Err(self.errorf(format_args!("{t} overflows int")));
        }
        Ok(None)
    }

    fn eval_chain(&mut self, dot: &Val, chain: &'t Arg, args: &'t [Arg], fin: Final) -> EResult<Val> {
        self.at(At::Arg(chain));
        let Arg::Chain { node, fields, .. } = chain else {
            return Ok(None);
        };
        if let Arg::Nil { .. } = **node {
            return Err(self.errorf(format_args!("indirection through explicit nil in {chain}")));
        }
        let recv = self.eval_arg(dot, None, node)?;
        self.eval_field_chain(dot, recv, chain, fields, args, fin)
    }

    fn eval_variable(&mut self, dot: &Val, var: &'t Arg, args: &'t [Arg], fin: Final) -> EResult<Val> {
        self.at(At::Arg(var));
        let Arg::Variable { idents, .. } = var else {
            return Ok(None);
        };
        let value = match self.vars.iter().rev().find(|v| v.name == idents[0]) {
            Some(v) => v.val.clone(),
            None => return Err(self.errorf(format_args!("undefined variable: {}", idents[0]))),
        };
        if idents.len() == 1 {
            self.not_a_function(args, &fin)?;
            return Ok(value);
        }
        self.eval_field_chain(dot, value, var, &idents[1..], args, fin)
    }

    fn eval_field_chain(
        &mut self,
        dot: &Val,
        mut recv: Val,
        node: &'t Arg,
        idents: &'t [String],
        args: &'t [Arg],
        fin: Final,
    ) -> EResult<Val> {
        let n = idents.len();
        for ident in &idents[..n - 1] {
            recv = self.eval_field(dot, ident, node, &[], None, recv)?;
        }
        self.eval_field(dot, &idents[n - 1], node, args, fin, recv)
    }

    /// Go's `evalField`. A value read from a map of mixed values has Go's static type
    /// `interface {}`, which is what a failed field access on it names.
    fn eval_field(
        &mut self,
        dot: &Val,
        name: &str,
        node: &'t Arg,
        args: &'t [Arg],
        fin: Final,
        recv: Val,
    ) -> EResult<Val> {
        let iface = std::mem::take(&mut self.iface);
        let v = self.eval_field_of(dot, name, node, args, fin, recv, iface)?;
        Ok(v)
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_field_of(
        &mut self,
        dot: &Val,
        name: &str,
        node: &'t Arg,
        args: &'t [Arg],
        fin: Final,
        recv: Val,
        iface: bool,
    ) -> EResult<Val> {
        let has_args = args.len() > 1 || fin.is_some();
        match recv {
            None => Ok(None),
            Some(Value::Nil) => Err(self.errorf(format_args!("nil pointer evaluating interface {{}}.{name}"))),
            Some(Value::Object(o)) => {
                let mut argv = Vec::new();
                if has_args {
                    for a in args.iter().skip(1) {
                        let v = self.eval_arg(dot, Some(Param::Any), a)?;
                        argv.push(v.unwrap_or(Value::Nil));
                    }
                    if let Some(f) = fin {
                        argv.push(f.unwrap_or(Value::Nil));
                    }
                }
                match o.get(name, &argv) {
                    None if o.is_map() => {
                        if has_args {
                            self.at(At::Arg(node));
                            return Err(self.errorf(format_args!("{name} is not a method but has arguments")));
                        }
                        Ok(None)
                    }
                    None => {
                        // Evaluating the arguments moved the error position; Go reports the field.
                        self.at(At::Arg(node));
                        Err(self.errorf(format_args!("can't evaluate field {name} in type {}", o.type_name())))
                    }
                    Some(Ok(v)) => Ok(Some(v)),
                    Some(Err(e)) => {
                        self.at(At::Arg(node));
                        if e.starts_with("wrong number of args for ") || e.starts_with("wrong type for value; ") {
                            // Go's own call checks, reported without "error calling".
                            return Err(self.errorf(e));
                        }
                        Err(self.errorf(format_args!("error calling {name}: {e}")))
                    }
                }
            }
            Some(Value::Map(m)) => {
                if has_args {
                    return Err(self.errorf(format_args!("{name} is not a method but has arguments")));
                }
                self.iface = super::printf::elem_type(m.iter().flat_map(|m| m.values())) == "interface {}";
                Ok(match m.as_ref().and_then(|m| m.get(name)) {
                    None | Some(Value::Nil) => None,
                    Some(v) => Some(v.clone()),
                })
            }
            Some(v) => {
                let typ = if iface { "interface {}".into() } else { type_name(&v) };
                Err(self.errorf(format_args!("can't evaluate field {name} in type {typ}")))
            }
        }
    }

    /// Go's `evalCall` for builtin and Docker functions. `args[0]` is the function itself
    /// (absent when the function is an argument of another command).
    fn eval_call(
        &mut self,
        dot: &Val,
        func: Func,
        node: At<'t>,
        name: &str,
        args: &'t [Arg],
        fin: Final,
    ) -> EResult<Val> {
        let args = if args.is_empty() { args } else { &args[1..] };
        let (fixed, variadic) = func.signature(self.funcs);
        let num_in = args.len() + usize::from(fin.is_some());
        let num_fixed = if variadic.is_some() {
            if num_in < fixed.len() {
                return Err(self.errorf(format_args!(
                    "wrong number of args for {name}: want at least {} got {}",
                    fixed.len(),
                    args.len()
                )));
            }
            fixed.len()
        } else {
            if num_in != fixed.len() {
                return Err(
                    self.errorf(format_args!("wrong number of args for {name}: want {} got {num_in}", fixed.len()))
                );
            }
            args.len()
        };

        if matches!(func, Func::And | Func::Or) {
            let want = func == Func::Or;
            let mut v = None;
            for a in args {
                v = self.eval_arg(dot, Some(Param::Reflect), a)?;
                if truth(&v) == want {
                    return Ok(v);
                }
            }
            if let Some(f) = fin {
                v = f;
            }
            return Ok(v);
        }

        let mut argv: Vec<Val> = Vec::with_capacity(num_in);
        let mut i = 0;
        while i < num_fixed && i < args.len() {
            argv.push(self.eval_arg(dot, Some(fixed[i]), &args[i])?);
            i += 1;
        }
        if let Some(vt) = variadic {
            for a in &args[i..] {
                argv.push(self.eval_arg(dot, Some(vt), a)?);
            }
        }
        if let Some(f) = fin {
            let t = match variadic {
                Some(vt) if num_in > num_fixed => vt,
                _ => fixed[num_in - 1],
            };
            argv.push(self.validate_type(f, t)?);
        }
        if func == Func::Call {
            let callee = match args.first() {
                Some(a) => a.to_string(),
                None => argv.first().cloned().flatten().map_or(String::new(), |v| super::printf::to_v(&v)),
            };
            self.at(node);
            return Err(match argv.first() {
                Some(None) | Some(Some(Value::Nil)) | None => self.errorf("error calling call: call of nil"),
                Some(Some(v)) => {
                    self.errorf(format_args!("error calling call: non-function {callee} of type {}", type_name(v)))
                }
            });
        }
        let room = self.room();
        match func.call(self.funcs, &argv, room) {
            Ok(v) => {
                self.at(node);
                self.charge(value_size(&v))?;
                Ok(v)
            }
            Err(e) => {
                self.at(node);
                Err(self.errorf(format_args!("error calling {name}: {e}")))
            }
        }
    }

    /// Go's `validateType`: check a computed value against a parameter type.
    fn validate_type(&self, v: Val, typ: Param) -> EResult<Val> {
        let ok = match (&v, typ) {
            (_, Param::Reflect) => return Ok(v),
            (None, Param::Any) => return Ok(Some(Value::Nil)),
            (_, Param::Any) => true,
            (None | Some(Value::Nil), Param::StrList) => return Ok(Some(Value::list(Vec::new()))),
            (None | Some(Value::Nil), _) => {
                return Err(self.errorf(format_args!("invalid value; expected {}", typ.go_name())));
            }
            (Some(Value::Str(_)), Param::Str) => true,
            (Some(Value::Int(_)), Param::Int) => true,
            (Some(Value::List(l)), Param::StrList) => l.iter().all(|e| matches!(e, Value::Str(_))),
            _ => false,
        };
        if !ok {
            let got = v.as_ref().map(type_name).unwrap_or_default();
            return Err(self.errorf(format_args!("wrong type for value; expected {}; got {got}", typ.go_name())));
        }
        Ok(v)
    }

    /// Go's `evalArg`. `typ` None evaluates without a type check (chain receivers).
    fn eval_arg(&mut self, dot: &Val, typ: Option<Param>, n: &'t Arg) -> EResult<Val> {
        self.at(At::Arg(n));
        let v = match n {
            Arg::Dot { .. } => dot.clone(),
            Arg::Nil { .. } => {
                return match typ {
                    None | Some(Param::Reflect) => Ok(None),
                    Some(Param::Any) => Ok(Some(Value::Nil)),
                    Some(Param::StrList) => Ok(Some(Value::list(Vec::new()))),
                    Some(t) => Err(self.errorf(format_args!("cannot assign nil to {}", t.go_name()))),
                };
            }
            Arg::Field { idents, .. } => {
                self.at(At::Arg(n));
                self.eval_field_chain(dot, dot.clone(), n, idents, std::slice::from_ref(n), None)?
            }
            Arg::Variable { .. } => self.eval_variable(dot, n, &[], None)?,
            Arg::Pipe(p) => self.eval_nested(dot, p)?,
            Arg::Identifier { name, func, .. } => {
                self.at(At::Arg(n));
                self.eval_call(dot, *func, At::Arg(n), name, &[], None)?
            }
            Arg::Chain { .. } => self.eval_chain(dot, n, &[], None)?,
            _ => return self.eval_literal(typ, n),
        };
        if let Some(Value::Str(s)) = &v {
            self.charge(s.len())?;
        }
        match typ {
            None => Ok(v),
            Some(t) => self.validate_type(v, t),
        }
    }

    fn eval_literal(&mut self, typ: Option<Param>, n: &'t Arg) -> EResult<Val> {
        match (typ, n) {
            (Some(Param::Str), Arg::String { text, .. }) => Ok(Some(Value::Str(text.clone()))),
            (Some(Param::Str), _) => Err(self.errorf(format_args!("expected string; found {n}"))),
            (Some(Param::Int), Arg::Number { num, .. }) if num.is_int => Ok(Some(Value::Int(num.int))),
            (Some(Param::Int), _) => Err(self.errorf(format_args!("expected integer; found {n}"))),
            (Some(Param::StrList), _) => Err(self.errorf(format_args!("can't handle {n} for arg of type []string"))),
            (_, Arg::Bool { val, .. }) => Ok(Some(Value::Bool(*val))),
            (_, Arg::Number { .. }) => self.ideal_constant(n),
            (_, Arg::String { text, .. }) => Ok(Some(Value::Str(text.clone()))),
            _ => Err(self.errorf(format_args!("can't handle assignment of {n} to empty interface argument"))),
        }
    }
}
