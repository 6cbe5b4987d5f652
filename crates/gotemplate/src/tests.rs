//! Table tests. Expected outputs and messages are what Go's text/template (with Docker's
//! functions) prints, worked out from Go's sources (lex.go, parse.go, exec.go, funcs.go, fmt).

use std::collections::BTreeMap;
use std::rc::Rc;

use super::*;

/// A stand-in for docker/cli's `*formatter.volumeContext`.
struct VolumeCtx {
    name: String,
    driver: String,
    labels: BTreeMap<String, String>,
}

impl Object for VolumeCtx {
    fn type_name(&self) -> &str {
        "*formatter.volumeContext"
    }

    fn get(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let v = match (name, args) {
            ("Name", []) => Value::Str(self.name.clone()),
            ("Driver", []) => Value::Str(self.driver.clone()),
            ("Labels", []) => Value::Str(
                self.labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            ("Label", [Value::Str(k)]) => {
                Value::Str(self.labels.get(k).cloned().unwrap_or_default())
            }
            ("Label", [_]) => return Some(Err("wrong type for value; expected string; got int".into())),
            ("Label", _) => return Some(Err(format!("wrong number of args for Label: want 1 got {}", args.len()))),
            ("Fail", _) => return Some(Err("boom".into())),
            ("Size", []) => Value::Int(42),
            ("UsageData", []) => Value::Nil,
            ("LabelMap", []) => Value::map(
                self.labels
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::Str(v.clone())))
                    .collect(),
            ),
            _ => return None,
        };
        Some(Ok(v))
    }

    fn json_fields(&self) -> Vec<(String, Value)> {
        let labels = self.labels.iter().map(|(k, v)| (k.clone(), s(v))).collect();
        vec![("Name".into(), s(&self.name)), ("Driver".into(), s(&self.driver)), ("Labels".into(), Value::map(labels))]
    }

    fn display(&self) -> String {
        format!("&{{{} {}}}", self.name, self.driver)
    }
}

fn vol() -> Value {
    let mut labels = BTreeMap::new();
    labels.insert("a".to_string(), "b".to_string());
    labels.insert("c".to_string(), "d".to_string());
    labels.insert("com.example.k".to_string(), "v<&>".to_string());
    Value::Object(Rc::new(VolumeCtx {
        name: "r1-a".into(),
        driver: "local".into(),
        labels,
    }))
}

fn s(x: &str) -> Value {
    Value::Str(x.to_string())
}

fn map(pairs: &[(&str, Value)]) -> Value {
    Value::map(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

/// Data with every kind of value.
fn data() -> Value {
    map(&[
        ("Name", s("web")),
        ("Labels", map(&[("a", s("b")), ("c", s("d"))])),
        ("List", Value::list(vec![s("x"), s("y"), s("z")])),
        ("Empty", Value::list(vec![])),
        ("Nums", Value::list(vec![Value::Int(1), Value::Int(2), Value::Int(3)])),
        ("N", Value::Int(3)),
        ("Zero", Value::Int(0)),
        ("F", Value::Float(1.5)),
        ("Big", Value::Float(1e21)),
        ("T", Value::Bool(true)),
        ("False", Value::Bool(false)),
        ("Null", Value::Nil),
        ("NilMap", Value::Map(None)),
        ("EmptyStr", s("")),
        ("Vol", vol()),
        ("Mixed", map(&[("n", Value::Int(1)), ("s", s("x")), ("z", Value::Nil)])),
        ("Html", s("<a href=\"x\">&'</a>")),
    ])
}

fn run(src: &str, dot: &Value) -> Result<String, String> {
    let t = Template::parse(src).map_err(|e| e.to_string())?;
    t.render(dot).map_err(|e| e.to_string())
}

fn check(cases: &[(&str, Value, Result<&str, &str>)]) {
    let mut failures = Vec::new();
    for (src, dot, want) in cases {
        let got = run(src, dot);
        let want = want.map(str::to_string).map_err(str::to_string);
        if got != want {
            failures.push(format!("{src:?}\n   got: {got:?}\n  want: {want:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn text_fields_and_methods() {
    let d = data();
    check(&[
        ("", d.clone(), Ok("")),
        ("plain text", d.clone(), Ok("plain text")),
        ("{{.Name}}", d.clone(), Ok("web")),
        ("a{{.Name}}b{{.Name}}c", d.clone(), Ok("awebbwebc")),
        ("{{.Vol.Name}}\t{{.Vol.Driver}}", d.clone(), Ok("r1-a\tlocal")),
        ("{{.Name}}", vol(), Ok("r1-a")),
        ("{{.Labels}}", vol(), Ok("a=b,c=d,com.example.k=v<&>")),
        ("{{.Label \"com.example.k\"}}", vol(), Ok("v<&>")),
        ("{{.Label \"nope\"}}", vol(), Ok("")),
        ("{{\"a\" | .Label}}", vol(), Ok("b")),
        ("{{.LabelMap.a}}", vol(), Ok("b")),
        ("{{.}}", vol(), Ok("{r1-a local}")),
        ("{{.Labels.a}}", d.clone(), Ok("b")),
        ("{{.Labels.missing}}", d.clone(), Ok("<no value>")),
        ("{{.Labels.missing.deeper}}", d.clone(), Ok("<no value>")),
        ("{{.Nope}}", d.clone(), Ok("<no value>")),
        ("{{.NilMap.x}}", d.clone(), Ok("<no value>")),
        ("{{.Mixed.z}}", d.clone(), Ok("<no value>")),
        ("{{.}}", Value::Nil, Ok("<no value>")),
        ("{{.x}}", Value::Nil, Ok("<no value>")),
        ("{{.Vol.UsageData}}", d.clone(), Ok("<nil>")),
        ("{{with .Vol}}{{.Name}}{{end}}", d.clone(), Ok("r1-a")),
    ]);
}

#[test]
fn printing_values() {
    let d = data();
    check(&[
        ("{{.List}}", d.clone(), Ok("[x y z]")),
        ("{{.Labels}}", d.clone(), Ok("map[a:b c:d]")),
        ("{{.NilMap}}", d.clone(), Ok("map[]")),
        ("{{.Mixed}}", d.clone(), Ok("map[n:1 s:x z:<nil>]")),
        ("{{.N}} {{.F}} {{.Big}} {{.T}}", d.clone(), Ok("3 1.5 1e+21 true")),
        ("{{1e6}} {{100000.0}} {{1.0}} {{0.00001}} {{-2.5e-7}}", d.clone(), Ok("1e+06 100000 1 1e-05 -2.5e-07")),
        ("{{123456789.0}} {{0.0001}}", d.clone(), Ok("1.23456789e+08 0.0001")),
        ("{{3}} {{-7}} {{0x1F}} {{0o17}} {{017}} {{0b101}} {{1_000}}", d.clone(), Ok("3 -7 31 15 15 5 1000")),
        ("{{'a'}} {{'\\n'}} {{'\\x41'}} {{'é'}}", d.clone(), Ok("97 10 65 233")),
        ("{{true}} {{false}}", d.clone(), Ok("true false")),
        ("{{\"a\\tb\\u00e9\\x41\\101\"}}", d.clone(), Ok("a\tbéAA")),
        ("{{`raw\\n`}}", d.clone(), Ok("raw\\n")),
        ("{{print nil}}", d.clone(), Ok("<nil>")),
        ("{{print .Nope}}", d.clone(), Ok("<nil>")),
        ("{{.Nums}}", d.clone(), Ok("[1 2 3]")),
        ("{{.Vol}}", d.clone(), Ok("{r1-a local}")),
        ("{{printf \"%v\" .Vol}}", d.clone(), Ok("&{r1-a local}")),
    ]);
}

#[test]
fn trim_markers_and_comments() {
    let d = data();
    check(&[
        ("a  {{- .Name -}}  b", d.clone(), Ok("awebb")),
        ("a \n\t{{- .Name}} \n b", d.clone(), Ok("aweb \n b")),
        ("a {{.Name -}}\n\n b", d.clone(), Ok("a webb")),
        ("a{{/* comment */}}b", d.clone(), Ok("ab")),
        ("a {{- /* comment */ -}} b", d.clone(), Ok("ab")),
        ("a{{/* multi\nline */}}b", d.clone(), Ok("ab")),
        ("{{-3}}", d.clone(), Ok("-3")),
        ("{{ .Name }}", d.clone(), Ok("web")),
        ("{{\n.Name\n}}", d.clone(), Ok("web")),
        ("{{range .List -}}\n  {{.}}\n{{- end}}", d.clone(), Ok("xyz")),
    ]);
}

#[test]
fn pipelines_and_variables() {
    let d = data();
    check(&[
        ("{{.Name | printf \"%s!\"}}", d.clone(), Ok("web!")),
        ("{{.Name | upper | printf \"<%s>\"}}", d.clone(), Ok("<WEB>")),
        ("{{(.Name)}}", d.clone(), Ok("web")),
        ("{{printf \"%s-%s\" (upper .Name) (lower \"X\")}}", d.clone(), Ok("WEB-x")),
        ("{{(index .Labels \"a\") | upper}}", d.clone(), Ok("B")),
        ("{{$x := .Name}}{{$x}}", d.clone(), Ok("web")),
        ("{{$x := 1}}{{$x = 2}}{{$x}}", d.clone(), Ok("2")),
        ("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", d.clone(), Ok("2")),
        ("{{$x := 1}}{{if true}}{{$x := 2}}{{$x}}{{end}}{{$x}}", d.clone(), Ok("21")),
        ("{{with .Vol}}{{$.Name}}/{{.Name}}{{end}}", d.clone(), Ok("web/r1-a")),
        ("{{$}}", s("root"), Ok("root")),
        ("{{$v := .Vol}}{{$v.Driver}}", d.clone(), Ok("local")),
        ("{{(.Vol).Name}}", d.clone(), Ok("r1-a")),
        ("{{$x := .Labels}}{{$x.c}}", d.clone(), Ok("d")),
    ]);
}

#[test]
fn control_structures() {
    let d = data();
    check(&[
        ("{{range .List}}[{{.}}]{{end}}", d.clone(), Ok("[x][y][z]")),
        ("{{range $i, $e := .List}}{{$i}}={{$e}} {{end}}", d.clone(), Ok("0=x 1=y 2=z ")),
        ("{{range $e := .List}}{{$e}}{{end}}", d.clone(), Ok("xyz")),
        ("{{range $k, $v := .Labels}}{{$k}}:{{$v}};{{end}}", d.clone(), Ok("a:b;c:d;")),
        ("{{range .Empty}}x{{else}}empty{{end}}", d.clone(), Ok("empty")),
        ("{{range .NilMap}}x{{else}}nil{{end}}", d.clone(), Ok("nil")),
        ("{{range .Nope}}x{{else}}none{{end}}", d.clone(), Ok("none")),
        ("{{range .List}}{{if eq . \"y\"}}{{break}}{{end}}{{.}}{{end}}", d.clone(), Ok("x")),
        ("{{range .List}}{{if eq . \"y\"}}{{continue}}{{end}}{{.}}{{end}}", d.clone(), Ok("xz")),
        ("{{range 3}}{{.}}{{end}}", d.clone(), Ok("012")),
        ("{{range $i := .N}}{{$i}}{{end}}", d.clone(), Ok("012")),
        ("{{range .Zero}}x{{else}}no{{end}}", d.clone(), Ok("no")),
        ("{{$x := 0}}{{range $x = .List}}{{end}}{{$x}}", d.clone(), Ok("z")),
        ("{{if .T}}yes{{end}}", d.clone(), Ok("yes")),
        ("{{if .False}}yes{{else}}no{{end}}", d.clone(), Ok("no")),
        ("{{if .Zero}}a{{else if .N}}b{{else}}c{{end}}", d.clone(), Ok("b")),
        ("{{if .Zero}}a{{else if .False}}b{{else}}c{{end}}", d.clone(), Ok("c")),
        ("{{if .EmptyStr}}a{{else}}empty{{end}}", d.clone(), Ok("empty")),
        ("{{if .Empty}}a{{else}}empty{{end}}", d.clone(), Ok("empty")),
        ("{{if .NilMap}}a{{else}}nil{{end}}", d.clone(), Ok("nil")),
        ("{{if .Null}}a{{else}}nil{{end}}", d.clone(), Ok("nil")),
        ("{{if .Vol}}obj{{end}}", d.clone(), Ok("obj")),
        ("{{if .F}}f{{end}}", d.clone(), Ok("f")),
        ("{{with .Name}}<{{.}}>{{end}}", d.clone(), Ok("<web>")),
        ("{{with .EmptyStr}}x{{else}}none{{end}}", d.clone(), Ok("none")),
        ("{{with .EmptyStr}}x{{else with .Name}}{{.}}{{end}}", d.clone(), Ok("web")),
        ("{{with $x := .Name}}{{$x}}{{end}}", d.clone(), Ok("web")),
        ("{{range .List}}{{range $.Nums}}{{.}}{{end}};{{end}}", d.clone(), Ok("123;123;123;")),
    ]);
}

#[test]
fn builtin_functions() {
    let d = data();
    check(&[
        ("{{and 1 0 2}} {{and 1 2}} {{or 0 \"\" 3}} {{or 0 \"\"}}", d.clone(), Ok("0 2 3 ")),
        ("{{and .T .Name}} {{not .T}} {{not .EmptyStr}}", d.clone(), Ok("web false true")),
        ("{{if and .T (not .False)}}ok{{end}}", d.clone(), Ok("ok")),
        ("{{len .List}} {{len .Name}} {{len .Labels}} {{len .NilMap}} {{len \"héllo\"}}", d.clone(), Ok("3 3 2 0 6")),
        ("{{index .List 1}} {{index .Labels \"c\"}} {{index .Name 0}}", d.clone(), Ok("y d 119")),
        ("[{{index .Labels \"missing\"}}]", d.clone(), Ok("[]")),
        ("{{index .Mixed \"missing\"}}", d.clone(), Ok("<no value>")),
        ("{{index .Mixed \"n\"}}", d.clone(), Ok("1")),
        ("{{slice .List 1}} {{slice .List 1 2}} {{slice .Name 1 2}} {{slice .List}}", d.clone(), Ok("[y z] [y] e [x y z]")),
        ("{{print 1 2 \"a\" \"b\" 3 true}}", d.clone(), Ok("1 2ab3 true")),
        ("{{println 1 \"a\"}}", d.clone(), Ok("1 a\n")),
        ("{{eq .N 3}} {{eq .Name \"x\" \"web\"}} {{ne .N 4}} {{eq .Name \"x\"}}", d.clone(), Ok("true true true false")),
        ("{{lt 1 2}} {{le 2 2}} {{gt 1 2}} {{ge 2 3}} {{lt \"a\" \"b\"}} {{lt 1.5 2.5}}", d.clone(), Ok("true true false false true true")),
        ("{{eq .Nope nil}} {{eq .Nope \"x\"}}", d.clone(), Ok("true false")),
        ("{{html .Html}}", d.clone(), Ok("&lt;a href=&#34;x&#34;&gt;&amp;&#39;&lt;/a&gt;")),
        ("{{js .Html}}", d.clone(), Ok("\\u003Ca href\\u003D\\\"x\\\"\\u003E\\u0026\\'\\u003C/a\\u003E")),
        ("{{urlquery \"a b&c=d/é\"}}", d.clone(), Ok("a+b%26c%3Dd%2F%C3%A9")),
        ("{{html .Nope}}", d.clone(), Ok("&lt;no value&gt;")),
    ]);
}

#[test]
fn printf_verbs() {
    let d = data();
    check(&[
        ("{{printf \"%s|%d|%v|%q|%t\" .Name .N .List .Name .T}}", d.clone(), Ok("web|3|[x y z]|\"web\"|true")),
        ("{{printf \"%x %X %x %o %b %c\" 255 255 \"hi\" 8 5 65}}", d.clone(), Ok("ff FF 6869 10 101 A")),
        ("{{printf \"%f %.2f %e %g %.3g\" 1.5 3.14159 1234.5 0.000012 3.14159}}", d.clone(), Ok("1.500000 3.14 1.234500e+03 1.2e-05 3.14")),
        ("{{printf \"[%-10s][%5d][%05d][%-5d][%+d][%5s]\" \"ab\" 42 -42 7 3 \"é\"}}", d.clone(), Ok("[ab        ][   42][-0042][7    ][+3][    é]")),
        ("{{printf \"%% %.2s %8.3f\" \"abcdef\" 3.14159}}", d.clone(), Ok("% ab    3.142")),
        ("{{printf \"%d\" \"x\"}}", d.clone(), Ok("%!d(string=x)")),
        ("{{printf \"%d %s\"  1}}", d.clone(), Ok("1 %!s(MISSING)")),
        ("{{printf \"%d\" 1 2 \"a\"}}", d.clone(), Ok("1%!(EXTRA int=2, string=a)")),
        ("{{printf \"%s\" .Nums}}", d.clone(), Ok("[%!s(int=1) %!s(int=2) %!s(int=3)]")),
        ("{{printf \"%v %d\" .Labels .Nums}}", d.clone(), Ok("map[a:b c:d] [1 2 3]")),
        ("{{printf \"%T %T %T %T\" 1 \"s\" .List .F}}", d.clone(), Ok("int string []string float64")),
        ("{{printf \"%v\" nil}} {{printf \"%d\" nil}}", d.clone(), Ok("<nil> %!d(<nil>)")),
        ("{{printf \"%q\" 'x'}} {{printf \"%U\" 0x1F600}}", d.clone(), Ok("'x' U+1F600")),
        ("{{printf \"%5.1f|%-8.3e|\" 2.25 1234.5678}}", d.clone(), Ok("  2.2|1.235e+03|")),
        ("{{printf \"%v %v\" 1e6 2.0}}", d.clone(), Ok("1e+06 2")),
        ("{{printf \"%*d|\" 4 7}}", d.clone(), Ok("   7|")),
        ("{{printf \"abc%\"}}", d.clone(), Ok("abc%!(NOVERB)")),
        ("{{printf \"%s\" .Vol}}", d.clone(), Ok("&{r1-a local}")),
    ]);
}

#[test]
fn docker_functions() {
    let d = data();
    check(&[
        ("{{json .Labels}}", d.clone(), Ok("{\"a\":\"b\",\"c\":\"d\"}")),
        ("{{json .List}} {{json .N}} {{json .F}} {{json .T}}", d.clone(), Ok("[\"x\",\"y\",\"z\"] 3 1.5 true")),
        ("{{json .NilMap}} {{json .Null}} {{json .Nope}} {{json nil}}", d.clone(), Ok("null null null null")),
        ("{{json \"<&>\\u2028\\n\\x01\\\"\"}}", d.clone(), Ok("\"<&>\\u2028\\n\\u0001\\\"\"")),
        ("{{json .Big}} {{json 1e-7}} {{json 100.0}} {{json 0.000001}}", d.clone(), Ok("1e+21 1e-7 100 0.000001")),
        ("{{json .Vol}}", d.clone(), Ok("{\"Name\":\"r1-a\",\"Driver\":\"local\",\"Labels\":{\"a\":\"b\",\"c\":\"d\",\"com.example.k\":\"v<&>\"}}")),
        ("{{json .Mixed}}", d.clone(), Ok("{\"n\":1,\"s\":\"x\",\"z\":null}")),
        ("{{json .}}", vol(), Ok("{\"Name\":\"r1-a\",\"Driver\":\"local\",\"Labels\":{\"a\":\"b\",\"c\":\"d\",\"com.example.k\":\"v<&>\"}}")),
        ("{{split \"a,b,c\" \",\"}} {{len (split \"\" \",\")}} {{split \"abc\" \"\"}}", d.clone(), Ok("[a b c] 1 [a b c]")),
        ("{{join .List \", \"}} {{join (split \"a:b\" \":\") \"-\"}}", d.clone(), Ok("x, y, z a-b")),
        ("{{title \"hello wORLD foo_bar x-y\"}}", d.clone(), Ok("Hello WORLD Foo_bar X-Y")),
        ("{{lower \"ÀB\"}} {{upper \"àb\"}} {{upper \"ß\"}}", d.clone(), Ok("àb ÀB ß")),
        ("[{{pad \"ab\" 2 3}}][{{pad \"\" 2 3}}]", d.clone(), Ok("[  ab   ][]")),
        ("{{truncate \"abcdef\" 3}} {{truncate \"ab\" 3}} {{truncate \"abc\" 3}}", d.clone(), Ok("abc ab abc")),
        ("{{.Name | truncate 2}}", d.clone(), Err("template: :1:19: executing \"\" at <2>: expected string; found 2")),
        ("{{truncate .Name 2 | upper}}", d.clone(), Ok("WE")),
    ]);
}

#[test]
fn parse_once_execute_many() {
    let t = Template::parse("{{.Name}}\t{{.Driver}}\t{{.Label \"a\"}}\n").unwrap();
    let v = vol();
    let mut out = Vec::new();
    for _ in 0..1000 {
        t.execute(&v, &mut out).unwrap();
    }
    assert_eq!(out.len(), 1000 * "r1-a\tlocal\tb\n".len());
}

#[test]
fn debug_format() {
    assert_eq!(
        format!("{:?}", Value::list(vec![s("a"), Value::Int(1)])),
        "List([Str(\"a\"), Int(1)])"
    );
    assert_eq!(
        format!("{:?}", vol()),
        "Object(*formatter.volumeContext: &{r1-a local})"
    );
}

#[test]
fn defined_templates() {
    let d = data();
    check(&[
        ("{{define \"a\"}}A{{end}}", d.clone(), Ok("")),
        ("{{define \"a\"}}A{{end}}\n", d.clone(), Ok("\n")),
        ("{{define \"\"}}X{{end}}", d.clone(), Ok("X")),
        ("{{define \"a\"}}A{{end}}{{define \"a\"}} {{end}}{{template \"a\"}}", d.clone(), Ok("A")),
        ("{{define \"a\"}}A{{end}}{{define \"a\"}}B{{end}}", d.clone(), Err("template: :1: template: multiple definition of template \"a\"")),
        ("{{define \"a\"}}{{.}}{{end}}{{template \"a\"}}", d.clone(), Ok("<no value>")),
        ("{{define `a`}}[{{.}}]{{end}}{{range .List}}{{template `a` .}}{{end}}", d.clone(), Ok("[x][y][z]")),
        ("{{range .List}}{{template \"t\" .}}{{end}}{{define \"t\"}}({{.}}){{end}}", d.clone(), Ok("(x)(y)(z)")),
        ("{{$x := 1}}{{define \"a\"}}{{$x}}{{end}}", d.clone(), Err("template: :1: undefined variable \"$x\"")),
        ("{{range .List}}{{block \"b\" .}}{{break}}{{end}}{{end}}", d.clone(), Err("template: :1: {{break}} outside {{range}}")),
        ("{{block \"b\" .Name}}<{{.}}>{{end}}|{{template \"b\" \"z\"}}", d.clone(), Ok("<web>|<z>")),
        ("{{define 3}}{{end}}", d.clone(), Err("template: :1: unexpected \"3\" in define clause")),
        ("{{define \"a\"}}{{else}}{{end}}", d.clone(), Err("template: :1: unexpected {{else}} in define clause")),
        ("{{template x}}", d.clone(), Err("template: :1: unexpected \"x\" in template clause")),
        ("{{template \"a\" | }}", d.clone(), Err("template: :1: unexpected \"|\" in template clause")),
        ("{{if .T}}{{define \"a\"}}{{end}}{{end}}", d.clone(), Err("template: :1: unexpected <define> in command")),
        ("{{template \"nope\"}}", d.clone(), Err("template: :1:11: executing \"\" at <{{template \"nope\"}}>: template \"nope\" not defined")),
        ("{{define \"r\"}}{{template \"r\" .}}{{end}}{{template \"r\" .}}", d.clone(), Err("template: :1:25: executing \"r\" at <{{template \"r\" .}}>: exceeded maximum template depth (200)")),
    ]);
}

#[test]
fn header_functions() {
    let header = |src: &str| {
        let t = Template::parse(src).unwrap();
        let mut out = Vec::new();
        let r = t.execute_with(&data(), &mut out, Funcs::DockerHeader);
        (String::from_utf8(out).unwrap(), r.err().map(|e| e.to_string()))
    };
    assert_eq!(header("{{lower .Name}}|{{upper .Name}}|{{title .Name}}|{{truncate .Name 1}}"), ("web|web|web|web".into(), None));
    assert_eq!(header("{{split .Name \"e\"}}|{{join .Name \",\"}}|{{pad .Name 1 1}}"), ("web|web| web ".into(), None));
    assert_eq!(
        header("a{{json .Labels}}b"),
        ("a".into(), Some("template: :1:8: executing \"\" at <.Labels>: wrong type for value; expected string; got map[string]string".into()))
    );
    assert_eq!(header("{{json .Name}}"), ("web".into(), None));
}

#[test]
fn printf_like_go() {
    let d = data();
    check(&[
        ("{{printf \"%[2]d %[1]d\" 11 22}}", d.clone(), Ok("22 11")),
        ("{{printf \"%d %d %#[1]x %#x\" 16 17}}", d.clone(), Ok("16 17 0x10 0x11")),
        ("{{printf \"%[3]d\" 1 2}}", d.clone(), Ok("%!d(BADINDEX)")),
        ("{{printf \"%[0]d\" 1}}", d.clone(), Ok("%!d(BADINDEX)")),
        ("{{printf \"%[1]*d|\" 3 7}}", d.clone(), Ok("  7|")),
        ("{{printf \"%*d|\" 10000000 1}}", d.clone(), Ok("%!(BADWIDTH)1|")),
        ("{{printf \"%.*d|\" -1 5}}", d.clone(), Ok("%!(BADPREC)5|")),
        ("{{printf \"%-*d|\" 3 7}}", d.clone(), Ok("7  |")),
        ("{{printf \"%*d|\" -3 7}}", d.clone(), Ok("7  |")),
        ("{{printf \"%*d\"}}", d.clone(), Ok("%!(BADWIDTH)%!d(MISSING)")),
        ("{{printf \"%99999999d\" 1}}", d.clone(), Ok("%!(NOVERB)%!(EXTRA int=1)")),
        ("{{len (printf \"%10000000d\" 1)}}", d.clone(), Ok("10000000")),
        ("{{len (printf \"%.10000000d\" 1)}}", d.clone(), Ok("10000000")),
        ("{{printf \"%5.\"}}", d.clone(), Ok("%!(NOVERB)")),
        ("{{printf \"%é\" 1}}", d.clone(), Ok("%!é(int=1)")),
    ]);
}

// More tables, by topic (one table row per line, as above).
#[rustfmt::skip]
mod errors;
#[rustfmt::skip]
mod robustness;
