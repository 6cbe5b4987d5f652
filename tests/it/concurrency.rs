//! 32 processes at once creating, inspecting, listing and removing overlapping names: every
//! answer is consistent, `ls` never fails, and the final store holds exactly what the
//! processes were told exists.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::env::TestEnv;

const WORKERS: usize = 32;
const ROUNDS: usize = 8;
const SHARED: usize = 8;

#[test]
fn thirty_two_processes_agree_on_the_store() {
    let t = Arc::new(TestEnv::new());
    let shared: Vec<String> = (0..SHARED).map(|i| format!("shared-{i}")).collect();
    let mut universe: BTreeSet<String> = shared.iter().cloned().collect();
    for w in 0..WORKERS {
        for k in 0..3 {
            universe.insert(format!("own-{w}-{k}"));
        }
    }
    let universe = Arc::new(universe);
    let handles: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (t, shared, universe) = (t.clone(), shared.clone(), universe.clone());
            std::thread::spawn(move || {
                let mut own_exists = [false; 3];
                let mut created_shared = BTreeSet::new();
                for r in 0..ROUNDS {
                    // Shared names are only ever created: every create must succeed.
                    let s = &shared[(w + r) % SHARED];
                    let o = t.run(&["volume", "create", s]);
                    assert_eq!(
                        (o.code, o.stdout.as_str(), o.stderr.as_str()),
                        (0, format!("{s}\n").as_str(), ""),
                        "create {s}"
                    );
                    created_shared.insert(s.clone());

                    // Inspect sees a volume whole or not at all.
                    let s = &shared[(w * 3 + r) % SHARED];
                    let o = t.run(&["volume", "inspect", s]);
                    match o.code {
                        0 => {
                            let v: serde_json::Value = serde_json::from_str(&o.stdout).expect("inspect JSON");
                            assert_eq!(v[0]["Name"], s.as_str());
                            assert_eq!(v[0]["Driver"], "local");
                        }
                        1 => assert_eq!(
                            (o.stdout.as_str(), o.stderr.clone()),
                            ("[]\n", format!("Error: get {s}: no such volume\n"))
                        ),
                        c => panic!("inspect exit {c}: {o:?}"),
                    }

                    // Own names toggle between created and removed; only this worker touches them.
                    let k = r % 3;
                    let own = format!("own-{w}-{k}");
                    if own_exists[k] {
                        let o = t.run(&["volume", "rm", &own]);
                        assert_eq!((o.code, o.stdout.clone()), (0, format!("{own}\n")), "rm {own}: {o:?}");
                    } else {
                        let o = t.run(&["volume", "create", &own]);
                        assert_eq!((o.code, o.stdout.clone()), (0, format!("{own}\n")), "create {own}: {o:?}");
                    }
                    own_exists[k] = !own_exists[k];
                    // The worker's own view is exact.
                    let o = t.run(&["volume", "inspect", "-f", "{{.Name}}", &own]);
                    assert_eq!(o.code == 0, own_exists[k], "inspect {own}: {o:?}");

                    // ls never fails and never shows anything that was not created.
                    let o = t.run(&["volume", "ls", "-q"]);
                    assert_eq!((o.code, o.stderr.as_str()), (0, ""), "ls: {o:?}");
                    for n in o.stdout.lines() {
                        assert!(universe.contains(n), "ls showed {n:?}");
                    }
                    let o = t.run(&["volume", "ls"]);
                    assert_eq!(o.code, 0, "ls: {o:?}");
                }
                let own: Vec<String> = (0..3).filter(|k| own_exists[*k]).map(|k| format!("own-{w}-{k}")).collect();
                (created_shared, own)
            })
        })
        .collect();
    let mut expected = BTreeSet::new();
    for h in handles {
        let (s, own) = h.join().expect("worker panicked");
        expected.extend(s);
        expected.extend(own);
    }
    let listed: BTreeSet<String> = t.ok(&["volume", "ls", "-q"]).lines().map(str::to_owned).collect();
    assert_eq!(listed, expected);
    for n in &expected {
        assert!(t.data(n).is_dir(), "{n} has no _data");
    }
    assert!(t.entries("tmp").is_empty(), "tmp/ not empty: {:?}", t.entries("tmp"));
    assert!(t.entries("trash").is_empty(), "trash/ not empty: {:?}", t.entries("trash"));
}
