//! The checker behind the schema: a small JSON-schema subset (types, enums, `oneOf`, arrays,
//! objects with patterns and required keys) that reports failures as Compose's validator
//! does, the most specific one first.

use crate::compose::value::{Map, Path, Value};

/// A schema node.
pub(super) enum S {
    /// Anything.
    Any,
    /// One of these JSON types.
    Type(&'static [&'static str]),
    /// A string from a list.
    Enum(&'static [&'static str]),
    /// A string or a non-negative integer (`tmpfs.size`).
    SizeLike,
    /// Exactly one of these.
    OneOf(Vec<S>),
    /// An array of items.
    Array(Box<S>),
    /// An object.
    Object(Obj),
}

/// Names a pattern allows, and their schema.
pub(super) type Pattern = (fn(&str) -> bool, Box<S>);

pub(super) struct Obj {
    /// Allowed types besides "object" (a volume may be null).
    pub(super) also: &'static [&'static str],
    pub(super) props: Vec<(&'static str, S)>,
    /// Names matching this are allowed, checked against the schema.
    pub(super) pattern: Option<Pattern>,
    /// `^x-` names are allowed.
    pub(super) extensions: bool,
    /// Names not covered by `props`, `pattern` or extensions are refused.
    pub(super) closed: bool,
    pub(super) required: &'static [&'static str],
}

impl Obj {
    pub(super) fn closed(props: Vec<(&'static str, S)>) -> Obj {
        Obj { also: &[], props, pattern: None, extensions: true, closed: true, required: &[] }
    }
}

/// One failure, with the failures it is made of.
pub(super) struct Failure {
    location: Vec<String>,
    message: String,
    additional: bool,
    causes: Vec<Failure>,
}

impl Failure {
    fn leaf(path: &Path, message: String) -> Failure {
        Failure { location: path.parts().to_vec(), message, additional: false, causes: Vec::new() }
    }

    fn specificity(&self) -> usize {
        self.location.len() + usize::from(self.additional)
    }

    /// The failure Compose reports: the deepest leaf, the first on ties.
    pub(super) fn most_specific(self) -> Failure {
        if self.causes.is_empty() {
            return self;
        }
        let mut best: Option<Failure> = None;
        for cause in self.causes {
            let cause = cause.most_specific();
            if best.as_ref().is_none_or(|b| cause.specificity() > b.specificity()) {
                best = Some(cause);
            }
        }
        best.expect("causes is not empty")
    }

    pub(super) fn render(&self) -> String {
        format!("{} {}", self.location.join("."), self.message)
    }
}

fn type_matches(v: &Value, t: &str) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => matches!(v, Value::Bool(_)),
        "integer" => matches!(v, Value::Int(_)) || matches!(v, Value::Float(f) if f.fract() == 0.0),
        "number" => matches!(v, Value::Int(_) | Value::Float(_)),
        "string" => matches!(v, Value::Str(_)),
        "array" => matches!(v, Value::Seq(_)),
        "object" => matches!(v, Value::Map(_)),
        _ => false,
    }
}

fn human(t: &str) -> &str {
    if t == "object" { "mapping" } else { t }
}

fn type_message(types: &[&str]) -> String {
    if types.len() == 1 {
        return format!("must be a {}", human(types[0]));
    }
    let mut names: Vec<&str> = types.iter().map(|t| human(t)).collect();
    names.sort_unstable();
    let (last, rest) = names.split_last().expect("several types");
    format!("must be a {} or {last}", rest.join(", "))
}

fn check(s: &S, v: &Value, path: &Path) -> Option<Failure> {
    match s {
        S::Any => None,
        S::Type(types) => {
            if types.iter().any(|t| type_matches(v, t)) {
                None
            } else {
                Some(Failure::leaf(path, type_message(types)))
            }
        }
        S::Enum(options) => match v {
            Value::Str(s) if options.contains(&s.as_str()) => None,
            Value::Str(_) => {
                let list: Vec<String> = options.iter().map(|o| format!("'{o}'")).collect();
                Some(Failure::leaf(path, format!("value must be one of {}", list.join(", "))))
            }
            _ => Some(Failure::leaf(path, type_message(&["string"]))),
        },
        S::SizeLike => match v {
            Value::Str(_) => None,
            Value::Int(i) if *i >= 0 => None,
            Value::Int(_) => Some(Failure::leaf(path, "must be greater than or equal to 0".to_owned())),
            _ => Some(Failure::leaf(path, type_message(&["integer"]))),
        },
        S::OneOf(alternatives) => {
            let mut causes = Vec::new();
            for alt in alternatives {
                match check(alt, v, path) {
                    None => return None,
                    Some(f) => causes.push(f),
                }
            }
            Some(Failure { location: path.parts().to_vec(), message: String::new(), additional: false, causes })
        }
        S::Array(item) => {
            let Value::Seq(items) = v else {
                return Some(Failure::leaf(path, type_message(&["array"])));
            };
            let causes: Vec<Failure> =
                items.iter().enumerate().filter_map(|(i, it)| check(item, it, &path.next(i.to_string()))).collect();
            group(path, causes)
        }
        S::Object(obj) => {
            let Value::Map(m) = v else {
                if obj.also.iter().any(|t| type_matches(v, t)) {
                    return None;
                }
                let mut types = vec!["object"];
                types.extend_from_slice(obj.also);
                return Some(Failure::leaf(path, type_message(&types)));
            };
            check_object(obj, m, path)
        }
    }
}

fn group(path: &Path, mut causes: Vec<Failure>) -> Option<Failure> {
    match causes.len() {
        0 => None,
        1 => causes.pop(),
        _ => Some(Failure { location: path.parts().to_vec(), message: String::new(), additional: false, causes }),
    }
}

pub(super) fn check_object(obj: &Obj, m: &Map, path: &Path) -> Option<Failure> {
    let mut causes = Vec::new();
    let mut extra = Vec::new();
    for (k, v) in m {
        if let Some((_, s)) = obj.props.iter().find(|(name, _)| name == k) {
            if let Some(f) = check(s, v, &path.next(k.clone())) {
                causes.push(f);
            }
            continue;
        }
        if obj.extensions && k.starts_with("x-") {
            continue;
        }
        if let Some((matches, s)) = &obj.pattern
            && matches(k)
        {
            if let Some(f) = check(s, v, &path.next(k.clone())) {
                causes.push(f);
            }
            continue;
        }
        if obj.closed {
            extra.push(format!("'{k}'"));
        }
    }
    for r in obj.required {
        if !m.contains_key(*r) {
            causes.push(Failure::leaf(path, format!("missing property '{r}'")));
        }
    }
    if !extra.is_empty() {
        causes.push(Failure {
            location: path.parts().to_vec(),
            message: format!("additional properties {} not allowed", extra.join(", ")),
            additional: true,
            causes: Vec::new(),
        });
    }
    group(path, causes)
}
