//! Cases from Go's own text/template test suite (`exec_test.go`'s `execTests`,
//! `TestExecError`, `TestJSEscaping`, `parse_test.go`'s `errorTests` and `TestBlock`), with
//! Go's expected results, run against this engine. Go's `tVal` is modelled by [`TVal`]; cases
//! that need Go-only types (pointers, channels, complex numbers, iterators, typed integers,
//! func values) are left out.

use std::collections::BTreeMap;

use super::*;

/// Go's `tVal`, reduced to what the cases below read.
struct TVal;

fn int_list(v: &[i64]) -> Value {
    Value::list(v.iter().map(|&i| Value::Int(i)).collect())
}

fn int_map(v: &[(&str, i64)]) -> Value {
    Value::map(v.iter().map(|(k, i)| ((*k).to_owned(), Value::Int(*i))).collect())
}

/// Go's `U` struct: field `V`, method `TrueFalse`.
struct U;

impl Object for U {
    fn type_name(&self) -> &str {
        "*template.U"
    }
    fn get(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        match (name, args) {
            ("V", []) => Some(Ok(Value::str("v"))),
            ("TrueFalse", [Value::Bool(b)]) => Some(Ok(Value::str(if *b { "true" } else { "" }))),
            _ => None,
        }
    }
    fn json_fields(&self) -> Vec<(String, Value)> {
        vec![("V".into(), Value::str("v"))]
    }
    fn display(&self) -> String {
        "&{v}".into()
    }
}

impl Object for TVal {
    fn type_name(&self) -> &str {
        "*template.T"
    }

    fn get(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let v = match (name, args) {
            ("True", []) => Value::Bool(true),
            ("I", []) => Value::Int(17),
            ("U16", []) => Value::Int(16),
            ("X", []) => Value::str("x"),
            ("S", []) => Value::str("xyz"),
            ("U", []) => Value::object(U),
            ("FloatZero", []) => Value::Float(0.0),
            ("SI", []) | ("AI", []) => int_list(&[3, 4, 5]),
            ("SIEmpty", []) => Value::list(Vec::new()),
            ("SB", []) => Value::list(vec![Value::Bool(true), Value::Bool(false)]),
            ("MSI", []) => int_map(&[("one", 1), ("two", 2), ("three", 3)]),
            ("MSIone", []) => int_map(&[("one", 1)]),
            ("MSIEmpty", []) => Value::map(BTreeMap::new()),
            ("MXI", []) => Value::map(BTreeMap::new()),
            ("SMSI", []) => {
                Value::list(vec![int_map(&[("one", 1), ("two", 2)]), int_map(&[("eleven", 11), ("twelve", 12)])])
            }
            ("Empty1", []) => Value::Int(3),
            ("Empty2", []) => Value::str("empty2"),
            ("Empty3", []) => int_list(&[7, 8]),
            ("Empty4", []) => Value::map(BTreeMap::from([("V".to_owned(), Value::str("UinEmpty"))])),
            ("Method0", []) => Value::str("M0"),
            ("Method1", [x]) => x.clone(),
            ("Method2", [a, b]) => Value::str(format!("Method2: {a} {b}")),
            ("Method3", [a]) => Value::str(format!("Method3: {a}")),
            ("GetU", []) => Value::object(U),
            _ => return None,
        };
        Some(Ok(v))
    }

    fn json_fields(&self) -> Vec<(String, Value)> {
        Vec::new()
    }

    fn display(&self) -> String {
        "&{...}".into()
    }
}

/// `Ok(output)`, or `Err(())` where Go's case only says execution fails.
type Want = Result<&'static str, ()>;

fn run_case(src: &str, dot: &Value) -> Result<String, TemplateError> {
    Template::parse(src)?.render(dot)
}

fn exec_cases(cases: &[(&str, Value, Want)]) -> usize {
    let mut failures = Vec::new();
    for (src, dot, want) in cases {
        let got = run_case(src, dot);
        let ok = match (&got, want) {
            (Ok(g), Ok(w)) => g == w,
            (Err(TemplateError::Exec(_)), Err(())) => true,
            _ => false,
        };
        if !ok {
            failures.push(format!("{src:?}\n   got: {got:?}\n  want: {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    cases.len()
}

#[test]
fn exec_tests() {
    let t = || Value::object(TVal);
    let nil = || Value::Nil;
    // Go's `Empty0 any` holding nil: a nil interface, no value.
    let e0 = || Value::map(BTreeMap::from([("Empty0".to_owned(), Value::Nil)]));
    let n = exec_cases(&[
        // Edge cases with <no value> with an interface value.
        ("{{.foo}}", nil(), Ok("<no value>")),
        ("{{(.).foo}}", nil(), Ok("<no value>")),
        // Issue 31810: parenthesized first element of pipeline with arguments.
        ("{{1 2}}", nil(), Err(())),
        ("{{(1) 2}}", nil(), Err(())),
        ("{{(1)}}", nil(), Ok("1")),
        // Method calls.
        ("-{{.Method0}}-", t(), Ok("-M0-")),
        ("-{{.Method1 1234}}-", t(), Ok("-1234-")),
        ("-{{.Method1 .I}}-", t(), Ok("-17-")),
        ("-{{.Method2 3 .X}}-", t(), Ok("-Method2: 3 x-")),
        ("-{{.Method2 .U16 `str`}}-", t(), Ok("-Method2: 16 str-")),
        ("{{if $x := .X}}-{{.Method2 .U16 $x}}{{end}}-", t(), Ok("-Method2: 16 x-")),
        ("-{{.Method3 nil}}-", t(), Ok("-Method3: <nil>-")),
        ("-{{.Method3 .MXI.unset}}-", t(), Ok("-Method3: <nil>-")),
        ("{{if $x := .}}-{{$x.Method2 .U16 $x.X}}{{end}}-", t(), Ok("-Method2: 16 x-")),
        (
            "{{range .MSIone}}{{if $.U.TrueFalse $.True}}{{$.U.TrueFalse $.True}}{{else}}WRONG{{end}}{{end}}",
            t(),
            Ok("true"),
        ),
        (
            "{{range .MSIone}}{{if $.GetU.TrueFalse $.True}}{{$.U.TrueFalse $.True}}{{else}}WRONG{{end}}{{end}}",
            t(),
            Ok("true"),
        ),
        ("{{with $x := .}}{{with .SI}}{{$.GetU.TrueFalse $.True}}{{end}}{{end}}", t(), Ok("true")),
        // Function call builtin.
        ("{{call nil}}", t(), Err(())),
        ("{{call}}", t(), Err(())),
        ("{{1 | call}}", t(), Err(())),
        // Pipelines.
        ("-{{.Method0 | .Method2 .U16}}-", t(), Ok("-Method2: 16 M0-")),
        // Parenthesized expressions with field accesses.
        ("{{($).X}}", t(), Ok("x")),
        ("{{($.GetU).V}}", t(), Ok("v")),
        // If.
        ("{{if true}}TRUE{{end}}", t(), Ok("TRUE")),
        ("{{if false}}TRUE{{else}}FALSE{{end}}", t(), Ok("FALSE")),
        ("{{if nil}}TRUE{{end}}", t(), Err(())),
        ("{{if 1}}NON-ZERO{{else}}ZERO{{end}}", t(), Ok("NON-ZERO")),
        ("{{if 0}}NON-ZERO{{else}}ZERO{{end}}", t(), Ok("ZERO")),
        ("{{if 1.5}}NON-ZERO{{else}}ZERO{{end}}", t(), Ok("NON-ZERO")),
        ("{{if .FloatZero}}NON-ZERO{{else}}ZERO{{end}}", t(), Ok("ZERO")),
        ("{{if ``}}NON-EMPTY{{else}}EMPTY{{end}}", t(), Ok("EMPTY")),
        ("{{if `notempty`}}NON-EMPTY{{else}}EMPTY{{end}}", t(), Ok("NON-EMPTY")),
        ("{{if .SIEmpty}}NON-EMPTY{{else}}EMPTY{{end}}", t(), Ok("EMPTY")),
        ("{{if .SI}}NON-EMPTY{{else}}EMPTY{{end}}", t(), Ok("NON-EMPTY")),
        ("{{if .MSIEmpty}}NON-EMPTY{{else}}EMPTY{{end}}", t(), Ok("EMPTY")),
        ("{{if .MSI}}NON-EMPTY{{else}}EMPTY{{end}}", t(), Ok("NON-EMPTY")),
        ("{{if .MXI.none}}NON-ZERO{{else}}ZERO{{end}}", t(), Ok("ZERO")),
        ("{{if not .MXI.none}}ZERO{{else}}NON-ZERO{{end}}", t(), Ok("ZERO")),
        ("{{if $x := true}}{{with $y := .I}}{{$x}},{{$y}}{{end}}{{end}}", t(), Ok("true,17")),
        ("{{if $x := true}}{{with $x := .I}}{{$x}},{{end}}{{$x}}{{end}}", t(), Ok("17,true")),
        ("{{if false}}FALSE{{else if true}}TRUE{{end}}", t(), Ok("TRUE")),
        ("{{if eq 1 3}}1{{else if eq 2 3}}2{{else if eq 3 3}}3{{end}}", t(), Ok("3")),
        // Print etc.
        ("{{print \"hello, print\"}}", t(), Ok("hello, print")),
        ("{{print 1 2 3}}", t(), Ok("1 2 3")),
        ("{{print nil}}", t(), Ok("<nil>")),
        ("{{println 1 2 3}}", t(), Ok("1 2 3\n")),
        ("{{printf \"%04x\" 127}}", t(), Ok("007f")),
        ("{{printf \"%g\" 3.5}}", t(), Ok("3.5")),
        ("{{printf \"%s\" \"hello\"}}", t(), Ok("hello")),
        ("{{printf \"%s\" .U.V}}", t(), Ok("v")),
        ("{{printf \"%s\" .Method0}}", t(), Ok("M0")),
        ("{{with .I}}{{printf \"%d\" .}}{{end}}", t(), Ok("17")),
        ("{{with $x := .I}}{{printf \"%d\" $x}}{{end}}", t(), Ok("17")),
        // HTML.
        (
            "{{html \"<script>alert(\\\"XSS\\\");</script>\"}}",
            nil(),
            Ok("&lt;script&gt;alert(&#34;XSS&#34;);&lt;/script&gt;"),
        ),
        (
            "{{printf \"<script>alert(\\\"XSS\\\");</script>\" | html}}",
            nil(),
            Ok("&lt;script&gt;alert(&#34;XSS&#34;);&lt;/script&gt;"),
        ),
        ("{{html .Empty0}}", e0(), Ok("&lt;no value&gt;")),
        // JavaScript, URL query.
        ("{{js .}}", Value::str("It'd be nice."), Ok("It\\'d be nice.")),
        ("{{\"http://www.example.org/\"|urlquery}}", nil(), Ok("http%3A%2F%2Fwww.example.org%2F")),
        // Booleans.
        ("{{not true}} {{not false}}", nil(), Ok("false true")),
        ("{{and false 0}} {{and 1 0}} {{and 0 true}} {{and 1 1}}", nil(), Ok("false 0 0 1")),
        ("{{or 0 0}} {{or 1 0}} {{or 0 true}} {{or 1 1}}", nil(), Ok("0 1 true 1")),
        ("{{or 0 1 (index nil 1)}}", nil(), Ok("1")),
        ("{{and 1 0 (index nil 1)}}", nil(), Ok("0")),
        ("{{or 0 0 (index nil 1)}}", nil(), Err(())),
        ("{{and 1 1 (index nil 1)}}", nil(), Err(())),
        ("{{1 | and 1}}", nil(), Ok("1")),
        ("{{0 | and 1}}", nil(), Ok("0")),
        ("{{1 | or 0}}", nil(), Ok("1")),
        ("{{0 | or 0}}", nil(), Ok("0")),
        ("{{and 1 .Unknown}}", nil(), Ok("<no value>")),
        ("{{or 0 .Unknown}}", nil(), Ok("<no value>")),
        ("{{if and true 1 `hi`}}TRUE{{else}}FALSE{{end}}", t(), Ok("TRUE")),
        ("{{if and true 1 `hi` | not}}TRUE{{else}}FALSE{{end}}", nil(), Ok("FALSE")),
        ("{{if true | not | and 1}}TRUE{{else}}FALSE{{end}}", nil(), Ok("FALSE")),
        // Indexing.
        ("{{index .SI 0}}", t(), Ok("3")),
        ("{{index .SI 1}}", t(), Ok("4")),
        ("{{index .SI 10}}", t(), Err(())),
        ("{{index .SI `hello`}}", t(), Err(())),
        ("{{index .SI nil}}", t(), Err(())),
        ("{{index .MSI `one`}}", t(), Ok("1")),
        ("{{index .MSI `two`}}", t(), Ok("2")),
        ("{{index .MSI `XXX`}}", t(), Ok("0")),
        ("{{index .MSI nil}}", t(), Err(())),
        ("{{index .MSI ``}}", t(), Ok("0")),
        ("{{index .MSI 10}}", t(), Err(())),
        ("{{index .SMSI 1 `eleven`}}", t(), Ok("11")),
        ("{{index nil 1}}", t(), Err(())),
        ("{{index .Empty3 0}}", t(), Ok("7")),
        // Slicing.
        ("{{slice .SI}}", t(), Ok("[3 4 5]")),
        ("{{slice .SI 1}}", t(), Ok("[4 5]")),
        ("{{slice .SI 1 2}}", t(), Ok("[4]")),
        ("{{slice .SI -1}}", t(), Err(())),
        ("{{slice .SI 1 -2}}", t(), Err(())),
        ("{{slice .SI 1 2 -1}}", t(), Err(())),
        ("{{slice .SI 2 1}}", t(), Err(())),
        ("{{slice .SI 2 2 1}}", t(), Err(())),
        ("{{slice .SI 4 5}}", t(), Err(())),
        ("{{slice .SI 2 2 5}}", t(), Err(())),
        ("{{slice .AI}}", t(), Ok("[3 4 5]")),
        ("{{slice .AI 1}}", t(), Ok("[4 5]")),
        ("{{slice .AI 1 2}}", t(), Ok("[4]")),
        ("{{slice .S}}", t(), Ok("xyz")),
        ("{{slice .S 0 1}}", t(), Ok("x")),
        ("{{slice .S 1}}", t(), Ok("yz")),
        ("{{slice .S 1 2}}", t(), Ok("y")),
        ("{{slice .S 1 5}}", t(), Err(())),
        ("{{slice .S 1 2 2}}", t(), Err(())),
        ("{{slice .Empty3 0 1}}", t(), Ok("[7]")),
        // Len.
        ("{{len .SI}}", t(), Ok("3")),
        ("{{len .MSI }}", t(), Ok("3")),
        ("{{len 3}}", t(), Err(())),
        ("{{len .Empty0}}", e0(), Err(())),
        ("{{len .Empty3}}", t(), Ok("2")),
        // With.
        ("{{with true}}{{.}}{{end}}", t(), Ok("true")),
        ("{{with false}}{{.}}{{else}}FALSE{{end}}", t(), Ok("FALSE")),
        ("{{with 1}}{{.}}{{else}}ZERO{{end}}", t(), Ok("1")),
        ("{{with 0}}{{.}}{{else}}ZERO{{end}}", t(), Ok("ZERO")),
        ("{{with 1.5}}{{.}}{{else}}ZERO{{end}}", t(), Ok("1.5")),
        ("{{with .FloatZero}}{{.}}{{else}}ZERO{{end}}", t(), Ok("ZERO")),
        ("{{with ``}}{{.}}{{else}}EMPTY{{end}}", t(), Ok("EMPTY")),
        ("{{with `notempty`}}{{.}}{{else}}EMPTY{{end}}", t(), Ok("notempty")),
        ("{{with .SIEmpty}}{{.}}{{else}}EMPTY{{end}}", t(), Ok("EMPTY")),
        ("{{with .SI}}{{.}}{{else}}EMPTY{{end}}", t(), Ok("[3 4 5]")),
        ("{{with .MSIEmpty}}{{.}}{{else}}EMPTY{{end}}", t(), Ok("EMPTY")),
        ("{{with .MSIone}}{{.}}{{else}}EMPTY{{end}}", t(), Ok("map[one:1]")),
        ("{{with .Empty4}}{{.V}}{{end}}", t(), Ok("UinEmpty")),
        ("{{with $x := .I}}{{$x}}{{end}}", t(), Ok("17")),
        ("{{with $x := $}}{{$x.U.V}}{{end}}", t(), Ok("v")),
        ("{{with $x := $}}{{$y := $.U.V}}{{$y}}{{end}}", t(), Ok("v")),
        ("{{with 0}}{{.}}{{else with true}}{{.}}{{end}}", t(), Ok("true")),
        ("{{with 0}}{{.}}{{else with false}}{{.}}{{else with `notempty`}}{{.}}{{end}}", t(), Ok("notempty")),
        // Range.
        ("{{range .SI}}-{{.}}-{{end}}", t(), Ok("-3--4--5-")),
        ("{{range .SIEmpty}}-{{.}}-{{end}}", t(), Ok("")),
        ("{{range .SI}}-{{.}}-{{else}}EMPTY{{end}}", t(), Ok("-3--4--5-")),
        ("{{range .SIEmpty}}-{{.}}-{{else}}EMPTY{{end}}", t(), Ok("EMPTY")),
        ("{{range .SI}}-{{.}}-{{break}}NOTREACHED{{else}}EMPTY{{end}}", t(), Ok("-3-")),
        ("{{range .SI}}-{{.}}-{{continue}}NOTREACHED{{else}}EMPTY{{end}}", t(), Ok("-3--4--5-")),
        ("{{range .SB}}-{{.}}-{{end}}", t(), Ok("-true--false-")),
        ("{{range .MSI}}-{{.}}-{{end}}", t(), Ok("-1--3--2-")),
        ("{{range .MSIEmpty}}-{{.}}-{{end}}", t(), Ok("")),
        ("{{range .MSI}}-{{.}}-{{else}}EMPTY{{end}}", t(), Ok("-1--3--2-")),
        ("{{range .MSIEmpty}}-{{.}}-{{else}}EMPTY{{end}}", t(), Ok("EMPTY")),
        ("{{range .Empty3}}-{{.}}-{{else}}EMPTY{{end}}", t(), Ok("-7--8-")),
        ("{{range .Empty0}}-{{.}}-{{end}}", e0(), Ok("")),
        ("{{range $x := .SI}}<{{$x}}>{{end}}", t(), Ok("<3><4><5>")),
        ("{{range $x, $y := .SI}}<{{$x}}={{$y}}>{{end}}", t(), Ok("<0=3><1=4><2=5>")),
        ("{{range $x := .MSIone}}<{{$x}}>{{end}}", t(), Ok("<1>")),
        ("{{range $x, $y := .MSIone}}<{{$x}}={{$y}}>{{end}}", t(), Ok("<one=1>")),
        ("{{range $x := .SI}}<{{$foo:=$x}}{{$x}}>{{end}}", t(), Ok("<3><4><5>")),
        ("{{range $v := 5}}{{printf \"%T%d\" $v $v}}{{end}}", nil(), Ok("int0int1int2int3int4")),
        // Cute examples.
        ("{{or .SI \"slice is empty\"}}", t(), Ok("[3 4 5]")),
        ("{{or .SIEmpty \"slice is empty\"}}", t(), Ok("slice is empty")),
        // Numbers.
        ("{{print 1234}}", t(), Ok("1234")),
        ("{{print 12_34}}", t(), Ok("1234")),
        ("{{print 0b101}}", t(), Ok("5")),
        ("{{print 0b_1_0_1}}", t(), Ok("5")),
        ("{{print 0B101}}", t(), Ok("5")),
        ("{{print 0377}}", t(), Ok("255")),
        ("{{print 0o377}}", t(), Ok("255")),
        ("{{print 0o_3_7_7}}", t(), Ok("255")),
        ("{{print 0O377}}", t(), Ok("255")),
        ("{{print 0x123}}", t(), Ok("291")),
        ("{{print 0x1_23}}", t(), Ok("291")),
        ("{{print 0X123ABC}}", t(), Ok("1194684")),
        ("{{print 123.4}}", t(), Ok("123.4")),
        ("{{print 0_0_1_2_3.4}}", t(), Ok("123.4")),
        ("{{print 1_2_3_4 7.5_00_00_00}}", t(), Ok("1234 7.5")),
        // Fixed bugs.
        ("{{range .MSIone}}{{if $.Method1 .}}X{{end}}{{end}}", t(), Ok("X")),
        ("{{with $}}{{.Method0}}{{end}}", t(), Ok("M0")),
        ("{{if .Empty0}}non-nil{{else}}nil{{end}}", e0(), Ok("nil")),
        ("{{3 2}}", t(), Err(())),
        ("{{$x := 1}}{{$x 2}}", t(), Err(())),
        ("{{$x := 1}}{{3 | $x}}", t(), Err(())),
        ("{{.cause}}", Value::map(BTreeMap::from([("cause".to_owned(), Value::str("neglect"))])), Ok("neglect")),
        ("{{printf `%T` 0xef}}", t(), Ok("int")),
        ("{{printf `%T` 0xEE}}", t(), Ok("int")),
        ("{{printf `%T` 0Xef}}", t(), Ok("int")),
        ("{{printf `%T` 0XEE}}", t(), Ok("int")),
        ("{{(nil).True}}", t(), Err(())),
        ("{{$x := nil}}{{$x.anything}}", t(), Err(())),
        ("{{$x := (1.0)}}{{$y := (\"hello\")}}{{$x.anything}}{{$y.true}}", t(), Err(())),
        ("{{true|printf}}", t(), Err(())),
        ("{{1|printf}}", t(), Err(())),
        ("{{1.1|printf}}", t(), Err(())),
        ("{{'x'|printf}}", t(), Err(())),
        ("{{\"aaa\"|printf }}", t(), Ok("aaa")),
        ("{{eq . '.'}}", Value::Int('.' as i64), Ok("true")),
        ("{{eq . 'e'}}", Value::Int('e' as i64), Ok("true")),
        ("{{eq . 'P'}}", Value::Int('P' as i64), Ok("true")),
        ("{{$i := 0}}{{$x := 0}}{{range $i = .AI}}{{end}}{{$i}}", t(), Ok("5")),
        ("{{$k := 0}}{{$v := 0}}{{range $k, $v = .AI}}{{$k}}={{$v}} {{end}}", t(), Ok("0=3 1=4 2=5 ")),
        // TestBlock, as executed.
        ("a{{block \"inner\" .}}bar{{.}}baz{{end}}b", Value::str("X"), Ok("abarXbazb")),
    ]);
    assert!(n > 190, "{n} cases");
}

/// `TestExecError`: an error in a nested template names it and its position.
#[test]
fn nested_template_error() {
    let text = "line 1\nline 2\nline 3\n{{template \"one\" .}}\n{{define \"one\"}}{{template \"two\" .}}{{end}}\n\
                {{define \"two\"}}{{template \"three\" .}}{{end}}\n{{define \"three\"}}{{index \"hi\" $}}{{end}}";
    let err = run_case(text, &Value::Int(5)).unwrap_err().to_string();
    assert_eq!(
        err,
        "template: :7:20: executing \"three\" at <index \"hi\" $>: error calling index: index out of range: 5"
    );
}

/// `TestJSEscaping`.
#[test]
fn js_escaping() {
    for (input, want) in [
        ("a", "a"),
        ("'foo", "\\'foo"),
        ("Go \"jump\" \\", "Go \\\"jump\\\" \\\\"),
        ("Yukihiro says \"今日は世界\"", "Yukihiro says \\\"今日は世界\\\""),
        ("unprintable \u{FFFE}", "unprintable \\uFFFE"),
        ("<html>", "\\u003Chtml\\u003E"),
        ("no = in attributes", "no \\u003D in attributes"),
        ("&#x27; does not become HTML entity", "\\u0026#x27; does not become HTML entity"),
    ] {
        assert_eq!(run_case("{{js .}}", &Value::str(input)).unwrap(), want, "{input:?}");
    }
}

/// `errorTests`: each parse fails with a message containing Go's text (names are `""` here).
#[test]
fn parse_error_tests() {
    let cases = [
        ("line1\n{{", "template: :2: unclosed action"),
        ("line1\n{{define `x`}}line2\n{{", "template: :3: unclosed action"),
        ("line1\n{{\"x\"\n\"y\"\n", "template: :4: unclosed action started at :2"),
        ("{{\n\n\n\n\n", "template: :6: unclosed action started at :1"),
        ("line1\n{{\nx\n}}", "template: :3: function \"x\" not defined"),
        ("{{foo}}", "function \"foo\" not defined"),
        ("{{/*}}", "template: :1: unclosed comment"),
        ("{{/*\nhello\n}}", "template: :1: unclosed comment"),
        ("{{.X (1 2 3}}", "unclosed left paren"),
        ("{{.X 1 2 3 ) }}", "unexpected right paren"),
        ("{{(.X 1 2 3", "unclosed action"),
        ("{{`x`3}}", "in operand"),
        ("{{a#}}", "'#'"),
        ("{{'a}}", "unterminated character constant"),
        ("{{\"a}}", "unterminated quoted string"),
        ("{{`a}}", "unterminated raw quoted string"),
        ("{{0xi}}", "number syntax"),
        ("{{define `a`}}a{{end}}{{define `a`}}b{{end}}", "multiple definition of template"),
        ("{{range .X}}", "unexpected EOF"),
        ("{{$x := 23}}{{with $x.y := 3}}{{$x 23}}{{end}}", "unexpected \":=\""),
        ("{{$a,$b,$c := 23}}", "too many declarations"),
        ("{{$a}}", "undefined variable"),
        ("{{true.any}}", "unexpected . after term"),
        ("{{12|false}}", "non executable command in pipeline"),
        ("{{ ( ) }}", "missing value for parenthesized pipeline"),
        ("{{ $v := `\n` }} {{", "template: :2: unclosed action"),
        ("{{range $k}}{{end}}", "undefined variable"),
        ("{{range $k, $v}}{{end}}", "undefined variable"),
        ("{{range $k,}}{{end}}", "missing value for range"),
        ("{{range $k, $v := }}{{end}}", "missing value for range"),
        ("{{range $k, .}}{{end}}", "range can only initialize variables"),
        ("{{range $k, 123 := .}}{{end}}", "range can only initialize variables"),
    ];
    let mut failures = Vec::new();
    for (src, want) in cases {
        match Template::parse(src) {
            Err(TemplateError::Parse(m)) if m.contains(want) => {}
            other => failures.push(format!("{src:?}: got {other:?}, want {want:?}")),
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// The data of the `printf` cases below: Go's `map[string]any` of these values.
fn fmt_data() -> Value {
    let s = |x: &str| Value::str(x);
    let int = Value::Int;
    Value::map(BTreeMap::from([
        ("Name".to_owned(), s("web")),
        ("Labels".to_owned(), Value::map(BTreeMap::from([("a".to_owned(), s("b")), ("c".to_owned(), s("d"))]))),
        ("List".to_owned(), Value::list(vec![s("x"), s("y"), s("z")])),
        ("Nums".to_owned(), Value::list(vec![int(1), int(2), int(3)])),
        ("N".to_owned(), int(3)),
        ("Zero".to_owned(), int(0)),
        ("F".to_owned(), Value::Float(1.5)),
        ("Big".to_owned(), Value::Float(1e21)),
        ("Tiny".to_owned(), Value::Float(1e-7)),
        ("Null".to_owned(), Value::Nil),
        (
            "Mixed".to_owned(),
            Value::map(BTreeMap::from([
                ("n".to_owned(), int(1)),
                ("s".to_owned(), s("x")),
                ("z".to_owned(), Value::Nil),
            ])),
        ),
        ("Uni".to_owned(), s("h\u{e9}llo\u{2192}")),
    ]))
}

/// `printf` against Go's `fmt`: flags, widths and precisions on every kind of value, bad
/// verbs (which print the value with the verb's flags), `%#v`, `%x` of floats. Expected
/// outputs are Go's.
#[test]
#[rustfmt::skip]
fn printf_matches_go_fmt() {
    let d = fmt_data();
    let n = exec_cases(&[
        ("{{printf \"%+v|\" .N}}", d.clone(), Ok("3|")),
        ("{{printf \"%#v|\" .N}}", d.clone(), Ok("3|")),
        ("{{printf \"%+d|\" .N}}", d.clone(), Ok("+3|")),
        ("{{printf \"%-05d|\" .N}}", d.clone(), Ok("3    |")),
        ("{{printf \"%-8.3s|\" .N}}", d.clone(), Ok("%!s(int=003     )|")),
        ("{{printf \"%05s|\" .N}}", d.clone(), Ok("%!s(int=00003)|")),
        ("{{printf \"%.2q|\" .N}}", d.clone(), Ok("'\\x03'|")),
        ("{{printf \"%+q|\" .N}}", d.clone(), Ok("'\\x03'|")),
        ("{{printf \"%#q|\" .N}}", d.clone(), Ok("'\\x03'|")),
        ("{{printf \"% x|\" .N}}", d.clone(), Ok(" 3|")),
        ("{{printf \"%#8.3o|\" .N}}", d.clone(), Ok("     003|")),
        ("{{printf \"%+c|\" .N}}", d.clone(), Ok("\u{3}|")),
        ("{{printf \"%+.0e|\" .N}}", d.clone(), Ok("%!e(int=+3)|")),
        ("{{printf \"%08.3e|\" .N}}", d.clone(), Ok("%!e(int=     003)|")),
        ("{{printf \"%#.0f|\" .N}}", d.clone(), Ok("%!f(int=3)|")),
        ("{{printf \"%08.3f|\" .N}}", d.clone(), Ok("%!f(int=     003)|")),
        ("{{printf \"%12.5g|\" .N}}", d.clone(), Ok("%!g(int=       00003)|")),
        ("{{printf \"%#g|\" .N}}", d.clone(), Ok("%!g(int=3)|")),
        ("{{printf \"%+.2v|\" .F}}", d.clone(), Ok("1.5|")),
        ("{{printf \"%#v|\" .F}}", d.clone(), Ok("1.5|")),
        ("{{printf \"%x|\" .F}}", d.clone(), Ok("0x1.8p+00|")),
        ("{{printf \"%#x|\" .F}}", d.clone(), Ok("0x1.8000p+00|")),
        ("{{printf \"%b|\" .F}}", d.clone(), Ok("6755399441055744p-52|")),
        ("{{printf \"%#v|\" .List}}", d.clone(), Ok("[]string{\"x\", \"y\", \"z\"}|")),
        ("{{printf \"%x|\" .List}}", d.clone(), Ok("[78 79 7a]|")),
        ("{{printf \"% 12.5v|\" .Nums}}", d.clone(), Ok("[       00001        00002        00003]|")),
        ("{{printf \"%T|\" .Nums}}", d.clone(), Ok("[]int|")),
        ("{{printf \"%#v|\" .Null}}", d.clone(), Ok("<nil>|")),
        ("{{printf \"%#v|\" .Labels}}", d.clone(), Ok("map[string]string{\"a\":\"b\", \"c\":\"d\"}|")),
        ("{{printf \"%X|\" .Tiny}}", d.clone(), Ok("0X1.AD7F29ABCAF48P-24|")),
        ("{{printf \"%e|\" .Big}}", d.clone(), Ok("1.000000e+21|")),
        ("{{printf \"%.0d|\" 0}}", d.clone(), Ok("|")),
        ("{{printf \"%#o|\" 0}}", d.clone(), Ok("0|")),
        ("{{printf \"% d|\" -7}}", d.clone(), Ok("-7|")),
        ("{{printf \"%U|\" -7}}", d.clone(), Ok("U+FFFFFFFFFFFFFFF9|")),
        ("{{printf \"%#v|\" .Mixed}}", d.clone(), Ok("map[string]interface {}{\"n\":1, \"s\":\"x\", \"z\":interface {}(nil)}|")),
        ("{{printf \"%d|\" .Mixed}}", d.clone(), Ok("map[%!d(string=n):1 %!d(string=s):%!d(string=x) %!d(string=z):<nil>]|")),
        ("{{printf \"%c|\" .Mixed}}", d.clone(), Ok("map[%!c(string=n):\u{1} %!c(string=s):%!c(string=x) %!c(string=z):<nil>]|")),
        ("{{printf \"%-12.5X|\" .Uni}}", d.clone(), Ok("68C3A96C6C  |")),
        ("{{printf \"%v|\" 123456789.0}}", d.clone(), Ok("1.23456789e+08|")),
        ("{{printf \"%g|\" 0.000012345}}", d.clone(), Ok("1.2345e-05|")),
    ]);
    assert!(n > 40);
}
