//! Errors: parse and execution errors with Go's exact messages, and the output written
//! before an error.

use super::*;

#[test]
fn parse_errors() {
    let d = data();
    check(&[
        ("{{.Name", d.clone(), Err("template: :1: unclosed action")),
        ("{{.Name}", d.clone(), Err("template: :1: bad character U+007D '}'")),
        ("{{.Name }", d.clone(), Err("template: :1: unexpected \"}\" in operand")),
        ("{{.Name ", d.clone(), Err("template: :1: unclosed action")),
        ("a\n{{.Name\n\n", d.clone(), Err("template: :4: unclosed action started at :2")),
        ("{{foo}}", d.clone(), Err("template: :1: function \"foo\" not defined")),
        ("{{.Name | foo}}", d.clone(), Err("template: :1: function \"foo\" not defined")),
        ("{{end}}", d.clone(), Err("template: :1: unexpected {{end}}")),
        ("{{else}}", d.clone(), Err("template: :1: unexpected {{else}}")),
        ("{{if .T}}x", d.clone(), Err("template: :1: unexpected EOF")),
        ("{{range .List}}\n{{.}}\n", d.clone(), Err("template: :3: unexpected EOF")),
        ("{{if .T}}{{else}}{{else}}{{end}}", d.clone(), Err("template: :1: expected end; found {{else}}")),
        ("{{/* x", d.clone(), Err("template: :1: unclosed comment")),
        ("{{/* x */ .Name}}", d.clone(), Err("template: :1: comment ends before closing delimiter")),
        ("{{\"abc}}", d.clone(), Err("template: :1: unterminated quoted string")),
        ("{{`abc}}", d.clone(), Err("template: :1: unterminated raw quoted string")),
        ("{{'a}}", d.clone(), Err("template: :1: unterminated character constant")),
        ("{{'ab'}}", d.clone(), Err("template: :1: malformed character constant: 'ab'")),
        ("{{\"\\q\"}}", d.clone(), Err("template: :1: invalid syntax")),
        ("{{3x}}", d.clone(), Err("template: :1: bad number syntax: \"3x\"")),
        ("{{0x}}", d.clone(), Err("template: :1: illegal number syntax: \"0x\"")),
        ("{{99999999999999999999}}", d.clone(), Err("template: :1: integer overflow: \"99999999999999999999\"")),
        ("{{.Name-x}}", d.clone(), Err("template: :1: bad character U+002D '-'")),
        ("{{(.Name}}", d.clone(), Err("template: :1: unclosed left paren")),
        ("{{.Name)}}", d.clone(), Err("template: :1: unexpected right paren")),
        ("{{$x}}", d.clone(), Err("template: :1: undefined variable \"$x\"")),
        ("{{if .T}}{{$x := 1}}{{end}}{{$x}}", d.clone(), Err("template: :1: undefined variable \"$x\"")),
        ("{{}}", d.clone(), Err("template: :1: missing value for command")),
        ("{{if}}{{end}}", d.clone(), Err("template: :1: missing value for if")),
        ("{{.Name | \"x\"}}", d.clone(), Err("template: :1: non executable command in pipeline stage 2")),
        ("{{|}}", d.clone(), Err("template: :1: unexpected \"|\" in command")),
        // Go accepts a trailing pipe: command() consumes it and the pipeline then ends.
        ("{{.Name |}}", d.clone(), Ok("web")),
        ("{{break}}", d.clone(), Err("template: :1: {{break}} outside {{range}}")),
        ("{{range .List}}{{continue 1}}{{end}}", d.clone(), Err("template: :1: unexpected \"1\" in {{continue}}")),
        ("{{range $a, $b, $c := .List}}{{end}}", d.clone(), Err("template: :1: too many declarations in range")),
        ("{{range $a, 3}}{{end}}", d.clone(), Err("template: :1: range can only initialize variables")),
        ("{{$a, $b := 1}}", d.clone(), Err("template: :1: too many declarations in command")),
        ("{{\"x\".Foo}}", d.clone(), Err("template: :1: unexpected . after term \"\\\"x\\\"\"")),
        ("{{end x}}", d.clone(), Err("template: :1: unexpected \"x\" in end")),
        ("{{else x}}", d.clone(), Err("template: :1: unexpected \"x\" in else")),
        ("{{.Name → }}", d.clone(), Err("template: :1: unrecognized character in action: U+2192 '→'")),
        ("{{.A :x}}", d.clone(), Err("template: :1: expected :=")),
        ("{{\"abcdefghijklmno\" \"x\" | }}", d.clone(), Err("template: :1:2: executing \"\" at <\"abcdefghijklmno\">: can't give argument to non-function \"abcdefghijklmno\"")),
        ("{{\"abcdefghijklmno\" }\n}}", d.clone(), Err("template: :1: unexpected \"}\" in operand")),
        ("{{if .T}}{{\"abcdefghijklmno\" | end}}", d.clone(), Err("template: :1: unexpected <end> in command")),
        ("{{.Name \"abcdefghijklmno\" (}}", d.clone(), Err("template: :1: unclosed left paren")),
        ("line1\nline2 {{end}}", d.clone(), Err("template: :2: unexpected {{end}}")),
    ]);
}

#[test]
fn exec_errors() {
    let d = data();
    check(&[
        ("{{.Bogus}}", vol(), Err("template: :1:2: executing \"\" at <.Bogus>: can't evaluate field Bogus in type *formatter.volumeContext")),
        ("x\n  {{.Vol.Bogus}}", d.clone(), Err("template: :2:8: executing \"\" at <.Vol.Bogus>: can't evaluate field Bogus in type *formatter.volumeContext")),
        ("{{.Name.Foo}}", d.clone(), Err("template: :1:7: executing \"\" at <.Name.Foo>: can't evaluate field Foo in type interface {}")),
        ("{{.N.Foo}}", d.clone(), Err("template: :1:4: executing \"\" at <.N.Foo>: can't evaluate field Foo in type interface {}")),
        ("{{.Labels.a.Foo}}", d.clone(), Err("template: :1:9: executing \"\" at <.Labels.a.Foo>: can't evaluate field Foo in type string")),
        ("{{.Name.Foo}}", s("x"), Err("template: :1:7: executing \"\" at <.Name.Foo>: can't evaluate field Name in type string")),
        ("{{.Vol.Label 1 2}}", d.clone(), Err("template: :1:6: executing \"\" at <.Vol.Label>: wrong number of args for Label: want 1 got 2")),
        ("{{.Vol.Label 1}}", d.clone(), Err("template: :1:6: executing \"\" at <.Vol.Label>: wrong type for value; expected string; got int")),
        ("{{.Vol.Fail}}", d.clone(), Err("template: :1:6: executing \"\" at <.Vol.Fail>: error calling Fail: boom")),
        ("{{.Labels.a 1}}", d.clone(), Err("template: :1:9: executing \"\" at <.Labels.a>: a is not a method but has arguments")),
        ("{{.Vol.UsageData.X}}", d.clone(), Err("template: :1:6: executing \"\" at <.Vol.UsageData.X>: nil pointer evaluating interface {}.X")),
        ("{{index .List 5}}", d.clone(), Err("template: :1:2: executing \"\" at <index .List 5>: error calling index: index out of range: 5")),
        ("{{index .List 3}}", d.clone(), Err("template: :1:2: executing \"\" at <index .List 3>: error calling index: reflect: slice index out of range")),
        ("{{index .List -1}}", d.clone(), Err("template: :1:2: executing \"\" at <index .List -1>: error calling index: index out of range: -1")),
        ("{{index .List \"a\"}}", d.clone(), Err("template: :1:2: executing \"\" at <index .List \"a\">: error calling index: cannot index slice/array with type string")),
        ("{{index .N 1}}", d.clone(), Err("template: :1:2: executing \"\" at <index .N 1>: error calling index: can't index item of type int")),
        ("{{index .Nope 1}}", d.clone(), Err("template: :1:2: executing \"\" at <index .Nope 1>: error calling index: index of untyped nil")),
        ("{{index .Labels 1}}", d.clone(), Err("template: :1:2: executing \"\" at <index .Labels 1>: error calling index: value has type int; should be string")),
        ("{{slice .List 2 1}}", d.clone(), Err("template: :1:2: executing \"\" at <slice .List 2 1>: error calling slice: invalid slice index: 2 > 1")),
        ("{{slice .N}}", d.clone(), Err("template: :1:2: executing \"\" at <slice .N>: error calling slice: can't slice item of type int")),
        ("{{join .Name}}", d.clone(), Err("template: :1:2: executing \"\" at <join>: wrong number of args for join: want 2 got 1")),
        ("{{join .Name \",\"}}", d.clone(), Err("template: :1:7: executing \"\" at <.Name>: wrong type for value; expected []string; got string")),
        ("{{join .Nums \",\"}}", d.clone(), Err("template: :1:7: executing \"\" at <.Nums>: wrong type for value; expected []string; got []int")),
        ("{{upper .N}}", d.clone(), Err("template: :1:8: executing \"\" at <.N>: wrong type for value; expected string; got int")),
        ("{{.N | upper}}", d.clone(), Err("template: :1:7: executing \"\" at <upper>: wrong type for value; expected string; got int")),
        ("{{upper 5}}", d.clone(), Err("template: :1:8: executing \"\" at <5>: expected string; found 5")),
        ("{{pad \"a\" \"b\" 1}}", d.clone(), Err("template: :1:10: executing \"\" at <\"b\">: expected integer; found \"b\"")),
        ("{{pad \"a\" -1 1}}", d.clone(), Err("template: :1:2: executing \"\" at <pad \"a\" -1 1>: error calling pad: strings: negative Repeat count")),
        ("{{truncate \"abc\" -1}}", d.clone(), Err("template: :1:2: executing \"\" at <truncate \"abc\" -1>: error calling truncate: runtime error: slice bounds out of range [:-1]")),
        ("{{upper .Nope}}", d.clone(), Err("template: :1:8: executing \"\" at <.Nope>: invalid value; expected string")),
        ("{{len 3}}", d.clone(), Err("template: :1:2: executing \"\" at <len 3>: error calling len: len of type int")),
        ("{{not}}", d.clone(), Err("template: :1:2: executing \"\" at <not>: wrong number of args for not: want 1 got 0")),
        ("{{eq 1}}", d.clone(), Err("template: :1:2: executing \"\" at <eq 1>: error calling eq: missing argument for comparison")),
        ("{{eq 1 \"a\"}}", d.clone(), Err("template: :1:2: executing \"\" at <eq 1 \"a\">: error calling eq: incompatible types for comparison")),
        ("{{eq .List .List}}", d.clone(), Err("template: :1:2: executing \"\" at <eq .List .List>: error calling eq: non-comparable type [x y z]: []string")),
        ("{{lt true false}}", d.clone(), Err("template: :1:2: executing \"\" at <lt true false>: error calling lt: invalid type for comparison")),
        ("{{lt 1 1.5}}", d.clone(), Err("template: :1:2: executing \"\" at <lt 1 1.5>: error calling lt: incompatible types for comparison")),
        ("{{printf}}", d.clone(), Err("template: :1:2: executing \"\" at <printf>: wrong number of args for printf: want at least 1 got 0")),
        ("{{printf 1}}", d.clone(), Err("template: :1:9: executing \"\" at <1>: expected string; found 1")),
        ("{{nil}}", d.clone(), Err("template: :1:2: executing \"\" at <nil>: nil is not a command")),
        ("{{.Name 1}}", d.clone(), Err("template: :1:2: executing \"\" at <.Name>: Name is not a method but has arguments")),
        ("{{\"x\" 1}}", d.clone(), Err("template: :1:2: executing \"\" at <\"x\">: can't give argument to non-function \"x\"")),
        ("{{$x := 1}}{{$x 2}}", d.clone(), Err("template: :1:13: executing \"\" at <$x>: can't give argument to non-function $x")),
        ("{{range .Name}}{{end}}", d.clone(), Err("template: :1:8: executing \"\" at <.Name>: range can't iterate over web")),
        ("{{range .Vol}}{{end}}", d.clone(), Err("template: :1:8: executing \"\" at <.Vol>: range can't iterate over {r1-a local}")),
        // text/template's `indirect`: a pointer is named by what it points to in len and
        // index; slice names the pointer type itself.
        ("{{len .Vol}}", d.clone(), Err("template: :1:2: executing \"\" at <len .Vol>: error calling len: len of type formatter.volumeContext")),
        ("{{index .Vol 1}}", d.clone(), Err("template: :1:2: executing \"\" at <index .Vol 1>: error calling index: can't index item of type formatter.volumeContext")),
        ("{{slice .Vol 1}}", d.clone(), Err("template: :1:2: executing \"\" at <slice .Vol 1>: error calling slice: can't slice item of type *formatter.volumeContext")),
        ("{{range $i, $e := 3}}{{end}}", d.clone(), Err("template: :1:18: executing \"\" at <3>: can't use 3 to iterate over more than one variable")),
        ("{{18446744073709551615}}", d.clone(), Err("template: :1:2: executing \"\" at <18446744073709551615>: 18446744073709551615 overflows int")),
        ("{{call .Name}}", d.clone(), Err("template: :1:2: executing \"\" at <call .Name>: error calling call: non-function .Name of type string")),
        ("{{call .Nope}}", d.clone(), Err("template: :1:2: executing \"\" at <call .Nope>: error calling call: call of nil")),
        ("{{with .Vol}}{{.Nope}}{{end}}", d.clone(), Err("template: :1:15: executing \"\" at <.Nope>: can't evaluate field Nope in type *formatter.volumeContext")),
        ("{{if true}}\n\t{{3 | len}}{{end}}", d.clone(), Err("template: :2:7: executing \"\" at <len>: error calling len: len of type int")),
        ("{{.Name | printf \"%s\" | len | upper}}", d.clone(), Err("template: :1:30: executing \"\" at <upper>: wrong type for value; expected string; got int")),
    ]);
}

#[test]
fn output_before_an_error_is_kept() {
    let t = Template::parse("a{{.Name}}b{{.Bogus}}c").unwrap();
    let mut out = Vec::new();
    let err = t.execute(&vol(), &mut out).unwrap_err();
    assert_eq!(out, b"ar1-ab");
    assert!(matches!(err, TemplateError::Exec(_)));
    assert!(matches!(
        Template::parse("{{"),
        Err(TemplateError::Parse(_))
    ));
}
