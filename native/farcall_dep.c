/* farcall_dep.c — a library that farcall_uses_dep links against. The build puts it in its own
 * folder (native/build/deps/), off the loader's search path, so that loading farcall_uses_dep fails
 * with a "missing dependency" error unless that folder is added to LD_LIBRARY_PATH / PATH. */
#if defined(_WIN32)
#define FARCALL_EXPORT __declspec(dllexport)
#else
#define FARCALL_EXPORT __attribute__((visibility("default")))
#endif

FARCALL_EXPORT int farcall_dep_answer(void) { return 42; }
