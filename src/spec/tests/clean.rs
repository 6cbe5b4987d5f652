//! Go's `path.Clean` (`path_test.go` `cleantests`).

use super::*;

macro_rules! clean {
    ($($name:ident: $s:expr => $want:expr;)*) => {$(
        #[test]
        fn $name() {
            assert_eq!(clean_path($s), $want, "{:?}", $s);
        }
    )*};
}

clean! {
    cl_empty: "" => "."; // cleantests
    cl_abc: "abc" => "abc"; // cleantests
    cl_abc_def: "abc/def" => "abc/def"; // cleantests
    cl_dot: "." => "."; // cleantests
    cl_dotdot: ".." => ".."; // cleantests
    cl_dotdot2: "../.." => "../.."; // cleantests
    cl_dotdot_abc: "../../abc" => "../../abc"; // cleantests
    cl_root_abc: "/abc" => "/abc"; // cleantests
    cl_root: "/" => "/"; // cleantests
    cl_trailing: "abc/" => "abc"; // cleantests
    cl_trailing_abs: "/abc/" => "/abc"; // cleantests
    cl_double: "abc//def//ghi" => "abc/def/ghi"; // cleantests
    cl_double_root: "//abc" => "/abc"; // cleantests
    cl_triple_root: "///abc" => "/abc"; // cleantests
    cl_double_both: "//abc//" => "/abc"; // cleantests
    cl_dot_mid: "abc/./def" => "abc/def"; // cleantests
    cl_dot_root: "/./abc/def" => "/abc/def"; // cleantests
    cl_dot_end: "abc/." => "abc"; // cleantests
    cl_dotdot_mid: "abc/def/ghi/../jkl" => "abc/def/jkl"; // cleantests
    cl_dotdot_twice: "abc/def/../ghi/../jkl" => "abc/jkl"; // cleantests
    cl_dotdot_end: "abc/def/.." => "abc"; // cleantests
    cl_dotdot_to_dot: "abc/def/../.." => "."; // cleantests
    cl_dotdot_to_root: "/abc/def/../.." => "/"; // cleantests
    cl_dotdot_above: "abc/def/../../.." => ".."; // cleantests
    cl_dotdot_above_root: "/abc/def/../../.." => "/"; // cleantests
    cl_dotdot_long: "abc/def/../../../ghi/jkl/../../../mno" => "../../mno"; // cleantests
    cl_dot_dotdot: "abc/./../def" => "def"; // cleantests
    cl_double_dot_dotdot: "abc//./../def" => "def"; // cleantests
    cl_many: "abc/../../././../def" => "../../def"; // cleantests
}
