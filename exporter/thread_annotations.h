// Clang thread-safety annotations (checked by the clang build with -Wthread-safety);
// no-ops for other compilers.
#pragma once

#if defined(__clang__)
#define BE_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define BE_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) BE_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY BE_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) BE_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) BE_THREAD_ANNOTATION(pt_guarded_by(x))
#define REQUIRES(...) BE_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) BE_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ACQUIRE(...) BE_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) BE_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) BE_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define NO_THREAD_SAFETY_ANALYSIS BE_THREAD_ANNOTATION(no_thread_safety_analysis)
