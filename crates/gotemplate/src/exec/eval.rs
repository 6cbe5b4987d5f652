//! Evaluation: a port of the `eval*` half of Go's `text/template/exec.go`, giving pipelines,
//! commands, fields, variables, function calls and their arguments a value.

use super::{At, EResult, Final, State, Val, value_size};
use crate::Value;
use crate::funcs::{Func, Param, truth};
use crate::parse::{Arg, Command, Pipe};
use crate::printf::type_name;

impl<'t> State<'t, '_> {
    pub(super) fn eval_pipeline(&mut self, dot: &Val, pipe: &'t Pipe) -> EResult<Val> {
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
                self.iface = crate::printf::elem_type(m.iter().flat_map(|m| m.values())) == "interface {}";
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
                None => argv.first().cloned().flatten().map_or(String::new(), |v| crate::printf::to_v(&v)),
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
    pub(super) fn eval_arg(&mut self, dot: &Val, typ: Option<Param>, n: &'t Arg) -> EResult<Val> {
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
