//! Property test: no template text makes the parser or the executor panic, overflow the stack
//! or run away. Runs in CI with the rest of `cargo test` in a few seconds; the cargo-fuzz
//! target `fuzz/fuzz_targets/template.rs` goes further on demand.

use std::collections::BTreeMap;
use std::io;

use gotemplate::{Funcs, Object, Template, TemplateError, Value};
use proptest::prelude::*;

/// A struct-like object with a field, a method with an argument, and a failing method.
struct Obj;

impl Object for Obj {
    fn type_name(&self) -> &str {
        "*test.obj"
    }

    fn get(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        match (name, args) {
            ("Name", []) => Some(Ok(Value::str("obj"))),
            ("Label", [Value::Str(k)]) => Some(Ok(Value::str(k.to_uppercase()))),
            ("Fail", _) => Some(Err("boom".into())),
            _ => None,
        }
    }

    fn json_fields(&self) -> Vec<(String, Value)> {
        vec![("Name".into(), Value::str("<obj>"))]
    }

    fn json_escapes_html(&self) -> bool {
        true
    }

    fn display(&self) -> String {
        "&{obj}".into()
    }
}

fn data() -> Value {
    let mut m = BTreeMap::new();
    m.insert("Name".to_owned(), Value::str("web"));
    m.insert("List".to_owned(), Value::list(vec![Value::str("a"), Value::Int(2), Value::Nil]));
    m.insert("Map".to_owned(), Value::map(BTreeMap::from([("k".to_owned(), Value::str("v"))])));
    m.insert("Nil".to_owned(), Value::Map(None));
    m.insert("F".to_owned(), Value::Float(1.5));
    m.insert("Obj".to_owned(), Value::object(Obj));
    Value::map(m)
}

/// A writer that fails after a megabyte, as a closed pipe does: long outputs end.
struct Capped(usize);

impl io::Write for Capped {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        if self.0 + b.len() > 1 << 20 {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        self.0 += b.len();
        Ok(b.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn check(src: &str) {
    if let Ok(t) = Template::parse(src) {
        for funcs in [Funcs::Docker, Funcs::DockerHeader] {
            match t.execute_with(&data(), &mut Capped(0), funcs) {
                Ok(()) | Err(TemplateError::Write(_)) => {}
                Err(TemplateError::Exec(m)) => assert!(m.starts_with("template: "), "{src:?}: {m}"),
                Err(TemplateError::Parse(m)) => panic!("{src:?}: parse error at execution: {m}"),
            }
        }
    }
}

/// Template text built from the language's own pieces, so that most inputs get past the
/// lexer. Numbers carry a space so that adjacent ones never make a huge `range` count.
fn grammar() -> impl Strategy<Value = String> {
    let atoms: Vec<&'static str> = vec![
        "{{",
        "}}",
        "{{- ",
        " -}}",
        " ",
        "\n",
        ".",
        ".Name",
        ".List",
        ".Map",
        ".Map.k",
        ".Nil",
        ".F",
        ".Obj",
        ".Obj.Name",
        ".Obj.Label",
        ".Obj.Fail",
        "$",
        "$x",
        "$x := ",
        "$x = ",
        "$i, $e := ",
        "|",
        "(",
        ")",
        "\"s\"",
        "\"%d %s %v %q %x %5.2f %*d %[2]v %-8.3e %!\"",
        "`r`",
        "'c'",
        "1 ",
        "3 ",
        "-2 ",
        "0x10 ",
        "1.5e3 ",
        "nil",
        "true",
        "if ",
        "else ",
        "else if ",
        "end",
        "range ",
        "with ",
        "break",
        "continue",
        "define \"t\"",
        "template \"t\" ",
        "block \"b\" ",
        "printf ",
        "print ",
        "println ",
        "index ",
        "slice ",
        "len ",
        "eq ",
        "ne ",
        "lt ",
        "ge ",
        "and ",
        "or ",
        "not ",
        "call ",
        "html ",
        "js ",
        "urlquery ",
        "json ",
        "split ",
        "join ",
        "title ",
        "lower ",
        "upper ",
        "pad ",
        "truncate ",
        "/* c */",
        ",",
        "é",
        "\t",
        "{{end}}",
        "{{else}}",
        "{{range .List}}",
        "{{template \"t\" .}}",
    ];
    prop::collection::vec(prop::sample::select(atoms), 0..16).prop_map(|v| v.concat())
}

/// Inputs that once went wrong; checked on every run.
#[test]
fn known_inputs() {
    for src in [
        "{{define \"t\"}}{{template \"t\" .}}{{end}}{{template \"t\" .}}",
        "{{define \"t\"}}{{range .List}}{{template \"t\" $}}{{end}}{{end}}{{template \"t\" .}}",
        "{{$x := printf \"%1000000d\" 1}}{{range 40}}{{$x = printf \"%s%s\" $x $x}}{{end}}",
        "{{range 100}}{{range 100}}{{range 100}}{{printf \"%1000d\" .}}{{end}}{{end}}{{end}}",
        "{{printf \"%99999999d\" 1}}{{printf \"%*d\" 10000000 1}}{{printf \"%.*f\" 2000000 1.5}}",
        "{{len (split (printf \"%3000000s\" \"\") \"\")}}",
    ] {
        check(src);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(src in any::<String>()) {
        check(&src);
    }

    #[test]
    fn grammar_text_never_panics(src in grammar()) {
        check(&src);
    }
}
