//! `--format` as Docker 28 prints it (docker/cli's formatter, templates and inspect packages,
//! Go 1.24's text/template), through the real binary.

use crate::env::{TestEnv, mask_times};

/// A store with volume `web` labelled `h=<b>&c` and `com.example.my-label=x`.
fn env() -> TestEnv {
    let env = TestEnv::new();
    env.ok(&["volume", "create", "--label", "h=<b>&c", "--label", "com.example.my-label=x", "web"]);
    env
}

/// Docker renders a table's header with its header functions, which leave the column title
/// alone: `json`, `split`, `join`, `title`, `lower`, `upper` and `truncate` return it as is.
#[test]
fn table_headers_ignore_the_text_functions() {
    let env = env();
    env.expect(
        &["volume", "ls", "--format", "table {{lower .Name}}|{{truncate .Name 2}}|{{upper .Driver}}|{{title .Scope}}"],
        0,
        "VOLUME NAME|VOLUME NAME|DRIVER|SCOPE\nweb|we|LOCAL|Local\n",
        "",
    );
    env.expect(
        &["volume", "ls", "--format", r#"table {{split .Name "e"}}\t{{join (split .Name "e") "-"}}"#],
        0,
        "VOLUME NAME   VOLUME NAME\n[w b]         w-b\n",
        "",
    );
    // `pad` is not replaced: the header is padded like the rows.
    env.expect(&["volume", "ls", "--format", "table {{pad .Name 1 1}}|"], 0, " VOLUME NAME |\n web |\n", "");
    // The header's `.Label` titles the last part of the key, `-` and `_` as spaces.
    env.expect(&["volume", "ls", "--format", r#"table {{.Label "com.example.my-label"}}"#], 0, "my label\nx\n", "");
}

/// `table {{json .}}`: the header's `json` wants a string and gets the header map, so the
/// header line stays empty; rows are the formatter context's own JSON (HTML-escaped, as its
/// `MarshalJSON` uses `json.Marshal`).
#[test]
fn table_of_json() {
    let env = env();
    let row = r#"{"Availability":"N/A","Driver":"local","Group":"N/A","Labels":"com.example.my-label=x,h=\u003cb\u003e\u0026c","Links":"N/A","Mountpoint":"<ROOT>/volumes/web/_data","Name":"web","Scope":"local","Size":"N/A","Status":"N/A"}"#;
    env.expect(&["volume", "ls", "--format", "table {{json .}}"], 0, &format!("\n{row}\n"), "");
    env.expect(&["volume", "ls", "--format", "json"], 0, &format!("{row}\n"), "");
}

/// The template `json` function does not escape HTML characters (`SetEscapeHTML(false)`);
/// objects with their own `MarshalJSON` (the list contexts) and the inspect JSON do.
#[test]
fn json_escaping_per_output() {
    let env = env();
    env.expect(&["volume", "ls", "--format", "{{json .Labels}}"], 0, "\"com.example.my-label=x,h=<b>&c\"\n", "");
    env.expect(
        &["volume", "inspect", "-f", "{{json .Labels}}", "web"],
        0,
        "{\"com.example.my-label\":\"x\",\"h\":\"<b>&c\"}\n",
        "",
    );
    let o = env.run(&["volume", "inspect", "-f", "{{json .}}", "web"]);
    assert!(o.ok().contains(r#""Labels":{"com.example.my-label":"x","h":"<b>&c"}"#), "{o:?}");
    let o = env.run(&["volume", "inspect", "web"]);
    assert!(o.ok().contains(r#""h": "\u003cb\u003e\u0026c""#), "{o:?}");
    let o = env.run(&["volume", "inspect", "--format", "json", "web"]);
    assert!(o.ok().contains(r#""h":"\u003cb\u003e\u0026c""#), "{o:?}");
}

/// An empty `--format` is the default output.
#[test]
fn empty_format_is_the_default() {
    let env = env();
    env.expect(&["volume", "ls", "--format", ""], 0, "DRIVER    VOLUME NAME\nlocal     web\n", "");
    env.expect(&["volume", "ls", "-q", "--format", ""], 0, "web\n", "");
    assert_eq!(env.ok(&["volume", "inspect", "--format", "", "web"]), env.ok(&["volume", "inspect", "web"]));
}

/// Go 1.24's wording, and Go's `%v` of docker/cli's contexts.
#[test]
fn error_wording() {
    let env = env();
    env.expect(
        &["volume", "ls", "--format", "{{ge 1.5 2}}"],
        1,
        "",
        "Error: template parsing error: template: :1:2: executing \"\" at <ge 1.5 2>: error calling ge: \
         incompatible types for comparison\n",
    );
    // text/template names the pointer by what it points to (docker/tpl-ls-range-dot.json).
    let o = env.run(&["volume", "ls", "--format", "{{range .}}{{end}}"]);
    assert_eq!(o.code, 1);
    assert_eq!(
        mask_times(&o.stderr),
        "Error: template parsing error: template: :1:8: executing \"\" at <.>: range can't iterate over \
         {{<nil>} {<nil> <TIME> local map[com.example.my-label:x h:<b>&c] <ROOT>/volumes/web/_data web map[] \
         local map[] <nil>}}\n"
    );
    // A failing row prints nothing of the listing, as Docker's buffered formatter.
    env.ok(&["volume", "create", "zz"]);
    env.expect(
        &["volume", "ls", "--format", r#"{{.Name}}{{if eq .Name "zz"}}{{.Bogus}}{{end}}"#],
        1,
        "",
        "Error: template parsing error: template: :1:31: executing \"\" at <.Bogus>: can't evaluate field Bogus \
         in type *formatter.volumeContext\n",
    );
}

/// `{{define}}`, `{{template}}` and `{{block}}`, as Go and Docker accept them.
#[test]
fn defined_templates() {
    let env = env();
    env.expect(
        &[
            "volume",
            "inspect",
            "-f",
            r#"{{define "n"}}[{{.Name}}]{{end}}{{template "n" .}}{{block "d" .Driver}}<{{.}}>{{end}}"#,
            "web",
        ],
        0,
        "[web]<local>\n",
        "",
    );
    env.expect(
        &["volume", "inspect", "-f", r#"{{template "x" .}}"#, "web"],
        1,
        "\n",
        "Error: template parsing error: template: :1:11: executing \"\" at <{{template \"x\" .}}>: template \"x\" \
         not defined\n",
    );
    env.expect(
        &["volume", "inspect", "-f", r#"{{define "a"}}{{.Nope}}{{end}}{{template "a" .}}"#, "web"],
        1,
        "\n",
        "Error: template parsing error: template: :1:16: executing \"a\" at <.Nope>: can't evaluate field Nope in \
         type volume.Volume\n",
    );
}

/// docker/cli's `volumesFormat` and `imagesFormat` (config.json in `$DOCKER_CONFIG`): the list
/// format when neither `--format` (an empty one counts as none) nor `-q` is given.
#[test]
fn list_formats_from_the_docker_config_file() {
    let env = env();
    let dir = env.dir.path().join("docker-config");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.json"), r#"{"volumesFormat":"{{.Name}}!{{.Driver}}","imagesFormat":"{{.ID}}"}"#)
        .unwrap();
    env.expect(&["volume", "ls"], 0, "web!local\n", "");
    env.expect(&["volume", "ls", "--format", ""], 0, "web!local\n", "");
    env.expect(&["volume", "ls", "-q"], 0, "web\n", "");
    env.expect(&["volume", "ls", "--format", "{{.Scope}}"], 0, "local\n", "");
    env.expect(&["volume", "ls", "--format", "table"], 0, "DRIVER    VOLUME NAME\nlocal     web\n", "");
    // images: the config's format, here over no images (no header, unlike the table).
    env.expect(&["images"], 0, "", "");
    // A config that does not parse: Docker's warning, and the default table.
    std::fs::write(dir.join("config.json"), "{bad").unwrap();
    let o = env.run(&["volume", "ls"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "DRIVER    VOLUME NAME\nlocal     web\n"), "{o:?}");
    assert!(o.stderr.starts_with("WARNING: Error loading config file "), "{o:?}");
}
