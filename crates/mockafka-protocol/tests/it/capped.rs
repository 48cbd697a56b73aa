//! Reruns named tests of this binary in a child process whose address space is capped, so an
//! allocation sized from a wire count or a decompression bomb, which could otherwise succeed
//! lazily under overcommit, fails and aborts the child instead of passing unnoticed.

/// Runs `tests` (exact names) in a child of this test binary under `ulimit -v kib` and
/// asserts that every one of them passed.
#[cfg(target_os = "linux")]
pub(crate) fn run_capped(kib: u64, tests: &[&str]) {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(r#"ulimit -v {kib} && exec "$@""#))
        .arg("sh")
        .arg(exe)
        .args(["--exact", "--test-threads=1"])
        .args(tests)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("{} passed", tests.len())),
        "{stdout}"
    );
}
