//! `--filter` for `volume ls` and `volume prune`, with Docker's keys, combination rules and
//! error texts (daemon/volume/service/convert.go, by.go; api/types/filters).

use std::collections::{BTreeMap, BTreeSet};

use regex::Regex;
use thiserror::Error;

use crate::store::{ANONYMOUS_LABEL, Volume};
use crate::text::echo;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FilterError {
    #[error("bad format of filter (expected name=value)")]
    BadFormat,
    /// A key the command does not take (`invalid filter` alone for an empty key).
    #[error("invalid filter{}", if .0.is_empty() { String::new() } else { format!(" '{}'", echo(.0)) })]
    InvalidKey(String),
    /// A boolean filter without exactly one of true/1 or false/0 among its values.
    #[error("invalid filter '{}={}'", echo(key), echo(value))]
    InvalidValue { key: String, value: String },
    /// `prune --filter all=…` given more than once.
    #[error("invalid filter 'all={}': only one value is expected", echo(.0))]
    AllTwice(String),
    /// `prune --filter all=…` that Go's `strconv.ParseBool` refuses.
    #[error("invalid filter 'all': strconv.ParseBool: parsing {}: invalid syntax", echo(.0).quoted())]
    AllNotBool(String),
    /// `prune -a --filter all=…` (docker/cli's check, with its fixed text).
    #[error("conflicting options: cannot specify both --all and --filter all=1")]
    AllConflict,
    /// `until` given more than once (Docker's prune text).
    #[error("more than one until filter specified")]
    UntilTwice,
    /// An `until` that is neither a duration nor a time (Go's words, see [`crate::timestamp`]).
    #[error("{}", echo(.0))]
    Until(String),
}

/// The `until` filter: volumes created at or before this instant (Docker's prune rule: not
/// after it), read as Docker reads it ([`crate::timestamp`]) against `now`.
fn until(f: &Filters, now: jiff::Timestamp) -> Result<Option<jiff::Timestamp>, FilterError> {
    let values: Vec<&str> = f.values("until").collect();
    match values.as_slice() {
        [] => Ok(None),
        [v] => {
            crate::timestamp::parse(v, now, crate::timestamp::local_offset(now)).map(Some).map_err(FilterError::Until)
        }
        _ => Err(FilterError::UntilTwice),
    }
}

/// Whether `v` was created at or before `until` (a volume whose creation time is unknown:
/// no).
fn created_by(v: &Volume, until: Option<jiff::Timestamp>) -> bool {
    match until {
        None => true,
        Some(t) => v.created_at.parse::<jiff::Timestamp>().is_ok_and(|c| c <= t),
    }
}

/// Filter arguments: key → set of values, as Docker's `filters.Args`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters(BTreeMap<String, BTreeSet<String>>);

impl Filters {
    /// Parse repeated `-f key=value` flags: the key is lower-cased and both sides trimmed.
    pub fn parse<'a>(args: impl IntoIterator<Item = &'a str>) -> Result<Filters, FilterError> {
        let mut f = Filters::default();
        for arg in args {
            if arg.is_empty() {
                continue;
            }
            let (k, v) = arg.split_once('=').ok_or(FilterError::BadFormat)?;
            f.add(&k.trim().to_lowercase(), v.trim());
        }
        Ok(f)
    }

    pub fn add(&mut self, key: &str, value: &str) {
        self.0.entry(key.to_owned()).or_default().insert(value.to_owned());
    }

    pub fn values(&self, key: &str) -> impl Iterator<Item = &str> {
        self.0.get(key).into_iter().flatten().map(String::as_str)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// Refuse keys outside `accepted` (the first, in sorted order, is named).
    pub fn validate(&self, accepted: &[&str]) -> Result<(), FilterError> {
        match self.0.keys().find(|k| !accepted.contains(&k.as_str())) {
            Some(k) => Err(FilterError::InvalidKey(k.clone())),
            None => Ok(()),
        }
    }

    /// A boolean filter (`dangling`), as the engine's `GetBoolOrDefault`: exactly `true`,
    /// `1`, `false` or `0`, case-sensitive. Values that say true and false at once, or that
    /// say neither, are an error naming them all (other values beside a true or a false one
    /// are ignored, as in Docker).
    pub fn bool_value(&self, key: &str) -> Result<Option<bool>, FilterError> {
        if !self.contains(key) {
            return Ok(None);
        }
        let has = |v: &str| self.values(key).any(|x| x == v);
        let is_false = has("0") || has("false");
        let is_true = has("1") || has("true");
        if is_false == is_true {
            let all: Vec<&str> = self.values(key).collect();
            return Err(FilterError::InvalidValue { key: key.to_owned(), value: format!("[{}]", all.join(" ")) });
        }
        Ok(Some(is_true))
    }
}

/// `label` filters: every value must hold (`k` present, or `k=v` exactly); a volume without
/// labels matches only when there is no label filter.
pub fn match_labels<'a>(values: impl Iterator<Item = &'a str>, labels: Option<&BTreeMap<String, String>>) -> bool {
    let mut values = values.peekable();
    if values.peek().is_none() {
        return true;
    }
    let Some(labels) = labels.filter(|l| !l.is_empty()) else {
        return false;
    };
    values.all(|want| match want.split_once('=') {
        Some((k, v)) => labels.get(k).is_some_and(|have| have == v),
        None => labels.contains_key(want),
    })
}

/// `label!` filters (prune): a volume is excluded only when it carries every pair.
fn excluded_by_labels<'a>(values: impl Iterator<Item = &'a str>, labels: Option<&BTreeMap<String, String>>) -> bool {
    let mut values = values.peekable();
    if values.peek().is_none() {
        return false;
    }
    match_labels(values, labels)
}

/// `volume ls` filters, compiled.
pub struct ListFilter {
    names: Vec<(String, Option<Regex>)>,
    drivers: Vec<String>,
    labels: Vec<String>,
    until: Option<jiff::Timestamp>,
    pub dangling: Option<bool>,
    /// `in-use=BOOL` (myvol): used by a live process; the opposite of `dangling`.
    pub in_use: Option<bool>,
}

impl ListFilter {
    pub fn new(f: &Filters) -> Result<ListFilter, FilterError> {
        ListFilter::at(f, jiff::Timestamp::now())
    }

    /// With `until` durations counted back from `now`.
    pub fn at(f: &Filters, now: jiff::Timestamp) -> Result<ListFilter, FilterError> {
        f.validate(&["dangling", "driver", "in-use", "label", "name", "until"])?;
        let dangling = f.bool_value("dangling")?;
        let in_use = f.bool_value("in-use")?;
        Ok(ListFilter {
            // A value that is not a valid regexp still matches by equality, as Docker's.
            names: f.values("name").map(|n| (n.to_owned(), Regex::new(n).ok())).collect(),
            drivers: f.values("driver").map(str::to_owned).collect(),
            labels: f.values("label").map(str::to_owned).collect(),
            until: until(f, now)?,
            dangling,
            in_use,
        })
    }

    /// Whether matching needs more than the name (driver, labels or creation time from the
    /// metadata).
    pub fn needs_metadata(&self) -> bool {
        !self.drivers.is_empty() || !self.labels.is_empty() || self.until.is_some()
    }

    /// Whether a volume used (`true`) or not (`false`) by a live process passes `dangling`
    /// and `in-use`; `None` when neither is given (nothing to look at).
    pub fn wants_in_use(&self) -> Option<impl Fn(bool) -> bool + use<>> {
        let (dangling, in_use) = (self.dangling, self.in_use);
        (dangling.is_some() || in_use.is_some())
            .then_some(move |used: bool| dangling.is_none_or(|d| d != used) && in_use.is_none_or(|u| u == used))
    }

    /// The name filters alone.
    pub fn matches_name(&self, name: &str) -> bool {
        self.names.is_empty()
            || self.names.iter().any(|(n, re)| n == name || re.as_ref().is_some_and(|re| re.is_match(name)))
    }

    /// Everything but `dangling` and `in-use`, which need the store's lease check.
    pub fn matches(&self, v: &Volume) -> bool {
        let name = v.name.as_str();
        (self.names.is_empty()
            || self.names.iter().any(|(n, re)| n == name || re.as_ref().is_some_and(|re| re.is_match(name))))
            && (self.drivers.is_empty() || self.drivers.contains(&v.driver))
            && match_labels(self.labels.iter().map(String::as_str), v.labels.as_ref())
            && created_by(v, self.until)
    }
}

/// `volume prune` selection: anonymous volumes only unless `all`; `label`, `label!` and
/// `until`.
pub struct PruneFilter {
    all: bool,
    labels: Vec<String>,
    not_labels: Vec<String>,
    until: Option<jiff::Timestamp>,
}

impl PruneFilter {
    /// In Docker's order: the CLI refuses `-a` with an `all` filter; the engine reads `all`
    /// (one value, Go's `strconv.ParseBool`), then checks the keys, then reads `until`.
    pub fn new(f: &Filters, all_flag: bool) -> Result<PruneFilter, FilterError> {
        PruneFilter::at(f, all_flag, jiff::Timestamp::now())
    }

    /// With `until` durations counted back from `now`.
    pub fn at(f: &Filters, all_flag: bool, now: jiff::Timestamp) -> Result<PruneFilter, FilterError> {
        if all_flag && f.contains("all") {
            return Err(FilterError::AllConflict);
        }
        let values: Vec<&str> = f.values("all").collect();
        let all_filter = match values.as_slice() {
            [] => false,
            [v] => crate::text::parse_go_bool(v).ok_or_else(|| FilterError::AllNotBool((*v).to_owned()))?,
            _ => return Err(FilterError::AllTwice(format!("[{}]", values.join(" ")))),
        };
        f.validate(&["all", "label", "label!", "until"])?;
        let until = until(f, now)?;
        let all = all_flag || all_filter;
        let mut labels: Vec<String> = f.values("label").map(str::to_owned).collect();
        if !all {
            labels.push(ANONYMOUS_LABEL.to_owned());
        }
        Ok(PruneFilter { all, labels, not_labels: f.values("label!").map(str::to_owned).collect(), until })
    }

    pub fn all(&self) -> bool {
        self.all
    }

    pub fn matches(&self, v: &Volume) -> bool {
        match_labels(self.labels.iter().map(String::as_str), v.labels.as_ref())
            && !excluded_by_labels(self.not_labels.iter().map(String::as_str), v.labels.as_ref())
            && created_by(v, self.until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vol(name: &str, labels: &[(&str, &str)]) -> Volume {
        Volume {
            name: crate::name::VolumeName::parse(name).unwrap(),
            driver: "local".into(),
            created_at: String::new(),
            labels: (!labels.is_empty()).then(|| labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
            options: None,
            mountpoint: Default::default(),
            scope: "local".into(),
            owner: None,
            quota: None,
        }
    }

    fn lf(args: &[&str]) -> ListFilter {
        ListFilter::new(&Filters::parse(args.iter().copied()).unwrap()).unwrap()
    }

    #[test]
    fn list_filters_combine_as_docker() {
        let a = vol("r1-f3", &[("a", "b"), ("c", "")]);
        let cases: &[(&[&str], bool)] = &[
            (&[], true),
            (&["name=f3"], true),
            (&["name=^r1-f[12]$"], false),
            (&["name=^r1-f[34]$"], true),
            (&["name=zz", "name=r1"], true),
            (&["name=(unclosed"], false),
            (&["driver=local"], true),
            (&["driver=loc"], false),
            (&["label=a"], true),
            (&["label=a=b"], true),
            (&["label=a=zz"], false),
            (&["label=a", "label=c"], true),
            (&["label=a", "label=x"], false),
            (&["name=f3", "label=x"], false),
            (&["NAME = f3 "], true),
        ];
        for (args, want) in cases {
            assert_eq!(lf(args).matches(&a), *want, "{args:?}");
        }
        assert!(!lf(&["label=a"]).matches(&vol("nolabels", &[])));
    }

    #[test]
    fn filter_errors() {
        let e = |args: &[&str]| match Filters::parse(args.iter().copied()) {
            Err(e) => e.to_string(),
            Ok(f) => ListFilter::new(&f).err().map(|e| e.to_string()).unwrap_or_default(),
        };
        assert_eq!(e(&["nokey"]), "bad format of filter (expected name=value)");
        assert_eq!(e(&["bogus=1"]), "invalid filter 'bogus'");
        assert_eq!(e(&["label!=a"]), "invalid filter 'label!'");
        assert_eq!(e(&["dangling=yes"]), "invalid filter 'dangling=[yes]'");
        assert_eq!(e(&["dangling=true", "dangling=false"]), "invalid filter 'dangling=[false true]'");
        assert_eq!(e(&["dangling=1"]), "");
        assert_eq!(e(&["dangling=TRUE"]), "invalid filter 'dangling=[TRUE]'");
        assert_eq!(e(&["dangling=true", "dangling=yes"]), "");
        assert_eq!(e(&["dangling=yes", "dangling=no"]), "invalid filter 'dangling=[no yes]'");
        assert_eq!(e(&["=x"]), "invalid filter");
        assert_eq!(e(&["bogus=1", "alpha=2"]), "invalid filter 'alpha'");
    }

    #[test]
    fn until_is_read_as_docker_reads_it_and_compares_creation_times() {
        let now: jiff::Timestamp = "2026-06-15T12:00:00Z".parse().unwrap();
        let mut old = vol("old", &[(ANONYMOUS_LABEL, "")]);
        old.created_at = "2026-06-15T10:00:00.5Z".into();
        let mut new = vol("new", &[(ANONYMOUS_LABEL, "")]);
        new.created_at = "2026-06-15T11:59:00Z".into();
        let list = |args: &[&str]| ListFilter::at(&Filters::parse(args.iter().copied()).unwrap(), now);
        let prune = |args: &[&str]| PruneFilter::at(&Filters::parse(args.iter().copied()).unwrap(), false, now);
        for args in [&["until=1h"][..], &["until=2026-06-15T11:00:00Z"], &["until=1781521200"]] {
            let (l, p) = (list(args).unwrap(), prune(args).unwrap());
            assert!(l.matches(&old) && !l.matches(&new), "{args:?}");
            assert!(p.matches(&old) && !p.matches(&new), "{args:?}");
        }
        // At or before: the creation instant itself is in.
        assert!(list(&["until=2026-06-15T10:00:00.5Z"]).unwrap().matches(&old));
        assert!(list(&["until=1h"]).unwrap().needs_metadata());
        let err = |r: Result<ListFilter, FilterError>| r.err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(err(list(&["until=1h", "until=2h"])), "more than one until filter specified");
        assert_eq!(err(list(&["until=soon"])), r#"failed to parse value as time or duration: "soon""#);
        assert_eq!(
            prune(&["until=2026-13-01"]).err().unwrap().to_string(),
            r#"parsing time "2026-13-01": month out of range"#
        );
        // The keys are checked first, as the engine does.
        assert_eq!(prune(&["until=x", "bogus=1"]).err().unwrap().to_string(), "invalid filter 'bogus'");
    }

    #[test]
    fn in_use_is_the_opposite_of_dangling() {
        let wants = |args: &[&str]| lf(args).wants_in_use().map(|f| (f(true), f(false)));
        assert_eq!(wants(&[]), None);
        assert_eq!(wants(&["in-use=true"]), Some((true, false)));
        assert_eq!(wants(&["in-use=0"]), Some((false, true)));
        assert_eq!(wants(&["dangling=true"]), Some((false, true)));
        assert_eq!(wants(&["dangling=true", "in-use=true"]), Some((false, false)));
        let e = ListFilter::new(&Filters::parse(["in-use=yes"]).unwrap()).err().unwrap();
        assert_eq!(e.to_string(), "invalid filter 'in-use=[yes]'");
    }

    #[test]
    fn prune_selection() {
        let anon = vol("anon", &[(ANONYMOUS_LABEL, ""), ("keep", "yes")]);
        let named = vol("named", &[("a", "b")]);
        let f = |args: &[&str], all| PruneFilter::new(&Filters::parse(args.iter().copied()).unwrap(), all).unwrap();
        assert!(f(&[], false).matches(&anon));
        assert!(!f(&[], false).matches(&named));
        assert!(f(&[], true).matches(&named));
        assert!(f(&["all=1"], false).matches(&named));
        assert!(!f(&["label!=keep"], false).matches(&anon));
        assert!(f(&["label!=keep=no"], false).matches(&anon));
        assert!(f(&["label=a"], true).matches(&named));
        assert!(!f(&["label=a"], true).matches(&anon));
        assert!(f(&["label!=a"], true).matches(&anon));
        assert!(f(&["all=T"], false).matches(&named));
        assert!(!f(&["all=False"], false).matches(&named));
        let err = |args: &[&str], all| {
            PruneFilter::new(&Filters::parse(args.iter().copied()).unwrap(), all).err().unwrap().to_string()
        };
        assert_eq!(err(&["all=1"], true), "conflicting options: cannot specify both --all and --filter all=1");
        assert_eq!(err(&["all=0"], true), "conflicting options: cannot specify both --all and --filter all=1");
        assert_eq!(
            err(&["all=yes", "bogus=1"], true),
            "conflicting options: cannot specify both --all and --filter all=1"
        );
        assert_eq!(err(&["dangling=1"], true), "invalid filter 'dangling'");
        assert_eq!(
            err(&["all=yes"], false),
            "invalid filter 'all': strconv.ParseBool: parsing \"yes\": invalid syntax"
        );
        assert_eq!(err(&["all=1", "all=0"], false), "invalid filter 'all=[0 1]': only one value is expected");
        // The engine reads `all` before it checks the keys.
        assert_eq!(
            err(&["bogus=1", "all=yes"], false),
            "invalid filter 'all': strconv.ParseBool: parsing \"yes\": invalid syntax"
        );
    }
}
