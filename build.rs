//! Builds the Windows resources into kuroko's Windows programs: the manifest that declares
//! per-monitor DPI awareness and "run as the user" (windows/kuroko.rc). Nothing for other systems.

fn main() {
    println!("cargo:rerun-if-changed=windows/kuroko.rc");
    println!("cargo:rerun-if-changed=windows/kuroko.exe.manifest");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("windows") {
        embed_resource::compile("windows/kuroko.rc", embed_resource::NONE)
            .manifest_required()
            .unwrap_or_else(|e| panic!("embedding windows/kuroko.rc: {e}"));
    }
}
