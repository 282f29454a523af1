//! How the client's process allocates: one heap, not one per thread.
//!
//! glibc's allocator gives each thread that allocates at the same time as another an arena
//! of its own, and an arena keeps the high-water mark of what was allocated in it. A first
//! download decodes each page (several MB of JSON values) on whichever runtime thread polls
//! it, while SQLite's connection threads fill their page caches in arenas of their own, so
//! the process ended up holding a page's worth of freed memory in two or three arenas: the
//! 100k first download's peak spread over 47–65 MiB from run to run, with 20 MB live at
//! most. In one arena the peak was 42–48 MiB at the same speed (BENCHMARKS.md, Tuning history
//! 2026-12-03). The client's threads seldom allocate at the same moment, so one arena's lock
//! costs nothing measurable here.

/// Keeps every later allocation of this process in glibc's main arena. Call it first thing
/// in `main`, before any thread starts; elsewhere than Linux with glibc it does nothing.
pub fn use_one_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    set_arena_max_to_one();
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn set_arena_max_to_one() {
    // SAFETY: `mallopt` only sets a parameter of glibc's allocator, takes no pointers, and is
    // safe to call at any time; M_ARENA_MAX limits the arenas created from now on. Refused
    // (it returns 0), the allocator keeps its defaults, which costs memory and nothing else.
    let _ = unsafe { libc::mallopt(libc::M_ARENA_MAX, 1) };
}
