//! Hostile and broken input: garbage templates never panic or overflow the stack, values
//! stay within their limit, and a failing writer stops execution.

use super::*;

/// Parse and execute a few thousand garbage templates built from fragments: no panics, no
/// stack overflow, and every failure is a typed error.
#[test]
fn garbage_never_panics() {
    const FRAGMENTS: &[&str] = &[
        "{{",
        "}}",
        "{{-",
        "-}}",
        " ",
        "\n",
        ".",
        ".Name",
        ".Vol",
        ".Labels",
        ".List",
        "$",
        "$x",
        ":=",
        "=",
        "|",
        "(",
        ")",
        "\"",
        "\"s\"",
        "`r`",
        "'c'",
        "'",
        "1",
        "-2",
        "0x",
        "1.5e3",
        "1e400",
        "if",
        "else",
        "end",
        "range",
        "with",
        "break",
        "continue",
        "nil",
        "true",
        "printf",
        "\"%d %s %v %q %x %5.2f %*d\"",
        "index",
        "slice",
        "len",
        "eq",
        "lt",
        "and",
        "or",
        "not",
        "json",
        "split",
        "join",
        "pad",
        "truncate",
        "title",
        "call",
        "print",
        "html",
        "js",
        "urlquery",
        "/*",
        "*/",
        ",",
        "x",
        "é",
        "→",
        "\t",
        "-",
        "#",
        "define",
        "template",
        "block",
        "{{range .List}}",
        "{{end}}",
        "{{if .T}}",
        "{{else}}",
        ".N",
        ".Nope",
        "9223372036854775808",
        "-1",
        "$.List",
        ".Vol.Label",
        "\\",
        "0",
        "3",
    ];
    let d = data();
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    let mut parsed = 0;
    for _ in 0..3000 {
        let n = 1 + next() % 14;
        let src: String = (0..n)
            .map(|_| FRAGMENTS[next() % FRAGMENTS.len()])
            .collect();
        if let Ok(t) = Template::parse(&src) {
            parsed += 1;
            let _ = t.render(&d);
        }
    }
    assert!(parsed > 100, "only {parsed} garbage templates parsed");
    // Deep nesting is refused, not a stack overflow.
    let deep = format!("{{{{{}1{}}}}}", "(".repeat(5000), ")".repeat(5000));
    assert_eq!(
        Template::parse(&deep).unwrap_err().to_string(),
        "template: :1: max expression depth exceeded"
    );
    let deep = "{{if 1}}".repeat(5000);
    assert!(Template::parse(&deep).is_err());
    // The deepest accepted nesting executes without exhausting a test thread's stack.
    let deep = format!("{{{{{}1{}}}}}", "(".repeat(95), ")".repeat(95));
    assert_eq!(run(&deep, &d).unwrap(), "1");
    let deep = format!(
        "{}{{{{(((len $.List)))}}}}{}",
        "{{if 1}}{{with $.List}}".repeat(45),
        "{{end}}{{end}}".repeat(45)
    );
    assert_eq!(run(&deep, &d).unwrap(), "3");
}

#[test]
fn values_are_limited() {
    let d = data();
    let limit = "the 64 MiB limit";
    for src in [
        "{{$x := printf \"%1000000d\" 1}}{{range 100}}{{$x = printf \"%s%s\" $x $x}}{{end}}",
        "{{len (split (printf \"%3000000s\" \"\") \"\")}}",
        "{{printf \"%10000000v\" (split (printf \"%100s\" \"\") \"\")}}",
        "{{$a := printf \"%9000000d\" 1}}{{$b := printf \"%9000000d\" 1}}{{$c := printf \"%9000000d\" 1}}\
         {{$d := printf \"%9000000d\" 1}}{{$e := printf \"%9000000d\" 1}}{{$f := printf \"%9000000d\" 1}}\
         {{$g := printf \"%9000000d\" 1}}{{$h := printf \"%9000000d\" 1}}",
        "{{pad \"x\" 70000000 1}}",
        "{{json (split (printf \"%2000000s\" \"\") \"\")}}",
    ] {
        let err = run(src, &d).unwrap_err();
        assert!(err.contains(limit), "{src}: {err}");
    }
    // Values a node is done with are given back: the same work in a loop is fine.
    assert_eq!(run("{{range 12}}{{$x := printf \"%9000000d\" 1}}{{end}}ok", &d).unwrap(), "ok");
}

#[test]
fn write_errors_stop_execution() {
    struct Closed(usize);
    impl std::io::Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            self.0 += 1;
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let t = Template::parse("{{range 1000000000}}{{range 1000000000}}x{{end}}{{end}}").unwrap();
    let mut w = Closed(0);
    let err = t.execute(&data(), &mut w).unwrap_err();
    assert!(matches!(err, TemplateError::Write(ref e) if e.kind() == std::io::ErrorKind::BrokenPipe), "{err:?}");
    assert_eq!(w.0, 1, "one write, then stop");
}
