use super::*;

#[test]
fn key_order_as_yaml_v3() {
    let mut keys = vec![
        "web", "Web2", "_w", "123", "a10", "a9", "a09", "a010", "ab", "aB", "a_b", "a-b", "a.b", "A", "_", "1", "01",
        "2", "b1a", "b1", "x y", "é",
    ];
    keys.sort_by(|a, b| yaml_key_cmp(a, b));
    assert_eq!(
        keys,
        [
            "_", "_w", "1", "01", "2", "123", "A", "Web2", "a-b", "a.b", "a_b", "a9", "a09", "a10", "a010", "aB", "ab",
            "b1", "b1a", "web", "x y", "é"
        ]
    );
}

#[test]
fn scalar_styles_as_yaml_v3() {
    let cases: &[(&str, &str)] = &[
        ("", "\"\""),
        ("true", "\"true\""),
        ("1.5", "\"1.5\""),
        ("-", "'-'"),
        ("a: b", "'a: b'"),
        (" lead", "' lead'"),
        ("trail ", "'trail '"),
        ("tab\there", "\"tab\\there\""),
        ("#hash", "'#hash'"),
        ("a #b", "'a #b'"),
        ("~", "\"~\""),
        ("0x1F", "\"0x1F\""),
        ("{x}", "'{x}'"),
        ("'q'", "'''q'''"),
        ("\"dq\"", "'\"dq\"'"),
        ("é ü", "é ü"),
        ("- x", "'- x'"),
        (":x", ":x"),
        ("x:", "'x:'"),
        ("1_000", "\"1_000\""),
        ("on", "\"on\""),
        ("y", "\"y\""),
        ("  ", "'  '"),
        ("2001-12-14", "\"2001-12-14\""),
        ("12:30", "\"12:30\""),
        ("---", "'---'"),
        ("x,y", "x,y"),
        ("a\u{85}b", "\"a\\Nb\""),
        ("ctrl\u{1}", "\"ctrl\\x01\""),
        ("1:2:3", "\"1:2:3\""),
        ("=x", "=x"),
        ("a\\b", "a\\b"),
        ("${X}", "${X}"),
        ("/host/logs", "/host/logs"),
        ("1000:1000", "1000:1000"),
    ];
    for (s, want) in cases {
        let got = to_yaml(&Node::Map(vec![("k".into(), Node::str(*s))]));
        assert_eq!(got, format!("k: {want}\n"), "{s:?}");
    }
}

#[test]
fn block_scalars_as_yaml_v3() {
    let doc = Node::Map(vec![(
        "env".into(),
        Node::Map(vec![
            ("a".into(), Node::str("multi\nline\n")),
            ("b".into(), Node::str("multi\nline")),
            ("c".into(), Node::str("\n lead")),
            ("d".into(), Node::str("last\n\n")),
            ("e".into(), Node::str("after")),
        ]),
    )]);
    assert_eq!(
        to_yaml(&doc),
        "env:\n  a: |\n    multi\n    line\n  b: |-\n    multi\n    line\n  c: |2-\n\n     lead\n  d: |+\n    last\n\n  e: after\n"
    );
}

#[test]
fn layout_as_yaml_v3() {
    let doc = Node::Map(vec![
        ("name".into(), Node::str("p")),
        (
            "services".into(),
            Node::Map(vec![(
                "w".into(),
                Node::Map(vec![
                    ("command".into(), Node::Seq(vec![])),
                    ("networks".into(), Node::Map(vec![("default".into(), Node::Null)])),
                    (
                        "volumes".into(),
                        Node::Seq(vec![Node::Map(vec![
                            ("type".into(), Node::str("volume")),
                            ("volume".into(), Node::Map(vec![])),
                        ])]),
                    ),
                ]),
            )]),
        ),
    ]);
    assert_eq!(
        to_yaml(&doc),
        "name: p\nservices:\n  w:\n    command: []\n    networks:\n      default: null\n    volumes:\n      - type: volume\n        volume: {}\n"
    );
}
