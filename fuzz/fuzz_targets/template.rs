#![no_main]

use std::collections::BTreeMap;
use std::io;

use gotemplate::{Funcs, Template, TemplateError, Value};
use libfuzzer_sys::fuzz_target;

/// A writer that fails after a megabyte, as a closed pipe does, so that long outputs end.
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

fuzz_target!(|src: &str| {
    let Ok(t) = Template::parse(src) else { return };
    let mut m = BTreeMap::new();
    m.insert("Name".to_owned(), Value::str("web"));
    m.insert("List".to_owned(), Value::list(vec![Value::str("a"), Value::Int(2), Value::Nil]));
    m.insert("Labels".to_owned(), Value::map(BTreeMap::from([("k".to_owned(), Value::str("v"))])));
    let dot = Value::map(m);
    for funcs in [Funcs::Docker, Funcs::DockerHeader] {
        match t.execute_with(&dot, &mut Capped(0), funcs) {
            Ok(()) | Err(TemplateError::Write(_)) => {}
            Err(TemplateError::Exec(m)) => assert!(m.starts_with("template: ")),
            Err(TemplateError::Parse(m)) => panic!("parse error at execution: {m}"),
        }
    }
});
