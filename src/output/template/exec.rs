//! The executor: a port of Go's `text/template/exec.go` over [`Value`]s.

use super::fmt::{type_name, write_v};
use super::funcs::{Func, Param, truth};
use super::parse::{Arg, Branch, Command, List, Node, Pipe};
use super::{TemplateError, Value};

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

struct State<'t, 'o> {
    text: &'t str,
    out: &'o mut String,
    at: At<'t>,
    vars: Vec<(&'t str, Val)>,
}

/// Run `root` (parsed from `text`) with `dot` as data, appending to `out`.
pub(super) fn execute(text: &str, root: &List, dot: &Value, out: &mut String) -> EResult<()> {
    let dot: Val = match dot {
        Value::Nil => None,
        v => Some(v.clone()),
    };
    let mut s = State { text, out, at: At::None, vars: vec![("$", dot.clone())] };
    s.walk_list(&dot, root)?;
    Ok(())
}

impl<'t> State<'t, '_> {
    fn at(&mut self, at: At<'t>) {
        self.at = at;
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
        TemplateError::Exec(format!("template: :{line}:{col}: executing \"\" at <{context}>: {msg}"))
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
        match node {
            Node::Text(t) => self.out.push_str(t),
            Node::Action { pipe } => {
                self.at(At::Node(node, pipe.pos));
                let val = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    self.at(At::Node(node, pipe.pos));
                    match &val {
                        None => self.out.push_str("<no value>"),
                        Some(v) => write_v(self.out, v),
                    }
                }
            }
            Node::If(b) => return self.walk_if_or_with(false, dot, b, node),
            Node::With(b) => return self.walk_if_or_with(true, dot, b, node),
            Node::Range(b) => return self.walk_range(dot, b, node),
            Node::Break => return Ok(Flow::Break),
            Node::Continue => return Ok(Flow::Continue),
        }
        Ok(Flow::Normal)
    }

    fn walk_if_or_with(&mut self, with: bool, dot: &Val, b: &'t Branch, node: &'t Node) -> EResult<Flow> {
        self.at(At::Node(node, b.pipe.pos));
        let mark = self.vars.len();
        let val = self.eval_pipeline(dot, &b.pipe)?;
        let flow = if truth(&val) {
            if with { self.walk_list(&val, &b.list)? } else { self.walk_list(dot, &b.list)? }
        } else if let Some(e) = &b.else_list {
            self.walk_list(dot, e)?
        } else {
            Flow::Normal
        };
        self.vars.truncate(mark);
        Ok(flow)
    }

    fn set_var(&mut self, name: &str, value: Val) -> EResult<()> {
        match self.vars.iter_mut().rev().find(|(n, _)| *n == name) {
            Some(slot) => {
                slot.1 = value;
                Ok(())
            }
            None => Err(self.errorf(format_args!("undefined variable: {name}"))),
        }
    }

    fn set_top_var(&mut self, n: usize, value: Val) {
        let len = self.vars.len();
        if let Some(slot) = len.checked_sub(n).and_then(|i| self.vars.get_mut(i)) {
            slot.1 = value;
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
                self.set_top_var(1, elem.clone());
            }
        }
        if decl.len() > 1 {
            if r.pipe.is_assign {
                self.set_var(&decl[1], elem.clone())?;
            } else {
                self.set_top_var(2, index);
            }
        }
        let flow = self.walk_list(&elem, &r.list)?;
        self.vars.truncate(mark);
        Ok(flow)
    }

    fn walk_range(&mut self, dot: &Val, r: &'t Branch, node: &'t Node) -> EResult<Flow> {
        self.at(At::Node(node, r.pipe.pos));
        let outer = self.vars.len();
        let val = self.eval_pipeline(dot, &r.pipe)?;
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
                for (k, e) in m {
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
                write_v(&mut s, v);
                return Err(self.errorf(format_args!("range can't iterate over {s}")));
            }
        }
        if !ran && let Some(e) = &r.else_list {
            self.walk_list(dot, e)?;
        }
        self.vars.truncate(outer);
        Ok(Flow::Normal)
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
                self.vars.push((name.as_str(), value.clone()));
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
                return self.eval_pipeline(dot, p);
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
        let value = match self.vars.iter().rev().find(|(n, _)| *n == idents[0]) {
            Some((_, v)) => v.clone(),
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

    fn eval_field(
        &mut self,
        dot: &Val,
        name: &str,
        node: &'t Arg,
        args: &'t [Arg],
        fin: Final,
        recv: Val,
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
                Ok(match m.as_ref().and_then(|m| m.get(name)) {
                    None | Some(Value::Nil) => None,
                    Some(v) => Some(v.clone()),
                })
            }
            Some(v) => Err(self.errorf(format_args!("can't evaluate field {name} in type {}", type_name(&v)))),
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
        let (fixed, variadic) = func.signature();
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
                None => argv.first().cloned().flatten().map_or(String::new(), |v| super::fmt::to_v(&v)),
            };
            self.at(node);
            return Err(match argv.first() {
                Some(None) | Some(Some(Value::Nil)) | None => self.errorf("error calling call: call of nil"),
                Some(Some(v)) => {
                    self.errorf(format_args!("error calling call: non-function {callee} of type {}", type_name(v)))
                }
            });
        }
        match func.call(&argv) {
            Ok(v) => Ok(v),
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
            (None | Some(Value::Nil), Param::StrList) => return Ok(Some(Value::List(Vec::new()))),
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
                    Some(Param::StrList) => Ok(Some(Value::List(Vec::new()))),
                    Some(t) => Err(self.errorf(format_args!("cannot assign nil to {}", t.go_name()))),
                };
            }
            Arg::Field { idents, .. } => {
                self.at(At::Arg(n));
                self.eval_field_chain(dot, dot.clone(), n, idents, std::slice::from_ref(n), None)?
            }
            Arg::Variable { .. } => self.eval_variable(dot, n, &[], None)?,
            Arg::Pipe(p) => self.eval_pipeline(dot, p)?,
            Arg::Identifier { name, func, .. } => {
                self.at(At::Arg(n));
                self.eval_call(dot, *func, At::Arg(n), name, &[], None)?
            }
            Arg::Chain { .. } => self.eval_chain(dot, n, &[], None)?,
            _ => return self.eval_literal(typ, n),
        };
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
