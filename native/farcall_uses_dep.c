/* farcall_uses_dep.c — depends on libfarcall_dep (see farcall_dep.c). */
#if defined(_WIN32)
#define FARCALL_EXPORT __declspec(dllexport)
#else
#define FARCALL_EXPORT __attribute__((visibility("default")))
#endif

int farcall_dep_answer(void);

FARCALL_EXPORT int uses_dep_answer(void) { return farcall_dep_answer(); }
