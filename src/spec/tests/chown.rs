//! podman's `U`: chown the source to the run's user (not Docker's).

use super::*;

ok! {
    u_volume: v("vol:/data:U") => "volume vol /data chown mode=U";
    u_volume_ro: v("vol:/data:ro,U") => "volume vol /data ro chown mode=ro,U";
    u_bind: v("/src:/data:U,rslave") => "bind /src /data chown mode=U,rslave prop=rslave";
    u_mount_bare: m("type=volume,src=vol,dst=/data,U") => "volume vol /data chown";
    u_mount_chown: m("type=bind,src=/src,dst=/data,chown=TRUE") => "bind /src /data chown";
    u_mount_empty: m("src=vol,dst=/data,U=") => "volume vol /data chown";
    u_mount_false: m("src=vol,dst=/data,U=false") => "volume vol /data";
}

bad! {
    u_twice: v("vol:/data:U,U") => "invalid mode: U,U";
    u_lower: v("vol:/data:u") => "invalid mode: u";
    u_mount_value: m("src=vol,dst=/data,U=yes") => "invalid argument \"src=vol,dst=/data,U=yes\" for \"--mount\" flag: 'U' or 'chown' must be set to true or false, instead received \"yes\"";
    u_mount_tmpfs: m("type=tmpfs,dst=/t,U") => "invalid argument \"type=tmpfs,dst=/t,U\" for \"--mount\" flag: the 'U' option applies to volume and bind mounts, not to type 'tmpfs'";
}
