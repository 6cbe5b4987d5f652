//! Property tests of the compose loader: no input makes it panic or hang, and what
//! `compose config` prints reads back as the same project.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use myvol::compose::{LoadOptions, Project, Warnings, dotenv, load, template};
use myvol::output::compose::config_yaml;
use proptest::prelude::*;

fn options(src: String) -> LoadOptions {
    LoadOptions {
        files: vec![PathBuf::from("-")],
        cwd: PathBuf::from("/nonexistent/fuzz"),
        environ: BTreeMap::from([("SET".to_owned(), "value".to_owned())]),
        stdin: Some(src),
        home: Some(PathBuf::from("/home/user")),
        ..LoadOptions::default()
    }
}

fn load_str(src: &str) -> Result<Project, myvol::compose::ComposeError> {
    load(&options(src.to_owned()), &mut Warnings::default())
}

/// Text over YAML's and Compose's own alphabet, so that inputs get past the first checks.
fn yamlish() -> impl Strategy<Value = String> {
    let atoms = prop_oneof![
        Just("\n".to_owned()),
        Just("  ".to_owned()),
        Just(": ".to_owned()),
        Just("- ".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just(", ".to_owned()),
        Just("&a ".to_owned()),
        Just("*a".to_owned()),
        Just("<<: ".to_owned()),
        Just("!reset ".to_owned()),
        Just("!override ".to_owned()),
        Just("\"".to_owned()),
        Just("'".to_owned()),
        Just("|".to_owned()),
        Just("#".to_owned()),
        Just("${".to_owned()),
        Just("$".to_owned()),
        Just(":-".to_owned()),
        Just("services".to_owned()),
        Just("volumes".to_owned()),
        Just("image".to_owned()),
        Just("extends".to_owned()),
        Just("external".to_owned()),
        Just("type".to_owned()),
        Just("source".to_owned()),
        Just("target".to_owned()),
        Just("bind".to_owned()),
        Just("tmpfs".to_owned()),
        Just("/data".to_owned()),
        Just("./rel".to_owned()),
        Just("~".to_owned()),
        "[a-z0-9]{1,3}",
    ];
    prop::collection::vec(atoms, 0..40).prop_map(|v| v.concat())
}

fn short_volume() -> impl Strategy<Value = String> {
    let src = prop_oneof![Just(""), Just("data:"), Just("/host:"), Just("./rel:"), Just("~/h:"), Just("d:")];
    let target = prop_oneof![Just("/t"), Just("/a/../b/"), Just("/x/y")];
    let mode = prop_oneof![Just(""), Just(":ro"), Just(":rw,z"), Just(":nocopy"), Just(":ro,rshared")];
    (src, target, mode).prop_map(|(s, t, m)| format!("{s}{t}{m}"))
}

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,12}",
        Just("true".to_owned()),
        Just("1".to_owned()),
        Just("a: b".to_owned()),
        Just("multi\nline".to_owned()),
        Just("\ttab".to_owned()),
        // Not U+2028: yaml.v3 writes it raw in single quotes, followed by indentation that
        // a YAML 1.2 reader keeps (YAML 1.1 read it as a line break).
        Just("é ü".to_owned()),
        Just("-".to_owned()),
        Just("${SET}".to_owned()),
    ]
}

/// Compose files that load, with the keys myvol models.
fn project_src() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(short_volume(), 0..4),
        prop::collection::btree_map("[A-Z]{1,3}", scalar(), 0..4),
        prop::collection::btree_map("[a-z.]{1,5}", scalar(), 0..3),
        prop::option::of(scalar()),
        prop::bool::ANY,
    )
        .prop_map(|(vols, env, labels, command, ro)| {
            let q = |s: &str| serde_json::to_string(s).unwrap();
            let mut y = String::from("services:\n  web:\n    image: img\n");
            if !vols.is_empty() {
                y.push_str("    volumes:\n");
                for v in &vols {
                    y.push_str(&format!("      - {}\n", q(v)));
                }
            }
            if !env.is_empty() {
                y.push_str("    environment:\n");
                for (k, v) in &env {
                    y.push_str(&format!("      {k}: {}\n", q(v)));
                }
            }
            if !labels.is_empty() {
                y.push_str("    labels:\n");
                for (k, v) in &labels {
                    y.push_str(&format!("      {}: {}\n", q(k), q(v)));
                }
            }
            if let Some(c) = command {
                y.push_str(&format!("    command: {}\n", q(&format!("echo '{}'", c.replace('\'', "")))));
            }
            if ro {
                y.push_str("    read_only: true\n");
            }
            y.push_str("volumes:\n  data:\n    labels: {k: v}\n");
            y
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn loading_never_panics_nor_hangs(src in yamlish()) {
        let start = Instant::now();
        let _ = load_str(&src);
        prop_assert!(start.elapsed() < Duration::from_secs(5), "took {:?}", start.elapsed());
    }

    #[test]
    fn loading_bytes_never_panics(src in "\\PC{0,200}") {
        let _ = load_str(&src);
    }

    #[test]
    fn templates_and_env_files_never_panic(s in "[\\PC$:{}?+\\-]{0,40}") {
        let lookup = |k: &str| if k == "SET" { Some("v".to_owned()) } else { None };
        let _ = template::substitute(&s, &lookup, &mut Vec::new());
        let _ = dotenv::parse(&s, &mut BTreeMap::new(), &lookup);
    }

    #[test]
    fn config_output_reads_back_as_the_same_project(src in project_src()) {
        let first = load_str(&src);
        prop_assume!(first.is_ok());
        let first = first.unwrap();
        let printed = config_yaml(&first);
        // `compose config` doubles `$` so that interpolation gives the text back.
        let again = load_str(&printed);
        prop_assert!(again.is_ok(), "{:?}\n--- printed:\n{printed}", again.err());
        let again = again.unwrap();
        prop_assert_eq!(&first.services, &again.services, "printed:\n{}", printed);
        prop_assert_eq!(&first.volumes, &again.volumes);
        prop_assert_eq!(config_yaml(&again), printed);
    }
}
